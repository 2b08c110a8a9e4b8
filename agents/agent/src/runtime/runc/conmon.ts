import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { BerthError } from "@berth/protocol";
import type { ContainerPaths } from "./paths.ts";

export interface ConmonOptions {
  conmonBinary: string;
  runcBinary: string;
  runcRoot: string;
  socketDir: string;
  id: string;
  name: string;
  paths: ContainerPaths;
  tty: boolean;
  /** Program and arguments conmon runs once the container has exited. */
  exitCommand: string[];
  timeoutMs?: number;
}

async function readPid(file: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(file, "utf8")).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function tail(file: string, chars = 2000): Promise<string> {
  return (await readFile(file, "utf8").catch(() => "")).trim().slice(-chars);
}

/** The last error runc logged (JSON lines), without its Go-internal prefixes. */
async function runtimeError(file: string): Promise<string> {
  const lines = (await readFile(file, "utf8").catch(() => "")).trim().split("\n").reverse();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === "error" && entry.msg) {
        return entry.msg
          .replace(/^runc (create|run) failed: /, "")
          .replace(/^unable to start container process: /, "");
      }
    } catch {}
  }
  return "";
}

/**
 * Start conmon for a container and wait until runc has created it (its pid
 * file appears). conmon then lives on, detached in its own session, holding
 * the container's stdio (into the log file) and writing its exit code when it
 * ends — so the container outlives the agent. Its own stderr goes to a file,
 * never to a pipe of ours: a pipe would break when we exit, and conmon with it.
 */
export async function startConmon(o: ConmonOptions): Promise<{ pid: number }> {
  const p = o.paths;
  await Promise.all([
    mkdir(p.exitDir, { recursive: true }),
    mkdir(p.persistDir, { recursive: true }),
    mkdir(o.socketDir, { recursive: true, mode: 0o700 }),
  ]);
  const [exitProgram, ...exitArgs] = o.exitCommand;
  // biome-ignore format: flag and value pairs read best side by side
  const args = [
    "--api-version", "1",
    "-c", o.id,
    "-u", o.id,
    "-n", o.name,
    "-r", o.runcBinary,
    "--runtime-arg", "--root",
    "--runtime-arg", o.runcRoot,
    "--runtime-arg", "--log",
    "--runtime-arg", p.runtimeLog,
    "--runtime-arg", "--log-format",
    "--runtime-arg", "json",
    "-b", p.bundle,
    "-p", p.pidFile,
    "--conmon-pidfile", p.conmonPidFile,
    "--exit-dir", p.exitDir,
    "--persist-dir", p.persistDir,
    "--socket-dir-path", o.socketDir,
    "-l", `k8s-file:${p.log}`,
    "--log-level", "warning",
    ...(o.tty ? ["-t"] : []),
    ...(exitProgram ? ["--exit-command", exitProgram, ...exitArgs.flatMap((a) => ["--exit-command-arg", a])] : []),
  ];
  const errFd = openSync(p.conmonLog, "a", 0o600);
  try {
    const child = spawn(o.conmonBinary, args, { stdio: ["ignore", "ignore", errFd], detached: true });
    await new Promise<void>((resolve, reject) => {
      child.once("error", (err) =>
        reject(
          new BerthError(
            "FailedPrecondition",
            `cannot run conmon (${o.conmonBinary}): ${err.message}; install the conmon package`,
          ),
        ),
      );
      child.once("exit", () => resolve());
    });
  } finally {
    closeSync(errFd);
  }
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (let wait = 2; ; wait = Math.min(wait * 2, 20)) {
    const pid = await readPid(p.pidFile);
    if (pid) return { pid };
    const monitor = await readPid(p.conmonPidFile);
    if ((monitor !== null && !alive(monitor)) || Date.now() > deadline) {
      const why =
        (await runtimeError(p.runtimeLog)) || (await tail(p.conmonLog)) || (await tail(p.log)) || "no output";
      // A command that is not in the image is the user's to fix, not ours.
      const code = /executable file not found|no such file or directory/i.test(why) ? "NotFound" : "Internal";
      throw new BerthError(code, `the container could not be created: ${why}`);
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The pid runc writes once the container's process exists (polled; null after the timeout). */
export async function waitForPidFile(file: string, timeoutMs = 30_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 2; Date.now() < deadline; wait = Math.min(wait * 2, 20)) {
    const pid = await readPid(file);
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, wait));
  }
  return null;
}
