/**
 * The behaviour every ContainerRuntime must have — the real one (runc under
 * conmon) and the simulated one hollow agents use. A runtime's test file
 * calls `runtimeContract(name, makeRuntime)`. Commands stay within what a
 * busybox rootfs has (sh, echo, sleep, true, false).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withTimeout } from "../../testing/wait.ts";
import type { ContainerConfig, ContainerInfo, ContainerRuntime } from "../types.ts";
import { captureStream, collectLogs, contractConfig, errorCode, uniqueName, waitFor } from "./helpers.ts";

export interface ContractSubject {
  runtime: ContainerRuntime;
  /** An image with busybox's sh, echo, sleep, true and false. */
  image: string;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Per-test timeout (default 20 s). */
  testTimeoutMs?: number;
}

export function runtimeContract(
  name: string,
  makeRuntime: () => Promise<ContractSubject>,
  options: ContractOptions = {},
): void {
  const timeout = options.testTimeoutMs ?? 20_000;

  describe(`ContainerRuntime contract: ${name}`, () => {
    let subject: ContractSubject;
    let rt: ContainerRuntime;
    const created: string[] = [];

    beforeAll(async () => {
      subject = await makeRuntime();
      rt = subject.runtime;
    }, timeout);
    afterEach(async () => {
      for (const id of created.splice(0)) await rt.remove(id, { force: true }).catch(() => {});
    }, timeout);
    afterAll(async () => {
      await subject?.cleanup();
    }, timeout);

    const create = async (over: Partial<ContainerConfig> = {}): Promise<ContainerInfo> => {
      const info = await rt.create(contractConfig(subject.image, over));
      created.push(info.id);
      return info;
    };
    const run = async (over: Partial<ContainerConfig> = {}): Promise<ContainerInfo> =>
      rt.start((await create(over)).id);
    const sh = (script: string) => ({ command: ["sh", "-c", script] });
    const settled = (id: string, what: string) => withTimeout(rt.wait(id), 10_000, what);

    it(
      "create gives a created container that inspect finds by id, id prefix and name",
      async () => {
        const info = await create();
        expect(info).toMatchObject({ status: "created", pid: null, exitCode: null, restartCount: 0 });
        expect(info.id).toMatch(/^[0-9a-f]{12,}$/);
        expect((await rt.inspect(info.id)).name).toBe(info.name);
        expect((await rt.inspect(info.id.slice(0, 12))).id).toBe(info.id);
        expect((await rt.inspect(info.name)).id).toBe(info.id);
      },
      timeout,
    );

    it(
      "start runs it with a pid; list shows running containers, or all of them",
      async () => {
        const running = await run();
        expect(running.status).toBe("running");
        expect(running.pid).toBeGreaterThan(0);
        expect(running.startedAt).not.toBeNull();
        const idle = await create();
        const listed = (await rt.list()).map((c) => c.id);
        expect(listed).toContain(running.id);
        expect(listed).not.toContain(idle.id);
        const all = (await rt.list({ all: true })).map((c) => c.id);
        expect(all).toEqual(expect.arrayContaining([running.id, idle.id]));
      },
      timeout,
    );

    it(
      "a command exiting 3: wait resolves 3, status stopped with exit code 3",
      async () => {
        const info = await run(sh("exit 3"));
        expect(await settled(info.id, "the container to exit 3")).toBe(3);
        expect(await rt.inspect(info.id)).toMatchObject({
          status: "stopped",
          exitCode: 3,
          pid: null,
          oomKilled: false,
        });
        expect((await rt.inspect(info.id)).finishedAt).not.toBeNull();
        expect(await rt.wait(info.id)).toBe(3); // an exited container answers at once
      },
      timeout,
    );

    it(
      "stop with a short timeout stops a long-running container (its signal, or SIGKILL)",
      async () => {
        const info = await run();
        const stopped = await withTimeout(rt.stop(info.id, { timeoutMs: 1000 }), 10_000, "stop to return");
        expect(stopped).toMatchObject({ status: "stopped", pid: null });
        expect([137, 143]).toContain(stopped.exitCode);
        expect(await rt.wait(info.id)).toBe(stopped.exitCode);
      },
      timeout,
    );

    it(
      "kill with SIGKILL ends it with exit code 137",
      async () => {
        const info = await run();
        await rt.kill(info.id, "SIGKILL");
        expect(await settled(info.id, "the killed container to stop")).toBe(137);
        expect((await rt.inspect(info.id)).status).toBe("stopped");
      },
      timeout,
    );

    it(
      "remove: the container is gone (NotFound) and no longer listed",
      async () => {
        const info = await run(sh("true"));
        await settled(info.id, "the container to exit");
        await rt.remove(info.id);
        expect(await errorCode(rt.inspect(info.id))).toBe("NotFound");
        expect((await rt.list({ all: true })).map((c) => c.id)).not.toContain(info.id);
        const never = await create();
        await rt.remove(never.name);
        expect(await errorCode(rt.inspect(never.id))).toBe("NotFound");
      },
      timeout,
    );

    it(
      "removing a running container fails FailedPrecondition unless forced",
      async () => {
        const info = await run();
        expect(await errorCode(rt.remove(info.id))).toBe("FailedPrecondition");
        expect((await rt.inspect(info.id)).status).toBe("running");
        await rt.remove(info.id, { force: true });
        expect(await errorCode(rt.inspect(info.id))).toBe("NotFound");
      },
      timeout,
    );

    it(
      "refuses invalid moves and unknown containers",
      async () => {
        const info = await run();
        expect(await errorCode(rt.start(info.id))).toBe("FailedPrecondition");
        const idle = await create();
        expect(await errorCode(rt.exec(idle.id, { command: ["true"], tty: false }, quiet()))).toBe(
          "FailedPrecondition",
        );
        const unknown = uniqueName("missing");
        expect(await errorCode(rt.inspect(unknown))).toBe("NotFound");
        expect(await errorCode(rt.start(unknown))).toBe("NotFound");
        expect(await errorCode(rt.remove(unknown, { force: true }))).toBe("NotFound");
        expect(await errorCode(collectLogs(rt, unknown))).toBe("NotFound");
      },
      timeout,
    );

    it(
      "a second container with the same name is a Conflict",
      async () => {
        const info = await create();
        expect(await errorCode(create({ name: info.name }))).toBe("Conflict");
      },
      timeout,
    );

    it(
      "logs keep stdout and stderr apart, with times",
      async () => {
        const info = await run(sh("echo hello; echo err >&2"));
        await settled(info.id, "the container to exit");
        const lines = await collectLogs(rt, info.id);
        expect(lines.map(({ stream, line }) => ({ stream, line }))).toEqual(
          expect.arrayContaining([
            { stream: "stdout", line: "hello" },
            { stream: "stderr", line: "err" },
          ]),
        );
        expect(lines).toHaveLength(2);
        for (const line of lines) expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      },
      timeout,
    );

    it(
      "logs with tail 1 give the last line",
      async () => {
        const info = await run(sh("echo one; echo two; echo three"));
        await settled(info.id, "the container to exit");
        expect((await collectLogs(rt, info.id, { tail: 1 })).map((l) => l.line)).toEqual(["three"]);
        expect((await collectLogs(rt, info.id)).map((l) => l.line)).toEqual(["one", "two", "three"]);
      },
      timeout,
    );

    it(
      "logs with follow yield lines as they are written and end when the container exits",
      async () => {
        const info = await run(sh("echo first; sleep 1; echo second"));
        const signal = AbortSignal.timeout(10_000);
        const lines = await withTimeout(
          collectLogs(rt, info.id, { follow: true, signal }),
          10_000,
          "follow to end",
        );
        expect(lines.map((l) => l.line)).toEqual(["first", "second"]);
        expect(signal.aborted).toBe(false);
      },
      timeout,
    );

    it(
      "restart policy on-failure:2 restarts twice, then leaves it stopped",
      async () => {
        const info = await run({ ...sh("exit 1"), restart: { name: "on-failure", maxRetries: 2 } });
        const done = (c: ContainerInfo) => c.restartCount === 2 && c.status === "stopped";
        await waitFor(() => rt.inspect(info.id), done, "restartCount 2 and stopped");
        // A third restart would come 400 ms after the third exit: give it time, it must not happen.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(await rt.inspect(info.id)).toMatchObject({ status: "stopped", restartCount: 2, exitCode: 1 });
      },
      timeout,
    );

    it(
      "exec runs a command in a running container and reports its exit code and output",
      async () => {
        const info = await run();
        const out = captureStream();
        const err = captureStream();
        expect(
          await rt.exec(info.id, { command: ["echo", "hi"], tty: false }, { stdout: out, stderr: err }),
        ).toBe(0);
        expect(out.text()).toBe("hi\n");
        const code = await rt.exec(
          info.id,
          { command: ["sh", "-c", "echo oops >&2; exit 4"], tty: false },
          { stdout: out, stderr: err },
        );
        expect(code).toBe(4);
        expect(err.text()).toBe("oops\n");
      },
      timeout,
    );

    it(
      "restart runs a running container again",
      async () => {
        const info = await run({ stopTimeoutMs: 1000 }); // sleep as PID 1 ignores SIGTERM
        const again = await withTimeout(rt.restart(info.id), 15_000, "restart to return");
        expect(again.status).toBe("running");
        expect(again.pid).toBeGreaterThan(0);
        expect(again.pid).not.toBe(info.pid);
      },
      timeout,
    );

    it(
      "stats of a running container count its process and memory",
      async () => {
        const info = await run();
        const stats = await rt.stats(info.id);
        expect(stats.pids).toBeGreaterThanOrEqual(1);
        expect(stats.memoryBytes).toBeGreaterThan(0);
        expect(stats.cpuUsageNs).toBeGreaterThanOrEqual(0);
      },
      timeout,
    );

    it(
      "an autoRemove container disappears after it exits",
      async () => {
        const info = await run({ command: ["true"], autoRemove: true });
        await waitFor(
          () => errorCode(rt.inspect(info.id)),
          (code) => code === "NotFound",
          "the container to be removed",
        );
      },
      timeout,
    );
  });
}

function quiet() {
  return { stdout: captureStream(), stderr: captureStream() };
}
