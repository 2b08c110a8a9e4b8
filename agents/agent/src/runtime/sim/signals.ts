/** Signals for simulated processes: names and numbers, and the exit code a signal causes. */
import { constants } from "node:os";
import { BerthError } from "@berth/protocol";

/** Signals a process survives by default (they do not end a simulated one). */
const HARMLESS = new Set(["SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH"]);

/** "SIGKILL", "KILL", "kill" or "9" → { name: "SIGKILL", number: 9 }; InvalidArgument otherwise. */
export function parseSignal(signal: string): { name: string; number: number } {
  const table = constants.signals as Record<string, number>;
  if (/^\d+$/.test(signal)) {
    const number = Number(signal);
    const name = Object.keys(table).find((key) => table[key] === number);
    if (name) return { name, number };
  } else {
    const upper = signal.toUpperCase();
    const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
    const number = table[name];
    if (number !== undefined) return { name, number };
  }
  throw new BerthError("InvalidArgument", `unknown signal "${signal}" (use a name like SIGTERM or a number)`);
}

/** The exit code a process killed by `signal` reports (128 + its number), or null when it survives it. */
export function exitCodeForSignal(signal: { name: string; number: number }): number | null {
  return HARMLESS.has(signal.name) ? null : 128 + signal.number;
}
