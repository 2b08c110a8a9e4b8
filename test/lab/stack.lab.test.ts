import { defaultTeamId, deployStack, listStackTasks, SYSTEM_ACTOR } from "@berth/control";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { waitFor } from "../support/wait.ts";
import { describeLab, type LabWithControlPlane, startLabWithControlPlane, waitAllReady } from "./support.ts";

// A stack on real lab hosts: the control plane places, the agents run real containers (busybox, imported on
// every host); a published port answers on each host's own address; a dead host's tasks come back elsewhere.
const TTL_MS = 3000;
const TASK_LABEL = "berth.task.id";

describeLab("a stack on lab hosts", () => {
  let env: LabWithControlPlane;
  let teamId = "";
  const stack = `smoke-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    env = await startLabWithControlPlane({
      hosts: 3,
      hostTtlMs: TTL_MS,
      controlPlane: { orchestratorIntervalMs: 200 },
    });
    await Promise.all(env.lab.hosts.map((h) => h.importBusybox("busybox")));
    teamId = await defaultTeamId(env.cp.cp.database.db);
  });
  afterAll(async () => {
    await env?.stop();
  });

  const showLogsOnFailure = () =>
    onTestFailed(async () => {
      for (const host of env.lab.hosts) {
        process.stderr.write(
          `--- agent log of ${host.name} (tail)\n${(await host.agentLog()).slice(-4000)}\n`,
        );
      }
    });
  const running = async (service: string, count: number) => {
    const tasks = await listStackTasks(env.cp.cp.database.db, teamId, stack, { service });
    const up = tasks.filter((t) => t.observed === "running");
    return up.length === count ? up : null;
  };

  it("runs one replica per host of a published service, answering on every host's address", async () => {
    showLogsOnFailure();
    await waitAllReady(env);
    const db = env.cp.cp.database.db;
    await deployStack({ db, feed: env.cp.cp.feed }, SYSTEM_ACTOR, {
      teamId,
      yaml: `
name: ${stack}
services:
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: ["8080:8080"]
    deploy: { replicas: 3 }
  worker:
    image: busybox
    command: ["sleep", "3600"]
    deploy: { replicas: 3 }
`,
    });
    const web = await waitFor("three web tasks running", () => running("web", 3), 60_000);
    await waitFor("three worker tasks running", () => running("worker", 3), 60_000);
    expect(new Set(web.map((t) => t.hostId)).size).toBe(3);
    for (const host of env.lab.hosts) {
      const containers = await host.containers();
      expect(containers.filter((c) => c.status === "running")).toHaveLength(2);
      const other = env.lab.host((host.index + 1) % 3);
      const page = await other.http(`http://${host.address}:8080/passwd`);
      expect(page.status, `${other.name} → ${host.address}:8080: ${page.error}`).toBe(200);
    }
  });

  it("replaces a dead host's worker on the others, and the revived host stops what it no longer runs", async () => {
    showLogsOnFailure();
    const deadId = env.hostIds[2]!;
    const stale = (await env.lab.host(2).containers()).map((c) => c.config.labels?.[TASK_LABEL]);
    await env.lab.killHost(2);
    const killedAt = Date.now();
    const workers = await waitFor(
      "three worker tasks running, none on the dead host",
      async () => {
        const up = await running("worker", 3);
        return up?.every((t) => t.hostId !== deadId) ? up : null;
      },
      TTL_MS + 30_000,
    );
    process.stderr.write(
      `lab: a dead host's worker ran elsewhere ${Date.now() - killedAt} ms after the kill\n`,
    );
    expect(new Set(workers.map((t) => t.hostId))).toEqual(new Set([env.hostIds[0], env.hostIds[1]]));
    // Port 8080 is taken on the two live hosts: web keeps its two replicas there.
    expect((await running("web", 2))?.every((t) => t.hostId !== deadId)).toBe(true);

    await env.lab.reviveHost(2);
    await waitFor(
      "the revived host to stop the containers of its lost tasks",
      async () => {
        const left = (await env.lab.host(2).containers()).map((c) => c.config.labels?.[TASK_LABEL]);
        return stale.every((id) => !left.includes(id));
      },
      30_000,
    );
    await waitFor("three web tasks running again", () => running("web", 3), 30_000);
  });
});
