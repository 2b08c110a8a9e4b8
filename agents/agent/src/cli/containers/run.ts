import { type Command, Option } from "commander";
import type { ContainerConfig, HealthCheck, NetworkMode } from "../../runtime/types.ts";
import type { CliIo } from "../io.ts";
import { usageError } from "../io.ts";
import { streamUntilExit } from "./attach.ts";
import { openEngine } from "./context.ts";
import {
  collect,
  parseBytes,
  parseCpus,
  parseDurationMs,
  parseEnv,
  parseLabels,
  parsePositiveInt,
  parsePublish,
  parseRestart,
  parseTmpfs,
  parseVolume,
} from "./flags.ts";
import { pullIfMissing } from "./images.ts";

export interface RunFlags {
  detach?: boolean;
  name?: string;
  env?: string[];
  publish?: string[];
  volume?: string[];
  tmpfs?: string[];
  memory?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  restart?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  tty?: boolean;
  interactive?: boolean;
  rm?: boolean;
  user?: string;
  workdir?: string;
  hostname?: string;
  network?: NetworkMode;
  readOnly?: boolean;
  entrypoint?: string;
  label?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  shmSize?: string;
}

function healthcheck(f: RunFlags): HealthCheck | undefined {
  if (!f.healthCmd) return undefined;
  return {
    kind: "exec",
    command: ["/bin/sh", "-c", f.healthCmd],
    intervalMs: f.healthInterval ? parseDurationMs("--health-interval", f.healthInterval) : 30_000,
    timeoutMs: f.healthTimeout ? parseDurationMs("--health-timeout", f.healthTimeout) : 30_000,
    retries: f.healthRetries ? parsePositiveInt("--health-retries", f.healthRetries) : 3,
    startPeriodMs: f.healthStartPeriod ? parseDurationMs("--health-start-period", f.healthStartPeriod) : 0,
  };
}

/** Docker-like `run` flags → the runtime's ContainerConfig. Pure, so it is unit-tested. */
export function configFromFlags(image: string, command: string[], f: RunFlags): ContainerConfig {
  if (f.rm && f.restart && f.restart !== "no") throw usageError("--rm and --restart cannot be used together");
  if (f.network && f.network !== "bridge" && (f.publish?.length ?? 0) > 0) {
    throw usageError(`-p publishes ports on the bridge network only, not with --network ${f.network}`);
  }
  return {
    name: f.name ?? "",
    image,
    ...(command.length ? { command } : {}),
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint ? [f.entrypoint] : [] } : {}),
    env: parseEnv(f.env ?? []),
    ...(f.workdir ? { workdir: f.workdir } : {}),
    ...(f.user ? { user: f.user } : {}),
    ...(f.hostname ? { hostname: f.hostname } : {}),
    tty: f.tty ?? false,
    interactive: f.interactive ?? false,
    readOnlyRootfs: f.readOnly ?? false,
    resources: {
      ...(f.memory ? { memoryBytes: parseBytes("--memory", f.memory) } : {}),
      ...(f.cpus ? { cpus: parseCpus(f.cpus) } : {}),
      ...(f.cpuShares ? { cpuShares: parsePositiveInt("--cpu-shares", f.cpuShares) } : {}),
      ...(f.pidsLimit ? { pidsLimit: parsePositiveInt("--pids-limit", f.pidsLimit) } : {}),
    },
    network: f.network ?? "bridge",
    ports: (f.publish ?? []).map(parsePublish),
    mounts: [...(f.volume ?? []).map(parseVolume), ...(f.tmpfs ?? []).map(parseTmpfs)],
    restart: f.restart ? parseRestart(f.restart) : { name: "no" },
    ...(healthcheck(f) ? { healthcheck: healthcheck(f) } : {}),
    labels: parseLabels(f.label ?? []),
    ...(f.stopSignal ? { stopSignal: f.stopSignal } : {}),
    ...(f.stopTimeout ? { stopTimeoutMs: parsePositiveInt("--stop-timeout", f.stopTimeout) * 1000 } : {}),
    ...(f.shmSize ? { shmSizeBytes: parseBytes("--shm-size", f.shmSize) } : {}),
    // A detached --rm container is removed by its exit handler; an attached one by us, after its output.
    autoRemove: (f.rm ?? false) && (f.detach ?? false),
  };
}

