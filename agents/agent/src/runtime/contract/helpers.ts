/** Helpers for the runtime contract suite: configs, bounded waits, output capture. */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { isBerthError } from "@berth/protocol";
import type { ContainerConfig, ContainerRuntime, LogLine, LogOptions } from "../types.ts";

/** A config a busybox rootfs can run: no network, no mounts, `sleep 1000` unless told otherwise. */
export function contractConfig(image: string, over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    name: uniqueName("ctr"),
    image,
    command: ["sleep", "1000"],
    env: {},
    tty: false,
    interactive: false,
    readOnlyRootfs: false,
    resources: {},
    network: "none",
    ports: [],
    mounts: [],
    restart: { name: "no" },
    labels: { "berth.test": "contract" },
    autoRemove: false,
    ...over,
  };
}

export function uniqueName(label: string): string {
  return `contract-${label}-${randomBytes(4).toString("hex")}`;
}

/** Poll `probe` until `done` holds for its value; the error names what was awaited and the last value. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error code a promise rejects with (or "resolved"). */
export async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (err) {
    return isBerthError(err) ? err.code : `not a BerthError: ${String(err)}`;
  }
}

export async function collectLogs(
  runtime: ContainerRuntime,
  id: string,
  options: LogOptions = {},
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of runtime.logs(id, options)) lines.push(line);
  return lines;
}

/** A writable that keeps what is written to it. */
export function captureStream(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString("utf8") });
}
