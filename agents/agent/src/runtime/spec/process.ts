import { BerthError } from "@berth/protocol";
import { DEFAULT_PATH } from "./defaults.ts";
import type { SpecOpt } from "./types.ts";
import { EMPTY_USER_DB, resolveUser, type UserDb } from "./user.ts";

function envKey(entry: string): string {
  const eq = entry.indexOf("=");
  return eq === -1 ? entry : entry.slice(0, eq);
}

/** Set `entry` ("KEY=value"), replacing an entry with the same key. */
function putEnv(env: string[], entry: string): void {
  const key = envKey(entry);
  const at = env.findIndex((e) => envKey(e) === key);
  if (at === -1) env.push(entry);
  else env[at] = entry;
}

function hasEnv(env: readonly string[], key: string): boolean {
  return env.some((e) => envKey(e) === key);
}

function checkNoNul(what: string, value: string): void {
  if (value.includes("\0")) throw new BerthError("InvalidArgument", `${what} contains a NUL byte`);
}

/** The command the container runs (argv[0] is looked up in the container's PATH by runc). */
export function withProcessArgs(args: readonly string[]): SpecOpt {
  if (args.length === 0 || args[0] === "") {
    throw new BerthError("InvalidArgument", "the container has no command to run");
  }
  for (const arg of args) checkNoNul("a command argument", arg);
  return (spec) => {
    spec.process.args = [...args];
  };
}

/**
 * Merge environment variables over what the spec has: first the image's
 * "KEY=value" list, then the container's own (which win), then PATH's
 * default when neither set it.
 */
export function withEnv(imageEnv: readonly string[], env: Readonly<Record<string, string>> = {}): SpecOpt {
  for (const entry of imageEnv) checkNoNul("an image environment entry", entry);
  for (const [key, value] of Object.entries(env)) {
    if (key === "" || key.includes("=") || key.includes("\0")) {
      throw new BerthError("InvalidArgument", `environment variable name "${key}" is empty or contains "="`);
    }
    checkNoNul(`environment variable ${key}`, value);
  }
  return (spec) => {
    const merged = [...spec.process.env];
    for (const entry of imageEnv) putEnv(merged, entry);
    for (const [key, value] of Object.entries(env)) putEnv(merged, `${key}=${value}`);
    if (!hasEnv(merged, "PATH")) merged.push(`PATH=${DEFAULT_PATH}`);
    spec.process.env = merged;
  };
}

/** The working directory; must be absolute. */
export function withCwd(cwd: string): SpecOpt {
  if (!cwd.startsWith("/")) {
    throw new BerthError("InvalidArgument", `working directory "${cwd}" must be an absolute path`);
  }
  checkNoNul("the working directory", cwd);
  return (spec) => {
    spec.process.cwd = cwd;
  };
}

/**
 * Run as `user` — "uid", "uid:gid", "name" or "name:group" — resolved
 * against the image's passwd/group files (`readUserDb(rootfs)`); numeric
 * forms need no files. Sets HOME from passwd unless the environment has it.
 */
export function withUser(user: string | undefined, db: UserDb = EMPTY_USER_DB): SpecOpt {
  const resolved = resolveUser(user, db);
  return (spec) => {
    spec.process.user = { uid: resolved.uid, gid: resolved.gid };
    if (resolved.additionalGids.length > 0) spec.process.user.additionalGids = [...resolved.additionalGids];
    if (!hasEnv(spec.process.env, "HOME")) spec.process.env.push(`HOME=${resolved.home}`);
  };
}

/** Give the process a terminal (and TERM=xterm unless set, as Docker does). */
export function withTty(tty: boolean): SpecOpt {
  return (spec) => {
    spec.process.terminal = tty;
    if (tty && !hasEnv(spec.process.env, "TERM")) spec.process.env.push("TERM=xterm");
  };
}
