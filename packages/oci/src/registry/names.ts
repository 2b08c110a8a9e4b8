// Grammars of the distribution spec: repository names, tags and digests.
import { RegistryError } from "./errors.ts";

const component = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const nameRe = new RegExp(`^${component}(?:/${component})*$`);
const tagRe = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const sha256Re = /^sha256:[a-f0-9]{64}$/;

export const maxRepositoryNameLength = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= maxRepositoryNameLength && nameRe.test(name);
}

export function assertRepositoryName(name: string): string {
  if (!isRepositoryName(name)) {
    throw new RegistryError("NAME_INVALID", `invalid repository name "${name}"`, { detail: { name } });
  }
  return name;
}

export function isTag(reference: string): boolean {
  return tagRe.test(reference);
}

/** True for anything shaped like a digest (`alg:hex`), supported or not. */
export function looksLikeDigest(reference: string): boolean {
  return digestRe.test(reference);
}

/** The registry stores sha256 content only; other algorithms are refused as DIGEST_INVALID. */
export function assertDigest(digest: string): string {
  if (!sha256Re.test(digest)) {
    throw new RegistryError("DIGEST_INVALID", `invalid or unsupported digest "${digest}" (sha256 only)`, {
      detail: { digest },
    });
  }
  return digest;
}

export function isSha256Digest(digest: string): boolean {
  return sha256Re.test(digest);
}
