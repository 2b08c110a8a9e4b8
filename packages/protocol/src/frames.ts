import { z } from "zod";
import type { ErrorFrame } from "./messages.ts";
import { MAX_FRAME_BYTES } from "./messages.ts";

export type FrameResult<T> = { ok: true; message: T } | { ok: false; error: ErrorFrame };

function invalid(message: string): { ok: false; error: ErrorFrame } {
  return { ok: false, error: { type: "error", code: "InvalidArgument", message } };
}

/**
 * Parse one WebSocket frame against a message schema. Never throws: a frame
 * that is too large, not JSON, or fails the schema yields the error frame to
 * send back, naming what was wrong.
 */
export function parseFrame<T>(schema: z.ZodType<T>, raw: string | Buffer): FrameResult<T> {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_FRAME_BYTES) {
    return invalid(`frame of ${size} bytes exceeds the limit of ${MAX_FRAME_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch (err) {
    return invalid(`frame is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return invalid(`frame does not match the protocol: ${z.prettifyError(parsed.error)}`);
  }
  return { ok: true, message: parsed.data };
}

/** Serialise an outgoing message (the caller has built it from the typed schema). */
export function encodeFrame(message: object): string {
  return JSON.stringify(message);
}
