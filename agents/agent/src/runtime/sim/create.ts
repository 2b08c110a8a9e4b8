/** Building a simulated container: config checks, image resolution, the initial record. */
import { createHash } from "node:crypto";
import { BerthError } from "@berth/protocol";
import type { ContainerConfig } from "../types.ts";
import type { SimContainer } from "./container.ts";

export interface SimImage {
  digest?: string;
  /** The image's CMD and ENTRYPOINT, used when the config gives none. */
  command?: string[];
  entrypoint?: string[];
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function checkConfig(config: ContainerConfig, name: string): void {
  if (!NAME.test(name)) {
    throw new BerthError(
      "InvalidArgument",
      `invalid container name "${name}": use letters, digits, "_", "." and "-"`,
    );
  }
  if (config.autoRemove && config.restart.name !== "no") {
    throw new BerthError(
      "InvalidArgument",
      "a container removed at exit (autoRemove) cannot have a restart policy",
    );
  }
}

export function resolveImage(
  images: Readonly<Record<string, SimImage>> | undefined,
  ref: string,
): Required<SimImage> {
  const image = images ? images[ref] : {};
  if (!image) throw new BerthError("NotFound", `no image "${ref}" on this host: pull or import it first`);
  return {
    digest: image.digest ?? `sha256:${createHash("sha256").update(ref).digest("hex")}`,
    command: image.command ?? [],
    entrypoint: image.entrypoint ?? [],
  };
}

export function uniqueId(randomId: () => string, taken: ReadonlyMap<string, unknown>): string {
  for (;;) {
    const id = randomId();
    if (!taken.has(id)) return id;
  }
}

export function newContainer(
  id: string,
  name: string,
  config: ContainerConfig,
  image: Required<SimImage>,
  now: number,
): SimContainer {
  const entrypoint = config.entrypoint ?? image.entrypoint;
  const command = config.command ?? (config.entrypoint ? [] : image.command);
  return {
    info: {
      id,
      name,
      image: config.image,
      imageDigest: image.digest,
      status: "creating",
      pid: null,
      createdAt: new Date(now).toISOString(),
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      oomKilled: false,
      restartCount: 0,
      health: config.healthcheck ? "starting" : "none",
      ipAddress: null,
      config: structuredClone({ ...config, name }),
    },
    argv: [...entrypoint, ...command],
    logs: [],
    nextSeq: 0,
    exitTimer: null,
    restartTimer: null,
    runStartedMs: null,
    ranMsBefore: 0,
    stoppedByUser: false,
    backoffAttempt: null,
    waiters: [],
    watchers: new Set(),
    removed: false,
  };
}

/** 10.88.0.0/16, like a default bridge subnet, skipping .0 and the gateway .1. */
export function bridgeAddress(n: number): string {
  const host = (n % 65_000) + 2;
  return `10.88.${host >> 8}.${host & 255}`;
}
