import { PassThrough } from "node:stream";
import type { ProbeOutcome } from "../runtime/health/runner.ts";
import type { ContainerRuntime } from "../runtime/types.ts";

const MAX_OUTPUT = 4096;

/**
 * A health check's exec probe: run the command in the container, keep the
 * start of its output, and give up after the timeout (exit -1, as Docker
 * records a timed-out check).
 */
export async function execProbe(
  runtime: ContainerRuntime,
  id: string,
  command: string[],
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const out = new PassThrough();
  let output = "";
  out.on("data", (chunk: Buffer) => {
    if (output.length < MAX_OUTPUT) output += chunk.toString("utf8");
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), timeoutMs);
  });
  try {
    const exitCode = await Promise.race([
      runtime.exec(id, { command, tty: false }, { stdout: out, stderr: out }),
      timedOut,
    ]);
    return { exitCode, output: output.slice(0, MAX_OUTPUT) };
  } finally {
    clearTimeout(timer);
  }
}
