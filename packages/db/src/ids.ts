import { createHash, randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function base32(bytes: Buffer): string {
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

/** A readable, prefixed random id such as `host_7k2m9x…` (16 characters, 80 bits). */
export function newId(prefix: string): string {
  return `${prefix}_${base32(randomBytes(16))}`;
}

/** A bearer secret with a recognisable prefix, e.g. `bjt_…` for join tokens (256 bits). */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** Secrets are stored only as their SHA-256 (they are random, so no slow hash is needed). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
