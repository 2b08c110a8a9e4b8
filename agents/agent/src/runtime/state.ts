import { BerthError } from "@berth/protocol";
import type { ContainerStatus } from "./types.ts";

/**
 * A container's life as an explicit state machine (containerd's shim keeps
 * one too): every change of status goes through `transition`, which refuses
 * a move the container cannot make, with a message that says what to do.
 */
const ALLOWED: Record<ContainerStatus, readonly ContainerStatus[]> = {
  creating: ["created", "removing"],
  created: ["running", "stopped", "removing"],
  running: ["stopped"],
  stopped: ["running", "removing"],
  removing: [],
};

const HINTS: Partial<Record<`${ContainerStatus}->${ContainerStatus}`, string>> = {
  "running->running": "it is already running",
  "running->removing": "it is running: stop it first, or remove it with --force",
  "removing->running": "it is being removed",
  "creating->running": "it is still being created",
};

export function canTransition(from: ContainerStatus, to: ContainerStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function transition(name: string, from: ContainerStatus, to: ContainerStatus): ContainerStatus {
  if (canTransition(from, to)) return to;
  const hint = HINTS[`${from}->${to}`] ?? `a ${from} container cannot become ${to}`;
  throw new BerthError("FailedPrecondition", `container ${name}: ${hint}`);
}
