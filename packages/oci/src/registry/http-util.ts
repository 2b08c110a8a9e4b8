// HTTP plumbing shared by the registry's routes: responses, bounded bodies, ranges.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { RegistryError } from "./errors.ts";

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
  body?: unknown,
): void {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const all: Record<string, string | number> = { ...headers };
  if (payload) all["Content-Type"] ??= "application/json";
  all["Content-Length"] = payload?.length ?? 0;
  res.writeHead(status, all);
  res.end(payload);
}

export function sendError(res: ServerResponse, error: RegistryError, head: boolean): void {
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  if (head) send(res, error.status, { ...error.headers, "Content-Type": "application/json" });
  else send(res, error.status, error.headers, error.toBody());
}

/** Streams `body` as the response (or only the headers for HEAD). */
export async function sendStream(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body: Readable,
  head: boolean,
): Promise<void> {
  res.writeHead(status, headers);
  if (head) {
    body.destroy();
    res.end();
    return;
  }
  await pipeline(body, res);
}

/** Reads a request body into memory, refusing more than `maxBytes` (SIZE_INVALID, 413). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): RegistryError {
  return new RegistryError("SIZE_INVALID", `body exceeds ${maxBytes} bytes`, { status: 413 });
}

/** Discards whatever body the client sent, so the connection stays usable. */
export async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // discard
  }
}

/** True when the request announces a body (a non-zero Content-Length or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return Number(length) > 0;
  return req.headers["transfer-encoding"] !== undefined;
}

/** `Range: 0-<last byte>` as the distribution spec reports upload progress. */
export function uploadRange(offset: number): string {
  return offset === 0 ? "0-0" : `0-${offset - 1}`;
}

/**
 * Parses a single `bytes=` range against a blob of `size` bytes. Undefined means "whole blob";
 * an unsatisfiable or malformed range throws RANGE_INVALID (416).
 */
export function parseByteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const unsatisfiable = new RegistryError("RANGE_INVALID", `range ${header} is not satisfiable`, {
    headers: { "Content-Range": `bytes */${size}` },
  });
  if (!match || (match[1] === "" && match[2] === "")) throw unsatisfiable;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) throw unsatisfiable;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || end < start) throw unsatisfiable;
  return { start, end };
}

/** Parses an upload chunk's `Content-Range: <start>-<end>`; undefined when absent. */
export function parseContentRange(header: string | undefined): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match || Number(match[2]) < Number(match[1])) {
    throw new RegistryError("RANGE_INVALID", `invalid Content-Range ${header}`);
  }
  return { start: Number(match[1]), end: Number(match[2]) };
}

/** Parses `n` of a paginated list: a non-negative integer, or undefined. */
export function parseN(value: string | null, max: number): number | undefined {
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value)) throw new RegistryError("PAGINATION_NUMBER_INVALID", `invalid n=${value}`);
  return Math.min(Number(value), max);
}

/** The media type of a Content-Type header, without parameters. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type === "" ? undefined : type;
}
