import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { Lab, leftovers, tearDown } from "../../infra/lab/src/index.ts";
import { AGENT_BIN, ensureBuilt } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";
import { describeLab, processRunning, TEST_LAB } from "./support.ts";

// `down` after a crash: the process that made the lab is gone and so is its record, a host's namespace is
// already deleted; agents still retry a control plane that is not there, a container runs. Everything must go, and a second `down` is a no-op.
describeLab("lab teardown after a crash", () => {
  let lab: Lab | null = null;
  afterAll(async () => {
    if (lab) await lab.down().catch(() => {});
  });

  it("removes agents, containers, mounts, cgroups, namespaces, links and the rule without the lab's record", async () => {
    ensureBuilt(AGENT_BIN, "@berth/agent");
    lab = await Lab.create({ ...TEST_LAB, hosts: 2, replace: true });
    // Nothing listens on port 1: the agents keep retrying, as after a control plane's crash.
    await lab
      .startAgents({ server: `http://${lab.gateway}:1`, joinToken: `bjt_${"x".repeat(40)}` }, 0)
      .catch(() => {});
    const h0 = lab.host(0);
    await h0.importBusybox();
    const run = await h0.agent(["run", "-d", "-p", "8080:8080", "busybox", "httpd", "-f", "-p", "8080"], {
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const conmon = Number(readFileSync(path.join(h0.stateDir, "containers", id, "conmon.pid"), "utf8"));
    const agents = [lab.agentPid(0), lab.agentPid(1)];
    await waitFor(
      "both agents to be retrying the control plane",
      () => lab!.agentRunning(0) && lab!.agentRunning(1),
    );
    expect(agents.every((p) => p !== null)).toBe(true);

    await rm(lab.layout.recordFile); // the crash: nobody remembers what was made,
    execFileSync("ip", ["netns", "delete", h0.name]); // and a first `down` got as far as host 0's namespace
    await tearDown(lab.layout);
    expect(await leftovers(lab.layout)).toEqual([]);
    // Gone, or a zombie its new parent (init) has yet to reap.
    for (const pid of [...agents, conmon]) expect(processRunning(pid!), `pid ${pid} still runs`).toBe(false);
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(TEST_LAB.name);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(lab.layout.dir);

    await tearDown(lab.layout); // idempotent
    expect(await leftovers(lab.layout)).toEqual([]);
    lab = null;
  });
});
