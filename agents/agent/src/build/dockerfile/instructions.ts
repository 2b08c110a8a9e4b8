import path from "node:path";
import { BerthError } from "@berth/protocol";
import { type ContainerDefaults, DEFAULT_SHELL, type Healthcheck, putEnv } from "../image-config.ts";
import { dockerfileError, type InstructionNode } from "./parse.ts";
import { type Env, processWord, processWords, SubstitutionError, splitRawWords } from "./shell-lex.ts";
import { flagsOf } from "./stages.ts";

/**
 * One instruction with its variables substituted, as Docker does: ENV,
 * LABEL, ARG defaults, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, COPY and
 * ADD arguments and flags are expanded from the ARGs and ENVs in effect;
 * RUN, CMD and ENTRYPOINT are left to the shell.
 */
export type Step =
  | { kind: "config"; createdBy: string; apply: (c: ContainerDefaults) => ContainerDefaults; author?: string }
  | { kind: "arg"; createdBy: string; args: { name: string; value: string | undefined }[] }
  | { kind: "run"; createdBy: string; args: string[] }
  | {
      kind: "copy";
      createdBy: string;
      add: boolean;
      sources: string[];
      dest: string;
      from?: string;
      chown?: string;
      chmod?: number;
    };

export interface EvalContext {
  file: string;
  escape: string;
  /** ARGs and ENVs in effect (ENV wins). */
  vars: Env;
  /** The config before this instruction (for SHELL and WORKDIR). */
  config: ContainerDefaults;
}

/** Go's time.ParseDuration subset Docker accepts for HEALTHCHECK: "1m30s", "500ms" → nanoseconds. */
export function parseDurationNs(text: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (text === "" || consumed !== text.length)
    throw new Error(`invalid duration "${text}" (e.g. 30s, 1m30s)`);
  return Math.round(total);
}

/** key=value pairs of ENV and LABEL, or the legacy `KEY value` form. */
function keyValues(node: InstructionNode, ctx: EvalContext): [string, string][] {
  const words = splitRawWords(node.rest, ctx.escape);
  if (words.length === 0) throw new Error(`${node.keyword.toUpperCase()} needs at least one argument`);
  if (!words[0]!.includes("=")) {
    const key = words[0]!;
    const value = node.rest.slice(node.rest.indexOf(key) + key.length).trim();
    if (value === "")
      throw new Error(`${node.keyword.toUpperCase()} ${key} needs a value (or use ${key}=value)`);
    return [[processWord(key, ctx.vars, ctx.escape), processWord(value, ctx.vars, ctx.escape)]];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new Error(`"${word}": expected key=value`);
    return [
      processWord(word.slice(0, eq), ctx.vars, ctx.escape),
      processWord(word.slice(eq + 1), ctx.vars, ctx.escape),
    ];
  });
}

function shellOrJson(node: InstructionNode, config: ContainerDefaults): string[] {
  return node.json ?? [...(config.Shell ?? DEFAULT_SHELL), node.rest];
}

