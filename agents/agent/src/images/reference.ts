import { BerthError } from "@berth/protocol";

export const DEFAULT_TAG = "latest";
/** The shortest hex prefix accepted for an image digest (Docker shows 12). */
export const MIN_DIGEST_PREFIX = 12;

const HEX64 = /^[a-f0-9]{64}$/;
const DOMAIN =
  /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const MAX_NAME = 255;

/** What a user's image argument denotes. */
export type ImageRef = { kind: "name"; name: string } | { kind: "digest"; hex: string; prefix: boolean };

function invalid(ref: string, why: string): never {
  throw new BerthError("InvalidArgument", `invalid image reference "${ref}": ${why}`);
}

function checkRepository(ref: string, repository: string): void {
  if (repository.length > MAX_NAME) invalid(ref, `the name is longer than ${MAX_NAME} characters`);
  if (HEX64.test(repository)) invalid(ref, "a 64-character hex name would be mistaken for a digest");
  const parts = repository.split("/");
  const first = parts[0]!;
  const hasDomain = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasDomain && !DOMAIN.test(first)) invalid(ref, `"${first}" is not a valid registry host`);
  for (const part of hasDomain ? parts.slice(1) : parts) {
    if (!PATH_COMPONENT.test(part)) {
      invalid(ref, `"${part}" must be lowercase letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
}

/**
 * The canonical form of an image name: "busybox" → "busybox:latest",
 * "registry.local:5000/shop/web" → "registry.local:5000/shop/web:latest".
 */
export function normalizeName(ref: string): string {
  const text = ref.trim();
  if (text === "") invalid(ref, "it is empty");
  if (text.includes("@")) invalid(ref, "references by digest are written sha256:<hex>");
  const slash = text.lastIndexOf("/");
  const colon = text.lastIndexOf(":");
  const hasTag = colon > slash;
  const repository = hasTag ? text.slice(0, colon) : text;
  const tag = hasTag ? text.slice(colon + 1) : DEFAULT_TAG;
  if (!TAG.test(tag)) invalid(ref, `tag "${tag}" must be letters, digits, "_", "." or "-" (at most 128)`);
  checkRepository(ref, repository);
  return `${repository}:${tag}`;
}

/**
 * Parse what a user typed: "sha256:<hex>" (full or a prefix of at least 12),
 * a bare hex prefix of 12..64 characters (which may also be a name — the
 * store tries the name first), or a name.
 */
export function parseImageRef(ref: string): ImageRef[] {
  const text = ref.trim();
  if (text.startsWith("sha256:")) {
    const hex = text.slice("sha256:".length);
    if (!/^[a-f0-9]+$/.test(hex) || hex.length < MIN_DIGEST_PREFIX || hex.length > 64) {
      invalid(ref, `a digest is sha256: followed by ${MIN_DIGEST_PREFIX} to 64 lowercase hex digits`);
    }
    return [{ kind: "digest", hex, prefix: hex.length < 64 }];
  }
  if (HEX64.test(text)) return [{ kind: "digest", hex: text, prefix: false }];
  const candidates: ImageRef[] = [{ kind: "name", name: normalizeName(text) }];
  if (/^[a-f0-9]+$/.test(text) && text.length >= MIN_DIGEST_PREFIX) {
    candidates.push({ kind: "digest", hex: text, prefix: true });
  }
  return candidates;
}

/** "sha256:<hex>" → "<hex>", checking the form. */
export function digestHex(digest: string): string {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match) throw new BerthError("InvalidArgument", `"${digest}" is not a sha256 digest`);
  return match[1]!;
}
