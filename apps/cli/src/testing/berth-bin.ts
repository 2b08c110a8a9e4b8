import { execFile, spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** Running the built `berth` as users do, for integration tests. */
const CLI_DIR = fileURLToPath(new URL("../..", import.meta.url));
const BIN = path.join(CLI_DIR, "dist", "berth.js");
const RUN_TIMEOUT_MS = 20_000;

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Build dist/berth.js when it is missing or older than its sources. */
export async function ensureBuilt(): Promise<void> {
  const built = await stat(BIN).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sources = Math.max(
    await newestSource(path.join(CLI_DIR, "src")),
    (await stat(path.join(CLI_DIR, "package.json"))).mtimeMs,
  );
  if (built > sources) return;
  await promisify(execFile)("npx", ["tsup"], { cwd: CLI_DIR, timeout: 60_000 });
}

export interface BerthResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface BerthRunOptions {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
}

/**
 * `node dist/berth.js ...args` with HOME and the config in `home`, PATH as
 * given (the test passes its own), and only the environment given.
 */
export function runBerth(
  home: string,
  pathVariable: string,
  args: string[],
  options: BerthRunOptions = {},
): Promise<BerthResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: pathVariable,
        HOME: home,
        BERTH_CONFIG: path.join(home, "config.json"),
        ...options.env,
      },
      cwd: options.cwd ?? home,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`berth ${args.join(" ")} did not exit within ${RUN_TIMEOUT_MS}ms; stderr: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}
