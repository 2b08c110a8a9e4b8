import { describe, expect, it } from "vitest";
import { containerNameFor, specHash, TASK_LABELS, toContainerConfig } from "./container-config.ts";
import { desiredTask } from "./testing.ts";

const check = (test: string[]) => ({ test, intervalMs: 0, timeoutMs: 2000, retries: 3, startPeriodMs: 0 });

describe("task → container config", () => {
  it("names the container after the task and its id, within the runtime's rules", () => {
    expect(containerNameFor(desiredTask(2))).toBe("shop_web.2.task_2");
    const long = desiredTask(1, {}, { name: `x${"y".repeat(199)}`, taskId: "t/with:odd chars" });
    const name = containerNameFor(long);
    expect(name.length).toBeLessThanOrEqual(128);
    expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*\.t-with-odd-chars$/);
  });

  it("maps health checks as Compose writes them; NONE means none; a zero interval is Docker's 30 s", () => {
    const shell = toContainerConfig(
      desiredTask(1, { healthcheck: check(["CMD-SHELL", "wget -qO- localhost"]) }),
    );
    expect(shell.healthcheck).toMatchObject({
      kind: "exec",
      command: ["/bin/sh", "-c", "wget -qO- localhost"],
      intervalMs: 30_000,
      timeoutMs: 2000,
    });
    const exec = toContainerConfig(desiredTask(1, { healthcheck: check(["CMD", "true", "x"]) }));
    expect(exec.healthcheck?.command).toEqual(["true", "x"]);
    expect(
      toContainerConfig(desiredTask(1, { healthcheck: check(["NONE", ""]) })).healthcheck,
    ).toBeUndefined();
  });

  it("publishes only ports with a published port, keeps mounts, and labels override nothing of Berth's", () => {
    const config = toContainerConfig(
      desiredTask(1, {
        ports: [
          { target: 80, published: 8080, protocol: "tcp", hostIp: "127.0.0.1" },
          { target: 53, protocol: "udp" },
        ],
        mounts: [
          { type: "volume", source: "shop_data", target: "/data", readOnly: true },
          { type: "bind", source: "/srv/conf", target: "/conf", readOnly: false },
          { type: "tmpfs", target: "/run", sizeBytes: 1024 },
        ],
        labels: { [TASK_LABELS.taskId]: "spoofed", team: "a" },
        user: "nobody",
        workingDir: "/app",
        readOnly: true,
      }),
    );
    expect(config.ports).toEqual([
      { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" },
    ]);
    expect(config.mounts).toEqual([
      { type: "volume", source: "shop_data", target: "/data", readOnly: true },
      { type: "bind", source: "/srv/conf", target: "/conf", readOnly: false },
      { type: "tmpfs", source: "", target: "/run", readOnly: false },
    ]);
    expect(config.labels).toMatchObject({ [TASK_LABELS.taskId]: "task_1", team: "a" });
    expect(config).toMatchObject({
      user: "nobody",
      workdir: "/app",
      readOnlyRootfs: true,
      autoRemove: false,
    });
  });

  it("hashes the spec whatever the order of its keys", () => {
    const a = desiredTask(1, { env: { A: "1", B: "2" } });
    const b = desiredTask(1, { env: { B: "2", A: "1" } });
    expect(specHash(a)).toBe(specHash(b));
    expect(specHash(a)).not.toBe(specHash(desiredTask(1, { env: { A: "1", B: "3" } })));
  });
});
