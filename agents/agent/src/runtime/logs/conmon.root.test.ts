/**
 * The log readers and rotation against a real writer: conmon (Debian's)
 * monitoring a busybox container under runc, writing the k8s-file log.
 * Needs root, runc, conmon and busybox-static.
 */
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProgram } from "../../exec.ts";
import { EXTRA_BIN_DIRS, findExecutable } from "../../facts.ts";
import { AsyncQueue } from "../../testing/wait.ts";
import { waitFor } from "../contract/helpers.ts";
import type { LogLine } from "../types.ts";
import { readLogs } from "./read.ts";
import { rotateIfNeeded } from "./rotate.ts";

const tools = await Promise.all(
  ["runc", "conmon", "busybox"].map((name) => findExecutable(name, EXTRA_BIN_DIRS)),
);
const [runc, conmon, busybox] = tools;
const ready = process.getuid?.() === 0 && tools.every(Boolean);
const SCRIPT = "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.05; done";

describe.skipIf(!ready)("logs written by conmon (root; runc, conmon, busybox-static)", () => {
  const id = `berth-logtest-${process.pid}`;
  let dir: string;
  let log: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-conmon-"));
    log = path.join(dir, "ctr.log");
    await makeBundle(path.join(dir, "bundle"), id);
    const run = path.join(dir, "run");
    await runProgram("mkdir", [run]);
    await runProgram(conmon!, [
      ...["--api-version", "1", "-c", id, "-u", id, "-r", runc!, "-b", path.join(dir, "bundle")],
      ...["-p", path.join(run, "pid"), "-n", id, "--exit-dir", run, "--socket-dir-path", run],
      ...["-l", `k8s-file:${log}`, "--conmon-pidfile", path.join(run, "conmon.pid")],
    ]);
    await waitFor(
      () => state(id),
      (s) => s === "created",
      "runc to report the container created",
    );
    await runProgram(runc!, ["start", id]);
  });

  afterAll(async () => {
    await runProgram(runc!, ["delete", "--force", id]).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("follows conmon's log across copytruncate rotations, in order, without duplicates or holes", async () => {
    const abort = new AbortController();
    const queue = new AsyncQueue<LogLine>();
    const reading = (async () => {
      for await (const line of readLogs(log, { follow: true, signal: abort.signal, pollIntervalMs: 50 })) {
        queue.push(line);
      }
    })();
    const stdout: number[] = [];
    const stderr: number[] = [];
    const take = async (count: number) => {
      while (stdout.length < count) {
        const line = await queue.next(`stdout line ${count} from conmon`, 5000);
        (line.stream === "stdout" ? stdout : stderr).push(Number(line.line.split(" ")[1]));
      }
    };
    await take(5);
    expect(await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 3 })).toBe(true);
    await take(15);
    expect(await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 3 })).toBe(true);
    await take(25);
    abort.abort();
    await reading;

    expect(stdout.every((n, i) => i === 0 || n > stdout[i - 1]!)).toBe(true);
    // copytruncate can lose what is written between the copy and the truncation: at most a line or two here.
    expect(stdout.at(-1)! - stdout[0]! + 1 - stdout.length).toBeLessThanOrEqual(2);
    expect(stderr.length).toBeGreaterThan(10);
    expect((await readFile(log))[0]).not.toBe(0); // conmon writes with O_APPEND: no hole after a truncation
    const tail = [];
    for await (const line of readLogs(log, { tail: 4 })) tail.push(line);
    expect(tail).toHaveLength(4);
  });
});

async function state(id: string): Promise<string> {
  const out = await runProgram(runc!, ["state", id]).catch(() => "{}");
  return (JSON.parse(out) as { status?: string }).status ?? "absent";
}

async function makeBundle(bundle: string, id: string): Promise<void> {
  const bin = path.join(bundle, "rootfs", "bin");
  await runProgram("mkdir", ["-p", bin]);
  await copyFile(busybox!, path.join(bin, "busybox"));
  for (const name of ["sh", "echo", "sleep"]) await symlink("busybox", path.join(bin, name));
  await runProgram(runc!, ["spec", "--bundle", bundle]);
  const configPath = path.join(bundle, "config.json");
  const config = JSON.parse(await readFile(configPath, "utf8"));
  config.process.terminal = false;
  config.process.args = ["sh", "-c", SCRIPT];
  config.process.rlimits = [];
  config.root.readonly = true;
  config.linux.cgroupsPath = `/${id}`;
  await writeFile(configPath, JSON.stringify(config));
}
