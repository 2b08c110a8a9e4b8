import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import path from "node:path";
import {
  type CniCommand,
  CniError,
  type CniResult,
  cniErrorFromOutput,
  parseCniResult,
} from "./cni-result.ts";

/**
 * Runs CNI plugins the way the CNI spec (1.0.0, sections 2–4) says a runtime
 * must: one process per plugin, the network configuration on stdin, the
 * parameters in CNI_* environment variables, a result or an error object on
 * stdout. A network configuration list is executed in order for ADD (each
 * plugin's result is the next one's prevResult) and CHECK, and in reverse
 * order for DEL, every plugin of DEL and CHECK getting the cached ADD result.
 */

export interface PluginConfig {
  type: string;
  /** Runtime capabilities this plugin accepts in runtimeConfig (e.g. portMappings). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConfig[];
}

export interface CniContext {
  containerId: string;
  /** Path of the network namespace; "" when it no longer exists (allowed for DEL). */
  netns: string;
  ifname: string;
  binDirs: readonly string[];
  /** PATH for the plugins (portmap and firewall run iptables). */
  pathEnv: string;
  /** Dynamic values offered to plugins that declare the capability, e.g. { portMappings: [...] }. */
  runtimeConfig?: Record<string, unknown>;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_CHARS = 1024 * 1024;
const PLUGIN_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The first executable named `type` in `binDirs`, or null. */
export async function findPlugin(type: string, binDirs: readonly string[]): Promise<string | null> {
  if (!PLUGIN_TYPE.test(type)) return null;
  for (const dir of binDirs) {
    const file = path.join(dir, type);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * The configuration one plugin of a list receives (spec section 4, "Deriving
 * execution configuration"): the plugin object plus the list's name and
 * cniVersion, the previous result, and the runtime values for exactly the
 * capabilities the plugin declares.
 */
export function pluginExecConfig(
  list: ConfList,
  plugin: PluginConfig,
  prevResult: CniResult | null,
  runtimeConfig: Record<string, unknown> = {},
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  delete config.runtimeConfig;
  delete config.prevResult;
  const offered: Record<string, unknown> = {};
  for (const [capability, enabled] of Object.entries(plugin.capabilities ?? {})) {
    if (enabled && runtimeConfig[capability] !== undefined) offered[capability] = runtimeConfig[capability];
  }
  if (Object.keys(offered).length > 0) config.runtimeConfig = offered;
  if (prevResult) config.prevResult = prevResult;
  return config;
}

/** Run one plugin; resolves with its stdout, rejects with a CniError. */
export async function invokePlugin(
  command: CniCommand,
  type: string,
  config: Record<string, unknown>,
  ctx: CniContext,
): Promise<string> {
  const file = await findPlugin(type, ctx.binDirs);
  if (!file) {
    throw new CniError({
      plugin: type,
      command,
      cniCode: null,
      berthCode: "FailedPrecondition",
      cniMsg: `not found in ${ctx.binDirs.join(", ")} (install Debian's containernetworking-plugins)`,
    });
  }
  const env = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: ctx.containerId,
    CNI_NETNS: ctx.netns,
    CNI_IFNAME: ctx.ifname,
    CNI_PATH: ctx.binDirs.join(":"),
    PATH: ctx.pathEnv,
  };
  const out = await runWithStdin(
    file,
    JSON.stringify(config),
    env,
    ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  ).catch((err: Error) => {
    throw new CniError({ plugin: type, command, cniCode: null, cniMsg: err.message, cause: err });
  });
  if (out.exitCode !== 0) throw cniErrorFromOutput(type, command, out);
  return out.stdout;
}

interface ProcessOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
}

function runWithStdin(
  file: string,
  input: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ProcessOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env, stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < MAX_OUTPUT_CHARS) stderr += chunk;
    });
    child.stdin.on("error", () => {}); // a plugin that exits before reading stdin: its exit status tells
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`timed out after ${timeoutMs} ms`));
      else resolve({ stdout, stderr, exitCode, signal });
    });
    child.stdin.end(input);
  });
}

/**
 * ADD a list: each plugin in order, each result the next plugin's prevResult.
 * On failure the CniError carries the result so far, so the caller can DEL.
 */
export async function addNetworkList(list: ConfList, ctx: CniContext): Promise<CniResult> {
  let prev: CniResult | null = null;
  for (const plugin of list.plugins) {
    const config = pluginExecConfig(list, plugin, prev, ctx.runtimeConfig);
    try {
      const stdout = await invokePlugin("ADD", plugin.type, config, ctx);
      prev = parseCniResult(plugin.type, "ADD", stdout);
    } catch (err) {
      if (err instanceof CniError) err.prevResult = prev;
      throw err;
    }
  }
  if (!prev)
    throw new CniError({
      plugin: list.name,
      command: "ADD",
      cniCode: null,
      cniMsg: "the list has no plugins",
    });
  return prev;
}

/**
 * DEL a list: plugins in reverse order, each with the cached ADD result.
 * Keeps going past a failing plugin and returns every failure.
 */
export async function delNetworkList(
  list: ConfList,
  ctx: CniContext,
  cachedResult: CniResult | null,
): Promise<CniError[]> {
  const failures: CniError[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    const config = pluginExecConfig(list, plugin, cachedResult, ctx.runtimeConfig);
    try {
      await invokePlugin("DEL", plugin.type, config, ctx);
    } catch (err) {
      failures.push(
        err instanceof CniError
          ? err
          : new CniError({
              plugin: plugin.type,
              command: "DEL",
              cniCode: null,
              cniMsg: String(err),
              cause: err,
            }),
      );
    }
  }
  return failures;
}

/**
 * CHECK a list: plugins in order, each with the cached ADD result; throws on
 * the first failure. `skip` leaves out plugins whose CHECK is known broken.
 */
export async function checkNetworkList(
  list: ConfList,
  ctx: CniContext,
  cachedResult: CniResult,
  skip: (plugin: PluginConfig) => boolean = () => false,
): Promise<void> {
  for (const plugin of list.plugins) {
    if (skip(plugin)) continue;
    const config = pluginExecConfig(list, plugin, cachedResult, ctx.runtimeConfig);
    await invokePlugin("CHECK", plugin.type, config, ctx);
  }
}