function exposedPorts(words: string[]): string[] {
  const ports: string[] = [];
  for (const word of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
    if (!m) throw new Error(`invalid port "${word}" (e.g. 80, 8080/tcp, 53/udp, 8000-8010)`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (first < 1 || last > 65535 || last < first) throw new Error(`invalid port range "${word}"`);
    for (let p = first; p <= last; p += 1) ports.push(`${p}/${(m[3] ?? "tcp").toLowerCase()}`);
  }
  return ports;
}

function healthcheck(node: InstructionNode, ctx: EvalContext): Healthcheck {
  const flags = flagsOf(ctx.file, node);
  if (/^none$/i.test(node.rest)) {
    if (Object.keys(flags).length > 0) throw new Error("HEALTHCHECK NONE takes no options");
    return { Test: ["NONE"] };
  }
  const m = /^cmd(\s+|$)([\s\S]*)$/i.exec(node.rest);
  if (!m || m[2]!.trim() === "") throw new Error("HEALTHCHECK takes NONE or CMD followed by a command");
  const command = m[2]!.trim();
  let json: string[] | null = null;
  if (command.startsWith("[")) {
    try {
      const value: unknown = JSON.parse(command);
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) json = value;
    } catch {}
  }
  const check: Healthcheck = { Test: json ? ["CMD", ...json] : ["CMD-SHELL", command] };
  const durations: [string, "Interval" | "Timeout" | "StartPeriod" | "StartInterval"][] = [
    ["interval", "Interval"],
    ["timeout", "Timeout"],
    ["start-period", "StartPeriod"],
    ["start-interval", "StartInterval"],
  ];
  for (const [flag, field] of durations) {
    if (flags[flag] !== undefined) check[field] = parseDurationNs(processWord(flags[flag], ctx.vars));
  }
  if (flags.retries !== undefined) {
    const retries = Number(flags.retries);
    if (!Number.isInteger(retries) || retries < 0) throw new Error(`--retries must be a whole number`);
    check.Retries = retries;
  }
  return check;
}

function copyStep(node: InstructionNode, ctx: EvalContext): Step {
  const flags = flagsOf(ctx.file, node);
  const words = node.json
    ? node.json.map((w) => processWord(w, ctx.vars, ctx.escape))
    : processWords(node.rest, ctx.vars, ctx.escape);
  const name = node.keyword.toUpperCase();
  if (words.length < 2) throw new Error(`${name} needs at least one source and a destination`);
  const sources = words.slice(0, -1);
  const dest = words[words.length - 1]!;
  if (sources.length > 1 && !dest.endsWith("/")) {
    throw new Error(`when copying several sources, the destination must end with "/" (${dest})`);
  }
  for (const source of sources) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || source.startsWith("git@")) {
      throw new Error(`${name} of a URL (${source}) is not supported; download it in a RUN step instead`);
    }
  }
  let chmod: number | undefined;
  if (flags.chmod !== undefined) {
    if (!/^[0-7]{3,4}$/.test(flags.chmod)) throw new Error(`--chmod takes an octal mode such as 0755`);
    chmod = Number.parseInt(flags.chmod, 8);
  }
  const from = flags.from === undefined ? undefined : processWord(flags.from, ctx.vars, ctx.escape);
  const chown = flags.chown === undefined ? undefined : processWord(flags.chown, ctx.vars, ctx.escape);
  const shown = [
    name,
    ...(from !== undefined ? [`--from=${from}`] : []),
    ...(chown !== undefined ? [`--chown=${chown}`] : []),
    ...(chmod !== undefined ? [`--chmod=${flags.chmod}`] : []),
    ...words,
  ].join(" ");
  return {
    kind: "copy",
    createdBy: shown,
    add: node.keyword === "add",
    sources,
    dest,
    ...(from !== undefined && { from }),
    ...(chown !== undefined && { chown }),
    ...(chmod !== undefined && { chmod }),
  };
}

function configStep(createdBy: string, apply: (c: ContainerDefaults) => ContainerDefaults): Step {
  return { kind: "config", createdBy, apply };
}

