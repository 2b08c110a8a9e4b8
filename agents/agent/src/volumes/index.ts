/** Named volumes and the resolution of a container's mounts to host paths. */
export { type ResolveMountsOptions, resolveMounts, volumeNames } from "./mounts.ts";
export { createVolumeStore, type Volume, type VolumeStore, validateVolumeName } from "./store.ts";
