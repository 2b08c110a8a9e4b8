import { stat } from "node:fs/promises";
import { BerthError, isBerthError } from "@berth/protocol";
import { type Command, Option } from "commander";
import { type ImageStore, type PullEvent, parsePlatform, pullImage } from "../../images/index.ts";
import { type CliIo, processIo } from "../io.ts";
import { openEngine } from "./context.ts";
import { collect, parseEnv } from "./flags.ts";
import { ago, bytes, shortId, table } from "./format.ts";
import { type RegistryFlags, registryClientFor } from "./registry.ts";

const outputOption = () =>
  new Option("--output <format>", "output format").choices(["text", "json"]).default("text");

export function registerImageCommands(program: Command, io: CliIo): void {
  program
    .command("images")
    .summary("list local images")
    .option("-q, --quiet", "only ids")
    .addOption(outputOption())
    .action(async (f: { quiet?: boolean; output: "text" | "json" }, cmd: Command) => {
      const images = await openEngine(cmd).images.list();
      if (f.output === "json") return io.stdout(`${JSON.stringify(images, null, 2)}\n`);
      if (f.quiet) return io.stdout(images.map((i) => `${shortId(i.digest)}\n`).join(""));
      const now = Date.now();
      const rows = images.flatMap((i) => {
        const names = i.names.length ? i.names : ["<none>:<none>"];
        return names.map((n) => {
          const at = n.lastIndexOf(":");
          return [n.slice(0, at), n.slice(at + 1), shortId(i.digest), ago(i.createdAt, now), bytes(i.size)];
        });
      });
      io.stdout(table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows));
    });

  program
    .command("import")
    .summary("import a root filesystem (a directory or a .tar/.tar.gz) as an image")
    .argument("<source>", "directory or tarball")
    .argument("<name>", "image name, e.g. busybox or busybox:1.36")
    .option("--cmd <arg>", "default command, one argument per flag (default /bin/sh)", collect)
    .option("--entrypoint <arg>", "entrypoint, one argument per flag", collect)
    .option("-e, --env <KEY=VALUE>", "image environment (repeatable)", collect)
    .option("-w, --workdir <dir>", "default working directory")
    .option("-u, --user <user>", "default user")
    .action(
      async (
        source: string,
        name: string,
        f: { cmd?: string[]; entrypoint?: string[]; env?: string[]; workdir?: string; user?: string },
        cmd: Command,
      ) => {
        const { images } = openEngine(cmd);
        const info = await stat(source).catch(() => {
          throw new BerthError("NotFound", `${source} does not exist`);
        });
        const options = {
          name,
          ...(f.cmd ? { cmd: f.cmd } : {}),
          ...(f.entrypoint ? { entrypoint: f.entrypoint } : {}),
          ...(f.env ? { env: parseEnv(f.env) } : {}),
          ...(f.workdir ? { workdir: f.workdir } : {}),
          ...(f.user ? { user: f.user } : {}),
        };
        const record = info.isDirectory()
          ? await images.importDirectory(source, options)
          : await images.importTarball(source, options);
        io.stdout(`${record.digest}\n`);
      },
    );

  program
    .command("pull")
    .summary("pull an image from a registry")
    .argument("<image>", "e.g. busybox, registry.local:5000/shop/web:1.2, name@sha256:…")
    .option("--insecure-registry <host>", "use plain http for this registry (repeatable)", collect)
    .option("--creds <user:password>", "credentials for the image's registry")
    .option(
      "--platform <os/arch[/variant]>",
      "platform to pull from a multi-platform image (default: this host's)",
    )
    .action(async (image: string, f: PullFlags, cmd: Command) => {
      const { images } = openEngine(cmd);
      const render = progressRenderer((t) => io.stdout(t), io === processIo && process.stdout.isTTY === true);
      const result = await pullImage(images, image, {
        client: registryClientFor(f),
        ...(f.platform ? { platform: parsePlatform(f.platform) } : {}),
        onProgress: render,
      });
      io.stdout(`${result.name ?? image}\n`);
    });

  program
    .command("tag")
    .summary("give an image another name")
    .argument("<image>", "existing name or digest")
    .argument("<name>", "new name")
    .action(async (ref: string, name: string, _f: unknown, cmd: Command) => {
      await openEngine(cmd).images.tag(ref, name);
    });

  program
    .command("rmi")
    .summary("remove images (refused while a container uses one)")
    .argument("<image...>", "names or digests")
    .action(async (refs: string[], _f: unknown, cmd: Command) => {
      const { images, runtime } = openEngine(cmd);
      const used = new Set((await runtime.list({ all: true })).map((c) => c.imageDigest));
      for (const ref of refs) {
        const result = await images.remove(ref, { inUse: (digest) => used.has(digest) });
        for (const n of result.untagged) io.stdout(`Untagged: ${n}\n`);
        if (result.deleted) io.stdout(`Deleted: ${result.deleted}\n`);
      }
    });

  const volume = program.command("volume").summary("manage named volumes");
  volume
    .command("ls")
    .summary("list volumes")
    .addOption(outputOption())
    .action(async (f: { output: "text" | "json" }, cmd: Command) => {
      const volumes = await openEngine(cmd).volumes.list();
      if (f.output === "json") return io.stdout(`${JSON.stringify(volumes, null, 2)}\n`);
      io.stdout(
        table(
          ["NAME", "MOUNTPOINT"],
          volumes.map((v) => [v.name, v.mountpoint]),
        ),
      );
    });
  volume
    .command("create")
    .argument("<name>")
    .action(async (name: string, _f: unknown, cmd: Command) => {
      await openEngine(cmd).volumes.create(name);
      io.stdout(`${name}\n`);
    });
  volume
    .command("rm")
    .argument("<name...>")
    .action(async (names: string[], _f: unknown, cmd: Command) => {
      const { volumes, runtime } = openEngine(cmd);
      const containers = await runtime.list({ all: true });
      const inUse = (n: string) =>
        containers.some((c) => c.config.mounts.some((m) => m.type === "volume" && m.source === n));
      for (const name of names) {
        await volumes.remove(name, { inUse });
        io.stdout(`${name}\n`);
      }
    });
}