function evaluateNode(node: InstructionNode, ctx: EvalContext): Step {
  const word = () => processWord(node.rest, ctx.vars, ctx.escape);
  const name = node.keyword.toUpperCase();
  const needsArgs = () => {
    if (node.rest === "") throw new Error(`${name} needs an argument`);
  };
  switch (node.keyword) {
    case "run":
      needsArgs();
      return {
        kind: "run",
        args: shellOrJson(node, ctx.config),
        createdBy: `RUN ${node.json ? JSON.stringify(node.json) : node.rest}`,
      };
    case "copy":
    case "add":
      return copyStep(node, ctx);
    case "env": {
      const pairs = keyValues(node, ctx);
      return configStep(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`, (c) => ({
        ...c,
        Env: pairs.reduce((env, [k, v]) => putEnv(env, k, v), c.Env ?? []),
      }));
    }
    case "label": {
      const pairs = keyValues(node, ctx);
      return configStep(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`, (c) => ({
        ...c,
        Labels: { ...c.Labels, ...Object.fromEntries(pairs) },
      }));
    }
    case "arg": {
      needsArgs();
      const args = splitRawWords(node.rest, ctx.escape).map((w) => {
        const eq = w.indexOf("=");
        const argName = eq === -1 ? w : w.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(argName)) throw new Error(`invalid ARG name "${argName}"`);
        return {
          name: argName,
          value: eq === -1 ? undefined : processWord(w.slice(eq + 1), ctx.vars, ctx.escape),
        };
      });
      return { kind: "arg", args, createdBy: `ARG ${node.rest}` };
    }
    case "workdir": {
      needsArgs();
      const dir = path.posix.resolve(ctx.config.WorkingDir || "/", word());
      return configStep(`WORKDIR ${dir}`, (c) => ({ ...c, WorkingDir: dir }));
    }
    case "user": {
      needsArgs();
      const user = word();
      return configStep(`USER ${user}`, (c) => ({ ...c, User: user }));
    }
    case "cmd": {
      const cmd = shellOrJson(node, ctx.config);
      return configStep(`CMD ${JSON.stringify(cmd)}`, (c) => ({ ...c, Cmd: cmd }));
    }
    case "entrypoint": {
      const entrypoint = node.json ?? (node.rest === "" ? [] : shellOrJson(node, ctx.config));
      return configStep(`ENTRYPOINT ${JSON.stringify(entrypoint)}`, (c) => ({
        ...c,
        Entrypoint: entrypoint,
      }));
    }
    case "expose": {
      needsArgs();
      const ports = exposedPorts(processWords(node.rest, ctx.vars, ctx.escape));
      return configStep(`EXPOSE ${ports.join(" ")}`, (c) => ({
        ...c,
        ExposedPorts: { ...c.ExposedPorts, ...Object.fromEntries(ports.map((p) => [p, {}])) },
      }));
    }
    case "volume": {
      needsArgs();
      const dirs = node.json
        ? node.json.map((v) => processWord(v, ctx.vars, ctx.escape))
        : processWords(node.rest, ctx.vars, ctx.escape);
      if (dirs.some((d) => d === "")) throw new Error("VOLUME paths cannot be empty");
      return configStep(`VOLUME ${JSON.stringify(dirs)}`, (c) => ({
        ...c,
        Volumes: { ...c.Volumes, ...Object.fromEntries(dirs.map((d) => [d, {}])) },
      }));
    }
    case "stopsignal": {
      needsArgs();
      const signal = word();
      if (!/^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$/i.test(signal)) throw new Error(`invalid signal "${signal}"`);
      return configStep(`STOPSIGNAL ${signal}`, (c) => ({ ...c, StopSignal: signal }));
    }
    case "shell": {
      if (!node.json || node.json.length === 0) {
        throw new Error('SHELL takes the JSON form, e.g. SHELL ["/bin/bash", "-c"]');
      }
      const shell = node.json;
      return configStep(`SHELL ${JSON.stringify(shell)}`, (c) => ({ ...c, Shell: shell }));
    }
    case "healthcheck": {
      const check = healthcheck(node, ctx);
      return configStep(`HEALTHCHECK ${JSON.stringify(check)}`, (c) => ({ ...c, Healthcheck: check }));
    }
    case "maintainer": {
      needsArgs();
      return { kind: "config", createdBy: `MAINTAINER ${node.rest}`, apply: (c) => c, author: node.rest };
    }
    default:
      throw new Error(`unknown instruction: ${name}`);
  }
}

/** Evaluate `node` in `ctx`; any problem is an InvalidArgument naming file:line. */
export function evaluate(node: InstructionNode, ctx: EvalContext): Step {
  try {
    return evaluateNode(node, ctx);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    if (err instanceof SubstitutionError || err instanceof Error) {
      throw dockerfileError(ctx.file, node.line, `${node.keyword.toUpperCase()}: ${err.message}`);
    }
    throw err;
  }
}
