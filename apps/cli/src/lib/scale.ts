import { CliError } from "./errors.ts";
import type { StackRow } from "./stacks.ts";

export interface ScaleTarget {
  stack: string;
  service: string;
  replicas: number;
}

const MAX_REPLICAS = 10_000;

/** "web=3" → ["web", 3]; the count a whole number from 0 to 10000. */
export function parseAssignment(text: string): [string, number] {
  const m = /^([^=\s]+)=(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not SERVICE=REPLICAS (e.g. web=3)`);
  const replicas = Number(m[2]);
  if (replicas > MAX_REPLICAS) throw new Error(`${m[1]}: at most ${MAX_REPLICAS} replicas`);
  return [m[1]!, replicas];
}

/**
 * `berth service scale STACK SERVICE=N…`, or Docker's `STACK_SERVICE=N…`.
 * For the Docker form, `stacks` resolves the split: the stack is the one
 * whose name followed by `_` starts the word; two such stacks are ambiguous.
 */
export function parseScaleArgs(
  args: readonly string[],
  stacks?: readonly Pick<StackRow, "name">[],
): ScaleTarget[] {
  if (args.length === 0) throw new Error("name a stack and SERVICE=REPLICAS, e.g. `shop web=3`");
  const [first, ...rest] = args as [string, ...string[]];
  if (!first.includes("=")) {
    if (rest.length === 0) throw new Error(`how many replicas? e.g. \`${first} web=3\``);
    return rest.map((a) => {
      const [service, replicas] = parseAssignment(a);
      return { stack: first, service, replicas };
    });
  }
  return args.map((a) => {
    const [word, replicas] = parseAssignment(a);
    if (!stacks) throw new Error("the stacks are needed to split STACK_SERVICE");
    const matches = stacks.filter((s) => word.startsWith(`${s.name}_`) && word.length > s.name.length + 1);
    if (matches.length === 0) {
      throw new CliError("NotFound", `no stack matches ${word}`, {
        hint: "write STACK SERVICE=N, or STACK_SERVICE=N with a stack `berth stack ls` lists",
      });
    }
    if (matches.length > 1) {
      throw new Error(
        `${word} is ambiguous (stacks ${matches.map((s) => s.name).join(", ")}): write STACK SERVICE=N`,
      );
    }
    const stack = matches[0]!.name;
    return { stack, service: word.slice(stack.length + 1), replicas };
  });
}

/** True when the arguments use Docker's STACK_SERVICE=N form (the stack list is needed). */
export function needsStacks(args: readonly string[]): boolean {
  return args[0]?.includes("=") ?? false;
}