interface PullFlags extends RegistryFlags {
  platform?: string;
}

const BAR_WIDTH = 40;

export function progressLine(id: string, status: string, current?: number, total?: number): string {
  if (current === undefined || total === undefined || total === 0) return `${id}: ${status}`;
  const filled = Math.min(BAR_WIDTH, Math.floor((current / total) * BAR_WIDTH));
  const bar = `[${"=".repeat(Math.max(filled - 1, 0))}${filled > 0 ? ">" : ""}${" ".repeat(BAR_WIDTH - filled)}]`;
  return `${id}: ${status} ${bar} ${bytes(current)}/${bytes(total)}`;
}

/**
 * Writes a line per id (a layer's), rewriting that id's own line in place on a
 * terminal (cursor up, clear, back down); elsewhere each call is a new line.
 */
export function lineWriter(out: (text: string) => void, tty: boolean): (id: string, line: string) => void {
  const order: string[] = [];
  return (id, line) => {
    const at = order.indexOf(id);
    if (at === -1) order.push(id);
    if (at === -1 || !tty) return out(`${line}\n`);
    const up = order.length - at;
    out(`\x1b[${up}A\r\x1b[2K${line}\x1b[${up}B\r`);
  };
}

/**
 * Docker-like pull output: one line per layer, rewritten in place on a
 * terminal; otherwise a plain line for each status change (no byte counts).
 */
export function progressRenderer(out: (text: string) => void, tty: boolean): (event: PullEvent) => void {
  const write = lineWriter(out, tty);
  return (event) => {
    if (event.type === "resolved") out(`${event.ref}: Pulling\n`);
    else if (event.type === "layer") write(event.id, progressLine(event.id, event.status));
    else if (event.type === "progress") {
      if (tty) write(event.id, progressLine(event.id, "Downloading", event.current, event.total));
    } else {
      out(`Digest: ${event.digest}\n`);
      const status = event.status === "up-to-date" ? "Image is up to date for" : "Downloaded newer image for";
      out(`Status: ${status} ${event.ref}\n`);
    }
  };
}

/**
 * For `run`: pull `ref` when the local store has no such image, as `docker
 * run` does (registries on loopback over http, anonymous). The pull's
 * progress goes to stderr, leaving stdout to the container.
 */
export async function pullIfMissing(images: ImageStore, ref: string, io: CliIo): Promise<void> {
  const missing = await images.resolve(ref).then(
    () => false,
    (err: unknown) => {
      if (isBerthError(err) && err.code === "NotFound") return true;
      throw err;
    },
  );
  if (!missing || /^(sha256:)?[a-f0-9]{12,64}$/.test(ref)) return;
  io.stderr(`Unable to find image '${ref}' locally\n`);
  await pullImage(images, ref, {
    client: registryClientFor({}),
    onProgress: progressRenderer((t) => io.stderr(t), io === processIo && process.stderr.isTTY === true),
  });
}
