// Preparing a machine for Berth, with nothing but Node.js and apt: used by
// `npm start` and `npm test` before anything else runs, so both work as the
// first command on a fresh clone. Only Node's standard library is used here,
// since the npm packages may not be installed yet.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function say(line) {
  process.stdout.write(`berth: ${line}\n`);
}

export function fail(line) {
  process.stderr.write(`berth: ${line}\n`);
  process.exit(1);
}

/** Run a program (argument array, no shell), inheriting stdio; exit on failure. */
export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: ROOT, ...options });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${[cmd, ...args].join(" ")}\` failed with exit code ${r.status ?? r.signal}`);
}

export function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(`Node.js ${process.versions.node} is too old: Berth needs 20.19 or newer`);
  }
}

/** `npm ci` when node_modules is missing or older than the lockfile. */
export function ensureNpmPackages() {
  const lock = path.join(ROOT, "package-lock.json");
  const marker = path.join(ROOT, "node_modules", ".package-lock.json");
  const fresh =
    existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) return;
  say("installing npm packages (npm ci) …");
  run("npm", existsSync(lock) ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"]);
}

function installedDebianPackages(names) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax.
  const r = spawnSync("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\\n", ...names], {
    encoding: "utf8",
  });
  const have = new Set();
  for (const line of (r.stdout ?? "").split("\n")) {
    const [name, status] = line.split(" ");
    if (status === "installed") have.add(name);
  }
  return have;
}

/**
 * Make sure the Debian packages are installed, installing the missing ones
 * with apt-get when we are root. Not root and missing packages: stop with
 * the command to run, never carry on silently.
 */
export function ensureDebianPackages(names, why) {
  if (!existsSync("/usr/bin/dpkg-query")) {
    fail(`this is not a Debian-like system: install ${names.join(", ")} (${why}) yourself`);
  }
  const have = installedDebianPackages(names);
  const missing = names.filter((n) => !have.has(n));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    fail(
      `${why} needs the Debian packages ${missing.join(" ")}: run \`sudo apt-get install -y ${missing.join(" ")}\``,
    );
  }
  say(`installing Debian packages for ${why}: ${missing.join(" ")} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], { env });
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
}

/** The packages the agent on this machine needs to run containers. */
export const AGENT_PACKAGES = [
  "runc",
  "conmon",
  "containernetworking-plugins",
  "iptables",
  "iproute2",
  // Docker's default seccomp profile, at /usr/share/containers/seccomp.json.
  "golang-github-containers-common",
];

export function turbo(args) {
  // No telemetry from Next.js or Turborepo: these machines reach only package registries.
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1" };
  run(path.join(ROOT, "node_modules", ".bin", "turbo"), args, { env });
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

export function hasCommand(cmd) {
  try {
    execFileSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
