import type { Descriptor, ImageConfig as OciImageConfig } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { DEFAULT_IMAGE_PATH } from "../store.ts";
import type { ImageConfig } from "../types.ts";

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCHITECTURES: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** This host's platform in OCI terms (Node's `x64` is `amd64`). */
export function hostPlatform(): PlatformSpec {
  const architecture = ARCHITECTURES[process.arch] ?? process.arch;
  return { os: "linux", architecture, ...(architecture === "arm" && { variant: "v7" }) };
}

/** "linux/arm64/v8" → { os, architecture, variant }. */
export function parsePlatform(text: string): PlatformSpec {
  const [os, architecture, variant, extra] = text.split("/");
  if (!os || !architecture || extra !== undefined) {
    throw new BerthError(
      "InvalidArgument",
      `invalid platform "${text}" (os/arch[/variant], e.g. linux/amd64)`,
    );
  }
  return { os, architecture, ...(variant && { variant }) };
}

export function formatPlatform(p: PlatformSpec): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** The index entry for `platform`: os and architecture must match; a variant, when asked for, too. */
export function selectManifest(manifests: Descriptor[], platform: PlatformSpec, ref: string): Descriptor {
  const candidates = manifests.filter(
    (m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture,
  );
  const exact = candidates.find(
    (m) => platform.variant === undefined || m.platform?.variant === platform.variant,
  );
  const chosen = exact ?? candidates[0];
  if (!chosen) {
    const offered = manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : [])).join(", ");
    throw new BerthError(
      "NotFound",
      `${ref} has no image for ${formatPlatform(platform)} (it offers: ${offered || "none"})`,
    );
  }
  return chosen;
}

/** What a container needs from an OCI image config; PATH gets Docker's default when the image sets none. */
export function toImageConfig(config: OciImageConfig): ImageConfig {
  const c = config.config ?? {};
  const env = [...(c.Env ?? [])];
  if (!env.some((e) => e.startsWith("PATH="))) env.unshift(`PATH=${DEFAULT_IMAGE_PATH}`);
  return {
    env,
    cmd: c.Cmd && c.Cmd.length > 0 ? [...c.Cmd] : null,
    entrypoint: c.Entrypoint && c.Entrypoint.length > 0 ? [...c.Entrypoint] : null,
    workdir: c.WorkingDir ? c.WorkingDir : null,
    user: c.User ? c.User : null,
  };
}
