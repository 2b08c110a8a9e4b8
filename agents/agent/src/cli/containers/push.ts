import type { Command } from "commander";
import type { PushEvent } from "../../images/push/events.ts";
import { pushImage } from "../../images/push/push.ts";
import { type CliIo, processIo } from "../io.ts";
import { openEngine } from "./context.ts";
import { collect } from "./flags.ts";
import { lineWriter, progressLine } from "./images.ts";
import { type RegistryFlags, registryClientFor } from "./registry.ts";

const EXAMPLES = `
Examples:
  berth-agent push registry.local:5000/shop/web:1
  berth-agent push --creds admin:TOKEN web:1 127.0.0.1:3000/team/web:1
  berth-agent push --insecure-registry build.lan:5000 build.lan:5000/tools/ci

Layers the repository already has are skipped; a layer another repository of the same registry
is known to hold (pulled from it or pushed there) is mounted, not uploaded. Registries on loopback
use plain http; BERTH_REGISTRY_CREDS=HOST=USER:PASSWORD gives credentials for one registry.`;

/**
 * Docker-like push output: one line per layer, rewritten in place on a terminal (with a progress
 * bar while it uploads); otherwise a plain line for each status change.
 */
export function pushRenderer(out: (text: string) => void, tty: boolean): (event: PushEvent) => void {
  const write = lineWriter(out, tty);
  return (event) => {
    if (event.type === "start") out(`The push refers to repository [${event.repository}]\n`);
    else if (event.type === "layer") write(event.id, progressLine(event.id, event.status));
    else if (event.type === "progress") {
      if (tty) write(event.id, progressLine(event.id, "Pushing", event.current, event.total));
    } else out(`${event.tag}: digest: ${event.digest} size: ${event.size}\n`);
  };
}

export function registerPush(program: Command, io: CliIo): void {
  program
    .command("push")
    .summary("push an image to a registry")
    .argument("<image>", "a local image: NAME[:TAG] or an image id")
    .argument(
      "[target]",
      "where to push it (default: the image's own name), e.g. registry.local:5000/shop/web:1",
    )
    .option("--creds <user:password>", "credentials for the target's registry")
    .option("--insecure-registry <host>", "use plain http for this registry (repeatable)", collect)
    .addHelpText("after", EXAMPLES)
    .action(async (image: string, target: string | undefined, f: RegistryFlags, cmd: Command) => {
      const { images } = openEngine(cmd);
      await pushImage(images, image, target, {
        client: registryClientFor(f),
        onProgress: pushRenderer((t) => io.stdout(t), io === processIo && process.stdout.isTTY === true),
      });
    });
}
