/**
 * A build step's changes are its overlay upper directory, written as a layer
 * tar by @berth/oci's layerTar (whiteouts, opaque directories, hard links,
 * devices a step made) — leaving out what the runtime put there.
 */

/**
 * What a build container leaves in its upper directory that is not the
 * step's work: mount points runc creates (/proc, /sys, /dev and the
 * /etc files the runtime bind-mounts). Writes under them went to the mounts.
 */
export function isRuntimeArtifact(rel: string): boolean {
  const top = rel.split("/")[0];
  if (top === "proc" || top === "sys" || top === "dev") return true;
  return rel === "etc/hosts" || rel === "etc/hostname" || rel === "etc/resolv.conf";
}
