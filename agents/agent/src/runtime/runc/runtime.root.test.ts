import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runProgram } from "../../exec.ts";
import { createTestEngine, type TestEngine } from "../../testing/engine.ts";
import { describeRoot } from "../../testing/root.ts";
import { until as waitFor } from "../../testing/wait.ts";
import { captureStream, contractConfig } from "../contract/helpers.ts";
import type { ContainerConfig, ContainerRuntime } from "../types.ts";

// Real containers, proven from inside and outside: the issue's list.
let engine: TestEngine;
let rt: ContainerRuntime;

/** A busybox container on the bridge network running `command`. */
function config(command: string[], over: Partial<ContainerConfig> = {}): ContainerConfig {
  return contractConfig("busybox", { network: "bridge", command, ...over });
}

async function run(command: string[], over: Partial<ContainerConfig> = {}) {
  const c = await rt.create(config(command, over));
  await rt.start(c.id);
  return c.id;
}

async function output(id: string): Promise<string> {
  const lines: string[] = [];
  for await (const l of rt.logs(id)) lines.push(l.line);
  return lines.join("\n");
}

const cpuNs = async (id: string) => (await rt.stats(id)).cpuUsageNs;

describeRoot("runc runtime (real containers)", () => {
  beforeAll(async () => {
    engine = await createTestEngine();
    rt = engine.runtime;
  }, 60_000);
  afterAll(() => engine?.cleanup(), 60_000);

  it("runs the command as PID 1 with the container's hostname", async () => {
    const id = await run(["sh", "-c", "echo pid=$$; hostname"], { hostname: "box-one" });
    expect(await rt.wait(id)).toBe(0);
    expect(await output(id)).toBe("pid=1\nbox-one");
  });

  it("reports a container killed by its memory limit as OOM", async () => {
    const id = await run(["sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"], {
      resources: { memoryBytes: 32 * 1024 * 1024 },
    });
    expect(await rt.wait(id)).toBe(137);
    const info = await waitFor("the exit to be recorded", async () => {
      const i = await rt.inspect(id);
      return i.status === "stopped" ? i : null;
    });
    expect(info).toMatchObject({ exitCode: 137, oomKilled: true });
  });

  it("stops a fork bomb at the pids limit, and the host is unharmed", async () => {
    const id = await run(["sleep", "60"], { resources: { pidsLimit: 20 } });
    const out = captureStream();
    // The bomb runs beside the container's main process, in its cgroup.
    const code = await rt.exec(
      id,
      { command: ["sh", "-c", "for i in $(seq 1 200); do sleep 30 & done; echo all-forked"], tty: false },
      { stdout: out, stderr: out },
    );
    expect(code).not.toBe(0);
    expect(out.text()).toMatch(/can't fork|unavailable/i);
    expect(out.text()).not.toContain("all-forked");
    const stats = await rt.stats(id);
    expect(stats.pids).toBeLessThanOrEqual(20);
    expect(stats.pids).toBeGreaterThanOrEqual(15);
    expect((await runProgram("sh", ["-c", "echo host-ok"])).trim()).toBe("host-ok");
    await rt.remove(id, { force: true });
  });

  it("holds a busy loop near its CPU quota", async () => {
    const id = await run(["sh", "-c", "while :; do :; done"], { resources: { cpus: 0.25 } });
    await new Promise((r) => setTimeout(r, 300));
    const before = await cpuNs(id);
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 2000));
    const share = (await cpuNs(id)) - before;
    const elapsed = Number(process.hrtime.bigint() - t0);
    expect(share / elapsed).toBeGreaterThan(0.1);
    expect(share / elapsed).toBeLessThan(0.35);
    await rt.remove(id, { force: true });
  });

  it("refuses mount and unshare inside (dropped capabilities and seccomp)", async () => {
    const id = await run([
      "sh",
      "-c",
      "mount -t tmpfs none /mnt; echo mount=$?; unshare -U true; echo unshare=$?; unshare -m true; echo unshare_m=$?",
    ]);
    await rt.wait(id);
    const out = await output(id);
    expect(out).toMatch(/mount=[1-9]/);
    expect(out).toMatch(/unshare=[1-9]/);
    expect(out).toMatch(/unshare_m=[1-9]/);
    expect(out).toMatch(/Operation not permitted|Permission denied/);
  });

  it("answers on a published port from the host", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const id = await run(["sh", "-c", "echo hello-from-berth > /tmp/index.html; httpd -f -p 8080 -h /tmp"], {
      ports: [{ hostIp: "127.0.0.1", hostPort: port, containerPort: 8080, protocol: "tcp" }],
    });
    const body = await waitFor("the published port to answer", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`).catch(() => null);
      return res?.ok ? res.text() : null;
    });
    expect(body.trim()).toBe("hello-from-berth");
    await rt.remove(id, { force: true });
  });

  it("keeps two containers from seeing each other's processes and files", async () => {
    const a = await run(["sh", "-c", "echo secret > /tmp/a-secret; sleep 60"]);
    await waitFor("container a to write its file", async () => {
      const out = captureStream();
      await rt.exec(a, { command: ["cat", "/tmp/a-secret"], tty: false }, { stdout: out, stderr: out });
      return out.text().includes("secret");
    });
    const b = await run([
      "sh",
      "-c",
      "ls /proc | grep -c '^[0-9]'; ls /tmp; test -e /tmp/a-secret && echo SEEN",
    ]);
    await rt.wait(b);
    const out = await output(b);
    expect(out.split("\n")[0]).toMatch(/^[1-3]$/); // its own sh (and ls, grep) only
    expect(out).not.toContain("SEEN");
    await rt.remove(a, { force: true });
  });

  it("keeps a container running when the agent is killed, and a new agent carries on", async () => {
    const name = `survivor${process.pid}`;
    const attached = spawn(process.execPath, [
      ...engine.agent.slice(1),
      "run",
      "--name",
      name,
      "busybox",
      "sh",
      "-c",
      "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done",
    ]);
    const id = await waitFor("the attached run to start the container", async () => {
      const c = (await rt.list()).find((x) => x.name === name);
      return c?.status === "running" ? c.id : null;
    });
    attached.kill("SIGKILL");
    await new Promise((r) => attached.once("exit", r));
    const before = (await output(id)).split("\n").length;
    await new Promise((r) => setTimeout(r, 600));
    // A fresh runtime (a restarted agent) finds it running and its log still growing.
    const info = await rt.inspect(name);
    expect(info.status).toBe("running");
    expect(existsSync(`/proc/${info.pid}`)).toBe(true);
    expect((await output(id)).split("\n").length).toBeGreaterThan(before);
    const stopped = await rt.stop(name, { timeoutMs: 2000 });
    expect(stopped.status).toBe("stopped");
    expect(existsSync(`/proc/${info.pid}`)).toBe(false);
  });

  it("leaves no veth, netns, iptables rule, mount or cgroup behind after removal", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const id = await run(["sleep", "60"], {
      ports: [{ hostPort: port, containerPort: 80, protocol: "tcp" }],
      resources: { memoryBytes: 64 * 1024 * 1024 },
    });
    const info = await rt.inspect(id);
    const ip = info.ipAddress!;
    expect(ip).toBeTruthy();
    const short = id.slice(0, 12);
    expect(await runProgram("iptables-save", [])).toContain(ip);
    await rt.remove(id, { force: true });
    expect(await runProgram("ip", ["netns", "list"])).not.toContain(short);
    expect(await runProgram("iptables-save", [])).not.toContain(`${ip}/`);
    expect(await runProgram("iptables-save", [])).not.toContain(id);
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(id);
    const links = await runProgram("ip", ["-o", "link", "show", "master", engine.bridge]).catch(() => "");
    expect(links).not.toMatch(/veth/);
    const cgroupsPath = `/sys/fs/cgroup/memory${(await import("../spec/index.ts")).cgroupsPathFor(id, `berth-test-${engine.bridge.slice(2)}`)}`;
    expect(existsSync(cgroupsPath)).toBe(false);
    expect(existsSync(`${engine.stateDir}/containers/${id}`)).toBe(false);
  });

  it("restarts on failure with growing back-off, up to the maximum", async () => {
    const id = await run(["sh", "-c", "echo run; exit 1"], {
      restart: { name: "on-failure", maxRetries: 2 },
    });
    const info = await waitFor(
      "two restarts, then a stop",
      async () => {
        const i = await rt.inspect(id);
        return i.restartCount === 2 && i.status === "stopped" ? i : null;
      },
      15_000,
    );
    expect(info.exitCode).toBe(1);
    expect((await output(id)).split("\n").filter((l) => l === "run").length).toBe(3);
  });

  it("gives run -it and exec -it a real terminal, and passes exit codes on", async () => {
    const id = await run(["sleep", "60"]);
    // `script` gives the agent a pseudo-terminal, as a user's terminal would.
    const agent = engine.agent.map((a) => `'${a}'`).join(" ");
    const viaScript = async (command: string) => {
      const r = spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8", timeout: 30_000 });
      return { code: r.status, out: r.stdout };
    };
    const exec = await viaScript(`${agent} exec -it ${id} sh -c 'tty; exit 4'`);
    expect(exec.out).toMatch(/\/dev\/pts\/\d+/);
    expect(exec.code).toBe(4);
    const runIt = await viaScript(`${agent} run -it --rm busybox sh -c 'tty; echo pid=$$; exit 6'`);
    expect(runIt.out).toMatch(/\/dev\/pts\/\d+/);
    expect(runIt.out).toContain("pid=1");
    expect(runIt.code).toBe(6);
    await rt.remove(id, { force: true });
  });
});
