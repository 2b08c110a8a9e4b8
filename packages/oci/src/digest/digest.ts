import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { OciError } from "../errors.ts";

/** Digest algorithms Berth computes and verifies (OCI image-spec "registered algorithms"). */
export type DigestAlgorithm = "sha256" | "sha512";

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  /** Lowercase hex of the hash. */
  hex: string;
}

const DIGEST_GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Parses `algorithm:hex`; throws OciError("InvalidArgument") naming what is wrong. */
export function parseDigest(value: string): ParsedDigest {
  const match = DIGEST_GRAMMAR.exec(value);
  if (!match) {
    throw new OciError("InvalidArgument", `invalid digest "${value}": expected algorithm:hex`);
  }
  const algorithm = match[1]!;
  const hex = match[2]!;
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new OciError("InvalidArgument", `invalid digest "${value}": unsupported algorithm "${algorithm}"`);
  }
  const want = HEX_LENGTH[algorithm];
  if (hex.length !== want || !/^[0-9a-f]+$/.test(hex)) {
    throw new OciError(
      "InvalidArgument",
      `invalid digest "${value}": ${algorithm} needs ${want} lowercase hex characters`,
    );
  }
  return { algorithm, hex };
}

/** True when `value` is a well-formed sha256 or sha512 digest. */
export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

/** Returns `value` unchanged if it is a valid digest, else throws InvalidArgument. */
export function assertDigest(value: string): string {
  parseDigest(value);
  return value;
}

/** The digest string of a buffer, e.g. `sha256:e3b0…`. */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

/**
 * A pass-through stream that hashes and counts what flows through it.
 * `digest()` is valid once the stream has ended.
 */
export class Digester extends Transform {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #bytes = 0;
  #result: string | undefined;

  constructor(algorithm: DigestAlgorithm = "sha256") {
    super();
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#result = `${this.algorithm}:${this.#hash.digest("hex")}`;
    callback();
  }

  /** The digest of everything written; throws FailedPrecondition before the stream ends. */
  digest(): string {
    if (this.#result === undefined) {
      throw new OciError("FailedPrecondition", "digest() called before the stream ended");
    }
    return this.#result;
  }
}

export function createDigester(algorithm: DigestAlgorithm = "sha256"): Digester {
  return new Digester(algorithm);
}

export interface VerifyOptions {
  /** Refuse (InvalidArgument) once more than this many bytes arrive. */
  maxBytes?: number;
  /** Refuse unless exactly this many bytes arrive (a descriptor's size). */
  expectedSize?: number;
}

/**
 * Reads `stream` to its end and resolves with its digest and size when they
 * match `expected`; rejects with OciError("InvalidArgument") on a mismatch.
 */
export async function verifyDigest(
  stream: AsyncIterable<Uint8Array>,
  expected: string,
  options: VerifyOptions = {},
): Promise<{ digest: string; bytes: number }> {
  const { algorithm } = parseDigest(expected);
  const hash = createHash(algorithm);
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    if (options.maxBytes !== undefined && bytes > options.maxBytes) {
      throw new OciError("InvalidArgument", `content exceeds ${options.maxBytes} bytes`);
    }
    hash.update(chunk);
  }
  const digest = `${algorithm}:${hash.digest("hex")}`;
  if (digest !== expected) {
    throw new OciError("InvalidArgument", `digest mismatch: expected ${expected}, got ${digest}`);
  }
  if (options.expectedSize !== undefined && bytes !== options.expectedSize) {
    throw new OciError(
      "InvalidArgument",
      `size mismatch: expected ${options.expectedSize} bytes, got ${bytes}`,
    );
  }
  return { digest, bytes };
}
