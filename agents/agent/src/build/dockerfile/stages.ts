import { dockerfileError, type InstructionNode, type ParsedDockerfile } from "./parse.ts";

/** The instructions Berth builds; anything else is refused with its name and line. */
export const SUPPORTED = new Set([
  "from",
  "run",
  "copy",
  "add",
  "env",
  "arg",
  "workdir",
  "user",
  "cmd",
  "entrypoint",
  "expose",
  "label",
  "volume",
  "stopsignal",
  "shell",
  "healthcheck",
  "maintainer",
]);

/** Flags each instruction accepts (without the leading "--"). */
const FLAGS: Record<string, readonly string[]> = {
  from: [],
  run: [],
  copy: ["from", "chown", "chmod"],
  add: ["chown", "chmod"],
  healthcheck: ["interval", "timeout", "start-period", "start-interval", "retries"],
};

/** What to say about flags Docker has and Berth does not. */
const REFUSED_FLAGS: Record<string, string> = {
  platform: "--platform is not supported: Berth builds for this host's platform",
  mount: "RUN --mount is not supported",
  network: "RUN --network is not supported; use berth-agent build --network",
  security: "RUN --security is not supported",
  link: "--link is not supported",
  checksum: "ADD --checksum is not supported",
  "keep-git-dir": "ADD --keep-git-dir is not supported",
  parents: "--parents is not supported",
  exclude: "--exclude is not supported",
};

export interface Stage {
  index: number;
  /** Lower-cased `AS` name, or null. */
  name: string | null;
  /** The image expression after FROM (unexpanded). */
  base: string;
  from: InstructionNode;
  steps: InstructionNode[];
}

export interface BuildPlan {
  file: string;
  escape: string;
  /** ARG instructions before the first FROM. */
  globalArgs: InstructionNode[];
  stages: Stage[];
}

/** `--name=value` flags of `node` as a map, refusing flags the instruction does not take. */
export function flagsOf(file: string, node: InstructionNode): Record<string, string> {
  const allowed = FLAGS[node.keyword] ?? [];
  const out: Record<string, string> = {};
  for (const flag of node.flags) {
    const eq = flag.indexOf("=");
    const name = (eq === -1 ? flag.slice(2) : flag.slice(2, eq)).toLowerCase();
    let value = eq === -1 ? "" : flag.slice(eq + 1);
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    if (!allowed.includes(name)) {
      const why = REFUSED_FLAGS[name] ?? `unknown flag --${name} for ${node.keyword.toUpperCase()}`;
      throw dockerfileError(file, node.line, why);
    }
    if (name in out) throw dockerfileError(file, node.line, `--${name} given twice`);
    out[name] = value;
  }
  return out;
}

function checkSupported(file: string, node: InstructionNode): void {
  if (SUPPORTED.has(node.keyword)) return;
  const name = node.keyword.toUpperCase();
  const known = ["onbuild"].includes(node.keyword);
  throw dockerfileError(
    file,
    node.line,
    known ? `${name} is not supported by berth-agent build` : `unknown instruction: ${name}`,
  );
}

function parseFrom(file: string, node: InstructionNode): { base: string; name: string | null } {
  flagsOf(file, node);
  const words = node.rest.split(/\s+/).filter(Boolean);
  if (words.length === 1) return { base: words[0]!, name: null };
  if (words.length === 3 && words[1]!.toLowerCase() === "as") {
    const name = words[2]!.toLowerCase();
    if (!/^[a-z][a-z0-9._-]*$/.test(name)) {
      throw dockerfileError(file, node.line, `invalid stage name "${words[2]}"`);
    }
    return { base: words[0]!, name };
  }
  throw dockerfileError(file, node.line, "FROM takes an image and optionally AS name");
}

/** Group instructions into stages, checking every instruction is one Berth builds. */
export function planStages(parsed: ParsedDockerfile): BuildPlan {
  const { file } = parsed;
  const globalArgs: InstructionNode[] = [];
  const stages: Stage[] = [];
  for (const node of parsed.instructions) {
    checkSupported(file, node);
    if (node.keyword === "from") {
      const { base, name } = parseFrom(file, node);
      if (name && stages.some((s) => s.name === name)) {
        throw dockerfileError(file, node.line, `duplicate stage name "${name}"`);
      }
      stages.push({ index: stages.length, name, base, from: node, steps: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) {
      if (node.keyword !== "arg") {
        throw dockerfileError(
          file,
          node.line,
          `${node.keyword.toUpperCase()} before FROM; only ARG may come first`,
        );
      }
      globalArgs.push(node);
      continue;
    }
    flagsOf(file, node);
    current.steps.push(node);
  }
  if (stages.length === 0) throw dockerfileError(file, 1, "no FROM instruction: nothing to build");
  return { file, escape: parsed.directives.escape, globalArgs, stages };
}

/** The stage `ref` names (an `AS` name or an index), or null when it names an image. */
export function findStage(stages: readonly Stage[], ref: string, before: number): Stage | null {
  const lower = ref.toLowerCase();
  const byName = stages.find((s) => s.name === lower && s.index < before);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) {
    const stage = stages[Number(ref)];
    return stage && stage.index < before ? stage : null;
  }
  return null;
}

/** The index of the stage `--target` names (the last stage when none). */
export function targetIndex(plan: BuildPlan, target: string | undefined): number {
  if (target === undefined) return plan.stages.length - 1;
  const stage = plan.stages.find((s) => s.name === target.toLowerCase());
  if (!stage) {
    const names = plan.stages.flatMap((s) => (s.name ? [s.name] : []));
    throw dockerfileError(
      plan.file,
      1,
      `target stage "${target}" not found (stages: ${names.join(", ") || "none named"})`,
    );
  }
  return stage.index;
}

/**
 * Stages the target needs, in build order: the target, the stages its FROM
 * and its `COPY --from` name, and theirs. `expandBase` expands a FROM's
 * image expression (global ARGs); `--from` values are taken as written.
 */
export function neededStages(plan: BuildPlan, target: number, expandBase: (s: Stage) => string): number[] {
  const needed = new Set<number>();
  const visit = (index: number) => {
    if (needed.has(index)) return;
    needed.add(index);
    const stage = plan.stages[index]!;
    const base = findStage(plan.stages, expandBase(stage), index);
    if (base) visit(base.index);
    for (const step of stage.steps) {
      if (step.keyword !== "copy") continue;
      const from = flagsOf(plan.file, step).from;
      const source = from === undefined ? null : findStage(plan.stages, from, index);
      if (source) visit(source.index);
    }
  };
  visit(target);
  return [...needed].sort((a, b) => a - b);
}
