import { rm } from "node:fs/promises";
import { createRegistryClient } from "@berth/oci";
import { afterAll, beforeAll, expect, it } from "vitest";
import { contractConfig } from "../../runtime/contract/helpers.ts";
import { createTestEngine, type TestEngine } from "../../testing/engine.ts";
import { describeRoot } from "../../testing/root.ts";
import { createImageStore } from "../store.ts";
import {
  makeBusyboxLayout,
  pushLayout,
  type RegistryPeer,
  startRegistryPeer,
  type TestImage,
} from "./interop-support.ts";
import { pullImage } from "./pull.ts";

// Pull from docker-registry, then run a real container from the pulled layers (overlay lowerdirs, whiteouts).
let engine: TestEngine;
let registry: RegistryPeer;
let image: TestImage;

describeRoot("a pulled image runs", () => {
  beforeAll(async () => {
    [engine, registry, image] = await Promise.all([
      createTestEngine(),
      startRegistryPeer(),
      makeBusyboxLayout(),
    ]);
    await pushLayout(image, registry.host, "test/busybox:1");
  }, 120_000);
  afterAll(async () => {
    await engine?.cleanup();
    await registry?.stop();
    if (image) await rm(image.work, { recursive: true, force: true });
  }, 60_000);

  async function output(id: string): Promise<string> {
    const lines: string[] = [];
    for await (const l of engine.runtime.logs(id)) lines.push(l.line);
    return lines.join("\n");
  }

  it("runs the image's command with its env and workdir; the whiteout hides /etc/group", async () => {
    const ref = `${registry.host}/test/busybox:1`;
    await pullImage(createImageStore(engine.stateDir), ref, { client: createRegistryClient() });
    const { command: _, ...defaults } = contractConfig(ref);
    const own = await engine.runtime.create(defaults);
    await engine.runtime.start(own.id);
    expect(await engine.runtime.wait(own.id)).toBe(0);
    expect(await output(own.id)).toBe("hello");

    const probe = await engine.runtime.create(
      contractConfig(ref, {
        command: ["sh", "-c", "pwd; cat /etc/motd; test -e /etc/group || echo no-group"],
      }),
    );
    await engine.runtime.start(probe.id);
    expect(await engine.runtime.wait(probe.id)).toBe(0);
    expect(await output(probe.id)).toBe("/root\npulled by berth\nno-group");
  });
});
