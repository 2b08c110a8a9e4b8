import { InterruptedError } from "./errors.ts";

/** A signal that aborts on Ctrl-C, and a way to stop listening. */
export interface Interrupts {
  signal: AbortSignal;
  dispose(): void;
}

/** Ctrl-C aborts the signal instead of killing the process, so a follower can say what goes on. */
export function processInterrupts(): Interrupts {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once("SIGINT", abort);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", abort) };
}

/** Run `work` until it ends or Ctrl-C; Ctrl-C becomes an InterruptedError (exit 130). */
export async function untilInterrupted<T>(
  interrupts: Interrupts,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  try {
    return await work(interrupts.signal);
  } catch (err) {
    if (interrupts.signal.aborted) throw new InterruptedError();
    throw err;
  } finally {
    interrupts.dispose();
  }
}
