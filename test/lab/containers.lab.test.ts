import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { waitFor } from "../support/wait.ts";
import {
  describeLab,
  type LabWithControlPlane,
  processRunning,
  startLabWithControlPlane,
} from "./support.ts";

// Containers on lab hosts: each host's own runc root, cgroup parent and subnet; reachable across the lab
// bridge on a published port; surviving their host's death; gone after teardown.
describeLab("containers on lab hosts", () => {
  let env: LabWithControlPlane;
  let id = "";
  let conmonPid = 0;

  beforeAll(async () => {
    env = await startLabWithControlPlane({ hosts: 2 });
  });
  afterAll(async () => {
    await env?.stop();
  });

  const showLogsOnFailure = () =>
    onTestFailed(async () => {
      const host = env.lab.host(0);
      process.stderr.write(`--- agent log of ${host.name} (tail)\n${(await host.agentLog()).slice(-3000)}\n`);
    });

  it("a container published on host 0 answers host 1, with host 0's runc root, cgroup parent and subnet", async () => {
    showLogsOnFailure();
    const [h0, h1] = [env.lab.host(0), env.lab.host(1)];
    await h0.importBusybox();
    const run = await h0.agent(
      ["run", "-d", "--name", "web", "-p", "8080:8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc"],
      { timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    id = run.stdout.trim();
    const page = await waitFor(
      "host 1 to fetch /passwd from the container published on host 0",
      async () => {
        const r = await h1.http(`http://${h0.address}:8080/passwd`);
        return r.status === 200 ? r : null;
      },
      15_000,
    );
    expect(page.body).toContain("root:x:0:0");

    const [web] = await h0.containers();
    expect(web).toMatchObject({ id, name: "web", status: "running" });
    expect(web!.ipAddress).toMatch(/^10\.78\.0\.\d+$/);
    expect(await h1.containers()).toEqual([]);
    expect(existsSync(path.join(h0.layout.runcRoot, id))).toBe(true);
    const cgroupDirs = ["memory", "pids", ""].map((c) =>
      path.join("/sys/fs/cgroup", c, h0.layout.cgroupParent, id),
    );
    expect(
      cgroupDirs.some((d) => existsSync(d)),
      `one of ${cgroupDirs.join(", ")}`,
    ).toBe(true);
    conmonPid = Number(readFileSync(path.join(h0.stateDir, "containers", id, "conmon.pid"), "utf8"));
    expect(conmonPid).toBeGreaterThan(0);
  });

  it("the container outlives its dead host, unreachable, and answers again when the host returns", async () => {
    showLogsOnFailure();
    const [h0, h1] = [env.lab.host(0), env.lab.host(1)];
    await env.lab.killHost(0);
    expect(processRunning(conmonPid)).toBe(true);
    expect((await h1.http(`http://${h0.address}:8080/passwd`, 1000)).status).toBe(0);
    await env.lab.reviveHost(0);
    await waitFor(
      "the container on the revived host to answer again",
      async () => (await h1.http(`http://${h0.address}:8080/passwd`)).status === 200,
      15_000,
    );
    const ps = await h0.agent(["ps", "-q"]);
    expect(ps.stdout.split("\n")).toContain(id.slice(0, 12));
  });

  it("teardown removes the container, its conmon, mounts, cgroups and runc state", async () => {
    await env.lab.down();
    expect(await env.lab.leftovers()).toEqual([]);
    expect(processRunning(conmonPid)).toBe(false);
    expect(existsSync(env.lab.host(0).layout.runcRoot)).toBe(false);
    const cgroupDirs = ["memory", "pids", ""].map((c) =>
      path.join("/sys/fs/cgroup", c, env.lab.host(0).layout.cgroupParent),
    );
    expect(cgroupDirs.filter((d) => existsSync(d))).toEqual([]);
  });
});
