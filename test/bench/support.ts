/** What the benchmarks share: checking for a program, timing one run of it, a free port, a median. */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

/** Throw, naming the Debian package, when `program` is not on PATH. */
export function need(program: string, pkg: string): void {
  if (spawnSync("sh", ["-c", 'command -v "$1"', "sh", program]).status !== 0) {
    throw new Error(`${program} is missing: apt-get install -y ${pkg}`);
  }
}

/**
 * Seconds one run of a program takes, spawn to exit; throws with its stderr
 * when it fails. Async, so a server in this very process keeps serving.
 */
export function timed(program: string, args: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) {
        reject(
          new Error(`${program} ${args.join(" ")} failed (${signal ?? `exit code ${code}`}): ${stderr}`),
        );
      } else resolve(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

export { freePort } from "../support/ports.ts";

/** The middle value (the upper one of the two middles for an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Prints the header of a table of timed series and returns the row printer: a series' median in
 * seconds, its throughput for `mb` megabytes (MiB), and every run.
 */
export function seriesTable(mb: number): (name: string, runs: number[]) => void {
  process.stdout.write("series                  median s    MB/s   each run, s\n");
  return (name, runs) => {
    const s = median(runs);
    const each = runs.map((t) => t.toFixed(2)).join(" ");
    process.stdout.write(
      `${name.padEnd(22)}${s.toFixed(2).padStart(10)}${(mb / s).toFixed(0).padStart(8)}   ${each}\n`,
    );
  };
}

/**
 * Writes back what earlier steps left dirty and, when `drop`, empties the page cache and reads back
 * in every file under `dirs`, the `programs` on PATH and the `files`: the next timed step then
 * pays neither another's write-back nor the disk.
 */
export function settleCaches(
  drop: boolean,
  warm: { dirs: string[]; programs: string[]; files: string[] },
): void {
  spawnSync("sync");
  if (!drop) return;
  writeFileSync("/proc/sys/vm/drop_caches", "3\n");
  for (const dir of warm.dirs)
    spawnSync("sh", ["-c", 'find "$1" -type f -exec cat {} + >/dev/null', "sh", dir]);
  const onPath = warm.programs.map((p) => `$(command -v ${p})`).join(" ");
  spawnSync("sh", ["-c", `cat "$@" ${onPath} >/dev/null`, "sh", ...warm.files]);
}
