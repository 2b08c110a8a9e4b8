/** exec in a simulated container: the same small shell as its main process, with "not found" for the rest. */
import type { ExecStdio } from "../types.ts";
import type { SimClock } from "./clock.ts";
import type { SimContainer } from "./container.ts";
import { programFor } from "./program.ts";

export async function runSimulatedExec(
  c: SimContainer,
  clock: SimClock,
  command: string[],
  stdio: ExecStdio,
): Promise<number> {
  const out = stdio === "inherit" ? { stdout: process.stdout, stderr: process.stderr } : stdio;
  const program = programFor(command, "not-found");
  for (const step of program.steps) {
    if (c.info.status !== "running") return 137;
    if (step.kind === "write") out[step.stream].write(step.text);
    else await delay(clock, step.ms);
  }
  if (program.exit !== null) return program.exit;
  // Runs until the container stops, which kills it.
  while (c.info.status === "running" && !c.removed)
    await new Promise<void>((resolve) => c.watchers.add(resolve));
  return 137;
}

function delay(clock: SimClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