/** The options `run` and `create` share. */
export function withContainerOptions(cmd: Command): Command {
  return cmd
    .option("--name <name>", "container name (default: generated)")
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeatable)", collect)
    .option("-p, --publish <[ip:]host:container[/proto]>", "publish a port (repeatable)", collect)
    .option(
      "-v, --volume <source:target[:ro]>",
      "mount a named volume or an absolute host path (repeatable)",
      collect,
    )
    .option("--tmpfs <path>", "mount a tmpfs (repeatable)", collect)
    .option("-m, --memory <bytes>", "memory limit, e.g. 128m")
    .option("--cpus <n>", "CPU quota in cores, e.g. 0.5")
    .option("--cpu-shares <n>", "relative CPU weight (default 1024)")
    .option("--pids-limit <n>", "maximum number of processes")
    .option("--restart <policy>", "no, on-failure[:max], always or unless-stopped", "no")
    .option("--health-cmd <command>", "command run in the container to check its health")
    .option("--health-interval <duration>", "time between health checks (default 30s)")
    .option("--health-timeout <duration>", "time a health check may take (default 30s)")
    .option("--health-retries <n>", "failures in a row before unhealthy (default 3)")
    .option("--health-start-period <duration>", "failures ignored during this start-up time")
    .option("-t, --tty", "give the container a terminal")
    .option("-u, --user <user[:group]>", "user to run as (name or uid)")
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("--hostname <name>", "container hostname (default: the first 12 characters of its id)")
    .addOption(
      new Option("--network <mode>", "network mode").choices(["bridge", "host", "none"]).default("bridge"),
    )
    .option("--read-only", "mount the root filesystem read-only")
    .option("--entrypoint <path>", "replace the image's entrypoint")
    .option("-l, --label <key=value>", "set a label (repeatable)", collect)
    .option("--stop-signal <signal>", "signal sent by stop (default SIGTERM)")
    .option("--stop-timeout <seconds>", "grace period before SIGKILL (default 10)")
    .option("--shm-size <bytes>", "size of /dev/shm (default 64m)");
}

export function registerRun(program: Command, io: CliIo): void {
  withContainerOptions(
    program
      .command("run")
      .summary("create and start a container")
      .description(
        "Create a container from a local image and start it. Without -d, print its output and exit with its code.",
      )
      .argument("<image>", "image name or digest (see `berth-agent images`)")
      .argument("[command...]", "command and arguments (default: the image's)")
      .option("-d, --detach", "run in the background and print the container id")
      .option("--rm", "remove the container when it exits")
      .option(
        "-i, --interactive",
        "run in the foreground with this terminal's stdin (use with -t for a shell)",
      )
      .passThroughOptions(),
  )
    .addHelpText(
      "after",
      `
Examples:
  berth-agent run --rm busybox echo hello
  berth-agent run -it --rm busybox sh
  berth-agent run -d --name web -p 8080:80 --memory 64m busybox httpd -f -p 80
  berth-agent run -d --restart on-failure:3 --health-cmd 'wget -qO- localhost' busybox sh -c 'sleep 1d'`,
    )
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      if (flags.interactive && flags.detach) throw usageError("-i and -d cannot be used together");
      const config = configFromFlags(image, command, flags);
      const { runtime, images } = openEngine(cmd);
      // Like docker run: an image that is not here yet is pulled first (progress on stderr).
      await pullIfMissing(images, image, io);
      const created = await runtime.create(config);
      if (flags.interactive) {
        // In the foreground on this terminal; the container lives as long as this command.
        const code = await runtime.runAttached(created.id).finally(async () => {
          if (flags.rm) await runtime.remove(created.id, { force: true }).catch(() => {});
        });
        process.exitCode = code;
        return;
      }
      try {
        // Attached, we clean up after the exit ourselves; only a restart policy needs the exit handler.
        await runtime.start(created.id, {
          exitHandler: flags.detach === true || config.restart.name !== "no",
        });
      } catch (err) {
        if (flags.rm) await runtime.remove(created.id, { force: true }).catch(() => {});
        throw err;
      }
      if (flags.detach) {
        io.stdout(`${created.id}\n`);
        return;
      }
      const code = await streamUntilExit(runtime, created.id, io);
      // No exit handler ran for us: release the network and the mount now.
      if (flags.rm) await runtime.remove(created.id, { force: true });
      else await runtime.refresh(created.id);
      process.exitCode = code;
    });
}
