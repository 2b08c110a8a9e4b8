import { Option } from "commander";
import type { Target } from "../../lib/api.ts";
import { call } from "../../lib/api.ts";
import { CliError, parseFlag } from "../../lib/errors.ts";
import { processInterrupts, untilInterrupted } from "../../lib/interrupt.ts";
import { printResult } from "../../lib/io.ts";
import { renderWarnings } from "../../lib/plan.ts";
import { type RolloutOutcome, rolloutError, watchRollout } from "../../lib/rollout.ts";
import { readStackFile, type StackFilePayload } from "../../lib/stack-file.ts";
import { checkName, DEFAULT_TEAM, type Planned, type TaskRow, TEAM_HELP } from "../../lib/stacks.ts";
import { printable } from "../../lib/table.ts";
import type { Deps, Session } from "../context.ts";

export const teamOption = () => new Option("--team <slug>", TEAM_HELP).default(DEFAULT_TEAM);

export const fileOption = () =>
  new Option(
    "-f, --file <path>",
    "the stack file: Compose YAML with deploy: (- reads stdin)",
  ).makeOptionMandatory();

export const nameOption = () =>
  new Option("--name <name>", "the stack's name when the file has no name: (default: the file's directory)");

export interface FileFlags {
  file: string;
  name?: string;
  team: string;
}

export const stackName = (value: string) => parseFlag("NAME", value, (v) => checkName("stack", v));

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** The stack file, its .env and env files, with the variables it uses from the environment. */
export function readStackFileFor(
  deps: Deps,
  session: Session,
  flags: FileFlags,
): Promise<{ payload: StackFilePayload; stack: string | undefined }> {
  if (flags.name !== undefined) parseFlag("--name", flags.name, (v) => checkName("stack", v));
  return readStackFile({
    file: flags.file,
    readStdin: () => readAll(deps.io.stdin),
    environment: session.env.variables,
    ...(flags.name ? { name: flags.name } : {}),
    cwd: deps.cwd?.() ?? process.cwd(),
  });
}

/**
 * A refused stack file arrives as one message with a `file:line:column:
 * problem` line per problem; print those lines as they are (editors jump to
 * them), under one line saying what happened.
 */
export function fileProblems(err: unknown, fileName: string): unknown {
  if (!(err instanceof CliError) || err.code !== "InvalidArgument") return err;
  const lines = err.message.split("\n");
  if (!lines.every((line) => line.startsWith(`${fileName}:`))) return err;
  const count = lines.length === 1 ? "a problem" : `${lines.length} problems`;
  return new CliError("InvalidArgument", `${fileName} is not a valid stack file (${count}):`, {
    details: lines.map(printable),
    cause: err,
  });
}

/** Plan or deploy a stack file, converting a refused file into its problems. */
export async function sendStackFile<T extends Pick<Planned, "warnings">>(
  deps: Deps,
  target: Target,
  payload: StackFilePayload,
  request: () => Promise<T>,
): Promise<T> {
  try {
    const result = await call(target, request);
    deps.io.stderr(renderWarnings(payload.fileName, result.warnings));
    return result;
  } catch (err) {
    throw fileProblems(err, payload.fileName);
  }
}

/** Every task of a stack now (none when it does not exist yet): a deploy's changes are printed from these. */
export async function currentTasks(s: Session, team: string, name: string): Promise<TaskRow[]> {
  try {
    return await call(s.target, () => s.api.stacks.tasks.query({ team, name, all: true }));
  } catch (err) {
    if (err instanceof CliError && err.code === "NotFound") return [];
    throw err;
  }
}

export const detachOption = () =>
  new Option("-d, --detach", "return once the revision is stored, without waiting for the tasks");
export const timeoutOption = () =>
  new Option("--timeout <duration>", "how long to wait for every service to run (e.g. 90s, 10m)").default(
    "5m",
  );

/**
 * Follow a rollout until it lands (printing task transitions: on stdout as
 * text, on stderr with --output json), Ctrl-C, or the timeout.
 */
export async function followRollout(
  deps: Deps,
  s: Session,
  o: { team: string; name: string; plan: Planned["plan"]; baseline: TaskRow[]; timeoutMs: number },
): Promise<{ outcome: RolloutOutcome; error: CliError | null }> {
  const print = s.flags.output === "json" ? deps.io.stderr : deps.io.stdout;
  const interrupts = deps.interrupts?.() ?? processInterrupts();
  const outcome = await untilInterrupted(interrupts, (signal) =>
    watchRollout(
      {
        services: async () =>
          (await call(s.target, () => s.api.stacks.get.query({ team: o.team, name: o.name }))).stack.services,
        tasks: () =>
          call(s.target, () => s.api.stacks.tasks.query({ team: o.team, name: o.name, all: true })),
      },
      {
        plan: o.plan,
        baseline: o.baseline,
        timeoutMs: o.timeoutMs,
        ...(deps.pollIntervalMs ? { intervalMs: deps.pollIntervalMs } : {}),
        now: deps.now,
        signal,
        onLine: (line) => print(`${line}\n`),
      },
    ),
  ).catch((err) => {
    if (interrupts.signal.aborted)
      deps.io.stderr(`berth: stopped watching; the rollout of ${o.name} goes on\n`);
    throw err;
  });
  return { outcome, error: rolloutError(o.name, outcome, o.timeoutMs) };
}

/**
 * What deploy and rollback do once the revision is stored: print it (with
 * --detach, and stop there), else follow the rollout until it lands, then
 * say so — or throw what stopped it.
 */
export async function reportAndFollow<R extends object>(
  deps: Deps,
  s: Session,
  o: {
    detach: boolean | undefined;
    result: R;
    text: () => string;
    follow: { team: string; name: string; plan: Planned["plan"]; baseline: TaskRow[]; timeoutMs: number };
  },
): Promise<void> {
  if (o.detach) {
    printResult(deps.io, s.flags.output, o.result, o.text);
    return;
  }
  if (s.flags.output === "text") deps.io.stdout(`${o.text()}\n`);
  const { outcome, error } = await followRollout(deps, s, o.follow);
  if (s.flags.output === "json") printResult(deps.io, "json", { ...o.result, rollout: outcome }, () => "");
  else if (!error) deps.io.stdout(`\n${o.follow.name} is running: every service has its replicas.\n`);
  if (error) throw error;
}
