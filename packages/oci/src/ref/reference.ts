import { parseDigest } from "../digest/digest.ts";
import { OciError } from "../errors.ts";

/**
 * An image reference, normalised the way Docker does it: `busybox` is
 * `docker.io/library/busybox:latest`. Follows the grammar of
 * distribution/reference (the OCI distribution spec's repository names).
 */
export interface ImageReference {
  /** Registry host with an optional port, e.g. `docker.io`, `localhost:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_REGISTRY = "docker.io";
export const DEFAULT_TAG = "latest";
/** Longest name (registry + "/" + repository), as in distribution/reference. */
export const NAME_MAX_LENGTH = 255;

const LEGACY_DEFAULT_REGISTRY = "index.docker.io";
const OFFICIAL_PREFIX = "library/";

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;

function invalid(input: string, why: string): OciError {
  return new OciError("InvalidArgument", `invalid reference "${input}": ${why}`);
}

/** Splits `name[:tag][@digest]` into its three parts without validating them. */
function splitReference(input: string): { name: string; tag?: string; digest?: string } {
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** Docker's rule: the first component is a registry if it has a `.` or `:`, or is `localhost`. */
function splitRegistry(name: string): { registry: string; repository: string } {
  const slash = name.indexOf("/");
  const first = slash >= 0 ? name.slice(0, slash) : "";
  const isRegistry =
    slash >= 0 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  if (!isRegistry) return { registry: DEFAULT_REGISTRY, repository: name };
  return { registry: first, repository: name.slice(slash + 1) };
}

function checkRegistry(input: string, registry: string): void {
  if (!DOMAIN.test(registry)) throw invalid(input, `invalid registry host "${registry}"`);
}

function checkRepository(input: string, repository: string): void {
  if (repository === "") throw invalid(input, "repository name is empty");
  if (repository !== repository.toLowerCase()) throw invalid(input, "repository name must be lowercase");
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(
        input,
        `invalid repository path component "${component}" (lowercase letters, digits and single separators . _ __ -)`,
      );
    }
  }
}

function checkTag(input: string, tag: string): void {
  if (!TAG.test(tag)) {
    throw invalid(
      input,
      `invalid tag "${tag}" (letters, digits, _ . -; at most 128; not starting with . or -)`,
    );
  }
}

function checkDigest(input: string, digest: string): void {
  try {
    parseDigest(digest);
  } catch (err) {
    throw invalid(input, (err as Error).message);
  }
}

/** Parses and normalises an image reference; throws OciError("InvalidArgument") naming the bad part. */
export function parseReference(input: string): ImageReference {
  if (input === "") throw invalid(input, "reference is empty");
  if (/\s/.test(input)) throw invalid(input, "reference contains whitespace");
  const { name, tag, digest } = splitReference(input);
  if (name === "") throw invalid(input, "repository name is empty");
  let { registry, repository } = splitRegistry(name);
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  checkRegistry(input, registry);
  if (registry === DEFAULT_REGISTRY && !repository.includes("/")) repository = OFFICIAL_PREFIX + repository;
  checkRepository(input, repository);
  if (registry === DEFAULT_REGISTRY && IMAGE_ID.test(repository.slice(OFFICIAL_PREFIX.length))) {
    throw invalid(input, "a 64-character hex name is an image ID, not a repository name");
  }
  if (registry.length + 1 + repository.length > NAME_MAX_LENGTH) {
    throw invalid(input, `name is longer than ${NAME_MAX_LENGTH} characters`);
  }
  if (tag !== undefined) checkTag(input, tag);
  if (digest !== undefined) checkDigest(input, digest);
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

function suffix(ref: ImageReference): string {
  return `${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** The fully qualified form: `docker.io/library/busybox:latest`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${suffix(ref)}`;
}

/** The repository as `docker images` shows it: `busybox`, `user/app`, `ghcr.io/x/y`. */
export function familiarName(ref: ImageReference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return `${ref.registry}/${ref.repository}`;
  if (
    ref.repository.startsWith(OFFICIAL_PREFIX) &&
    !ref.repository.slice(OFFICIAL_PREFIX.length).includes("/")
  ) {
    return ref.repository.slice(OFFICIAL_PREFIX.length);
  }
  return ref.repository;
}

/** The shortest string that parses back to the same reference: `busybox:latest`. */
export function familiarString(ref: ImageReference): string {
  return `${familiarName(ref)}${suffix(ref)}`;
}
