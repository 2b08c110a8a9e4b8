import { mkdir, rm, writeFile } from "node:fs/promises";
import { isMounted, mountRootfs } from "../../images/rootfs.ts";
import type { ImageStore } from "../../images/store.ts";
import type { NetworkAttachment } from "../../network/index.ts";
import { resolveMounts } from "../../volumes/index.ts";
import type { VolumeStore } from "../../volumes/store.ts";
import {
  buildSpec,
  DEFAULT_CAPABILITIES,
  defaultSeccomp,
  type NetnsSpec,
  type OciSeccomp,
} from "../spec/index.ts";
import type { ContainerRecord } from "../store.ts";
import type { ContainerPaths } from "./paths.ts";

export interface BundleDeps {
  images: ImageStore;
  volumes: VolumeStore;
  allowHostBinds: boolean;
  /** null: no seccomp filter; undefined: Docker's default profile. */
  seccompProfilePath?: string | null;
}

let cachedSeccomp: Promise<OciSeccomp> | null = null;

function seccompFor(deps: BundleDeps): Promise<OciSeccomp | null> {
  if (deps.seccompProfilePath === null) return Promise.resolve(null);
  if (deps.seccompProfilePath !== undefined)
    return defaultSeccomp(DEFAULT_CAPABILITIES, deps.seccompProfilePath);
  cachedSeccomp ??= defaultSeccomp(DEFAULT_CAPABILITIES);
  return cachedSeccomp;
}

function netnsOf(attachment: NetworkAttachment): NetnsSpec {
  if (attachment.netnsPath) return { kind: "path", path: attachment.netnsPath };
  return attachment.mode === "host" ? { kind: "host" } : { kind: "new" };
}

/**
 * Everything runc needs to create the container: the overlay root mounted,
 * /etc/hosts, /etc/hostname and /etc/resolv.conf written, volumes resolved,
 * and config.json composed from Docker's defaults, the image and the
 * container's own settings.
 */
export async function writeBundle(
  record: ContainerRecord,
  paths: ContainerPaths,
  attachment: NetworkAttachment,
  deps: BundleDeps,
): Promise<void> {
  const image = await deps.images.resolve(record.imageDigest);
  const rootfs = (await isMounted(paths.rootfs))
    ? paths.rootfs
    : await mountRootfs({ layerDirs: image.layerDirs, containerDir: paths.dir });
  const hostname = record.config.hostname ?? record.id.slice(0, 12);
  await Promise.all([
    writeFile(paths.hosts, attachment.hosts, { mode: 0o644 }),
    writeFile(paths.hostname, `${hostname}\n`, { mode: 0o644 }),
    writeFile(paths.resolvConf, attachment.resolvConf, { mode: 0o644 }),
    mkdir(paths.bundle, { recursive: true, mode: 0o700 }),
  ]);
  const spec = await buildSpec({
    id: record.id,
    config: record.config,
    image,
    rootfs,
    etcFiles: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
    netns: netnsOf(attachment),
    cgroupsPath: record.cgroupsPath,
    seccomp: await seccompFor(deps),
    mounts: await resolveMounts(record.config.mounts, {
      allowHostBinds: deps.allowHostBinds,
      volumes: deps.volumes,
    }),
  });
  await writeFile(paths.spec, JSON.stringify(spec), { mode: 0o600 });
}

/** Forget what the previous run left: its exit code, OOM mark and pid files. */
export async function clearRunFiles(paths: ContainerPaths): Promise<void> {
  await Promise.all(
    [paths.exitFile, paths.oomFile, paths.pidFile, paths.conmonPidFile, `${paths.persistDir}/exit`].map((f) =>
      rm(f, { force: true }),
    ),
  );
}
