import type { Command } from "commander";
import { Option } from "commander";
import type { ContainerInfo } from "../../runtime/types.ts";
import { type CliIo, usageError } from "../io.ts";
import { openEngine } from "./context.ts";
import { collect, parseDurationMs, parseEnv, parsePositiveInt } from "./flags.ts";
import { ago, bytes, shortId, table } from "./format.ts";
import { configFromFlags, type RunFlags, withContainerOptions } from "./run.ts";

type Output = "text" | "json";
const outputOption = () =>
  new Option("--output <format>", "output format").choices(["text", "json"]).default("text");

function status(c: ContainerInfo, now: number): string {
  switch (c.status) {
    case "running": {
      const health = c.health === "none" ? "" : ` (${c.health})`;
      return `Up ${ago(c.startedAt, now).replace(" ago", "")}${health}`;
    }
    case "stopped":
      return `Exited (${c.exitCode ?? "?"})${c.oomKilled ? " OOM-killed" : ""} ${ago(c.finishedAt, now)}`;
    default:
      return c.status[0]!.toUpperCase() + c.status.slice(1);
  }
}

function ports(c: ContainerInfo): string {
  return c.config.ports
    .map((p) => `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol}`)
    .join(", ");
}

function command(c: ContainerInfo): string {
  const text = [...(c.config.entrypoint ?? []), ...(c.config.command ?? [])].join(" ");
  return text.length > 30 ? `${text.slice(0, 29)}…` : text;
}

/** Run `fn` for each argument; report every failure, exit non-zero if any failed (as docker does). */
async function eachId(ids: string[], io: CliIo, fn: (id: string) => Promise<void>): Promise<void> {
  let failed: unknown = null;
  for (const id of ids) {
    try {
      await fn(id);
    } catch (err) {
      failed = err;
      io.stderr(`berth-agent: ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (failed) {
    process.exitCode = 1;
  }
}

export function registerContainerCommands(program: Command, io: CliIo): void {
  withContainerOptions(
    program
      .command("create")
      .summary("create a container without starting it")
      .argument("<image>", "image name or digest")
      .argument("[command...]", "command and arguments"),
  ).action(async (image: string, cmdArgs: string[], flags: RunFlags, cmd: Command) => {
    const info = await openEngine(cmd).runtime.create(configFromFlags(image, cmdArgs, flags));
    io.stdout(`${info.id}\n`);
  });

  program
    .command("start")
    .summary("start stopped or created containers")
    .argument("<container...>", "names or ids")
    .action(async (ids: string[], _f: unknown, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      await eachId(ids, io, async (id) => {
        await runtime.start(id);
        io.stdout(`${id}\n`);
      });
    });

  program
    .command("ps")
    .summary("list containers")
    .option("-a, --all", "show stopped containers too")
    .option("-q, --quiet", "only ids")
    .addOption(outputOption())
    .action(async (flags: { all?: boolean; quiet?: boolean; output: Output }, cmd: Command) => {
      const list = await openEngine(cmd).runtime.list({ all: flags.all ?? false });
      if (flags.output === "json") return io.stdout(`${JSON.stringify(list, null, 2)}\n`);
      if (flags.quiet) return io.stdout(list.map((c) => `${shortId(c.id)}\n`).join(""));
      const now = Date.now();
      io.stdout(
        table(
          ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
          list.map((c) => [
            shortId(c.id),
            c.image,
            command(c),
            ago(c.createdAt, now),
            status(c, now),
            ports(c),
            c.name,
          ]),
        ),
      );
    });

  program
    .command("logs")
    .summary("print a container's output")
    .argument("<container>", "name or id")
    .option("-f, --follow", "keep printing new output")
    .option("-n, --tail <lines>", "only the last N lines")
    .option("--since <duration|time>", "only output since, e.g. 10m or 2026-01-02T15:04:05Z")
    .option("-t, --timestamps", "show timestamps")
    .action(
      async (
        id: string,
        f: { follow?: boolean; tail?: string; since?: string; timestamps?: boolean },
        cmd,
      ) => {
        const since = f.since
          ? /^\d+(ms|s|m|h)/.test(f.since)
            ? new Date(Date.now() - parseDurationMs("--since", f.since))
            : new Date(f.since)
          : undefined;
        if (since && Number.isNaN(since.getTime()))
          throw usageError(`--since: "${f.since}" is not a time or duration`);
        const abort = new AbortController();
        process.once("SIGINT", () => abort.abort());
        const lines = openEngine(cmd).runtime.logs(id, {
          follow: f.follow ?? false,
          ...(f.tail !== undefined ? { tail: parsePositiveInt("--tail", f.tail) } : {}),
          ...(since ? { since } : {}),
          signal: abort.signal,
        });
        for await (const line of lines) {
          const text = `${f.timestamps ? `${line.time} ` : ""}${line.line}\n`;
          (line.stream === "stderr" ? io.stderr : io.stdout)(text);
        }
      },
    );

  program
    .command("exec")
    .summary("run a command in a running container")
    .argument("<container>", "name or id")
    .argument("<command...>", "command and arguments")
    .option("-i, --interactive", "pass stdin through")
    .option("-t, --tty", "use this terminal (its size and resizing follow it)")
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeatable)", collect)
    .option("-u, --user <user>", "user (uid[:gid]) to run as")
    .option("-w, --workdir <dir>", "working directory")
    .passThroughOptions()
    .action(
      async (
        id: string,
        args: string[],
        f: { interactive?: boolean; tty?: boolean; env?: string[]; user?: string; workdir?: string },
        cmd,
      ) => {
        const { runtime } = openEngine(cmd);
        const options = {
          command: args,
          tty: f.tty ?? false,
          env: parseEnv(f.env ?? []),
          ...(f.user ? { user: f.user } : {}),
          ...(f.workdir ? { workdir: f.workdir } : {}),
        };
        const stdio =
          f.tty || f.interactive ? ("inherit" as const) : { stdout: process.stdout, stderr: process.stderr };
        process.exitCode = await runtime.exec(id, options, stdio);
      },
    );

  program
    .command("stop")
    .summary("stop running containers (signal, grace period, then SIGKILL)")
    .argument("<container...>", "names or ids")
    .option("-t, --time <seconds>", "grace period before SIGKILL (default: the container's, 10)")
    .action(async (ids: string[], f: { time?: string }, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      const timeoutMs = f.time !== undefined ? Number(f.time) * 1000 : undefined;
      if (timeoutMs !== undefined && !(timeoutMs >= 0))
        throw usageError(`-t: "${f.time}" is not a number of seconds`);
      await eachId(ids, io, async (id) => {
        await runtime.stop(id, timeoutMs !== undefined ? { timeoutMs } : {});
        io.stdout(`${id}\n`);
      });
    });

  program
    .command("kill")
    .summary("send a signal to running containers")
    .argument("<container...>", "names or ids")
    .option("-s, --signal <signal>", "signal to send", "SIGKILL")
    .action(async (ids: string[], f: { signal: string }, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      await eachId(ids, io, async (id) => {
        await runtime.kill(id, f.signal);
        io.stdout(`${id}\n`);
      });
    });

  program
    .command("restart")
    .summary("stop and start containers")
    .argument("<container...>", "names or ids")
    .action(async (ids: string[], _f: unknown, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      await eachId(ids, io, async (id) => {
        await runtime.restart(id);
        io.stdout(`${id}\n`);
      });
    });

  program
    .command("rm")
    .summary("remove containers")
    .argument("<container...>", "names or ids")
    .option("-f, --force", "kill and remove running containers")
    .action(async (ids: string[], f: { force?: boolean }, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      await eachId(ids, io, async (id) => {
        await runtime.remove(id, { force: f.force ?? false });
        io.stdout(`${id}\n`);
      });
    });

  program
    .command("inspect")
    .summary("show everything about containers, as JSON")
    .argument("<container...>", "names or ids")
    .action(async (ids: string[], _f: unknown, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      const found = await Promise.all(ids.map((id) => runtime.inspect(id)));
      io.stdout(`${JSON.stringify(found, null, 2)}\n`);
    });

  program
    .command("wait")
    .summary("wait for containers to stop and print their exit codes")
    .argument("<container...>", "names or ids")
    .action(async (ids: string[], _f: unknown, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      for (const id of ids) io.stdout(`${await runtime.wait(id)}\n`);
    });

  program
    .command("stats")
    .summary("show CPU, memory, pids and network use of running containers")
    .argument("[container...]", "names or ids (default: all running)")
    .addOption(outputOption())
    .action(async (ids: string[], f: { output: Output }, cmd: Command) => {
      const { runtime } = openEngine(cmd);
      const targets = ids.length ? ids : (await runtime.list()).map((c) => c.id);
      const first = await Promise.all(
        targets.map(async (id) => ({ id, info: await runtime.inspect(id), s: await runtime.stats(id) })),
      );
      await new Promise((r) => setTimeout(r, 500));
      const second = await Promise.all(first.map(async (x) => ({ ...x, s2: await runtime.stats(x.id) })));
      const rows = second.map(({ info, s, s2 }) => ({
        id: info.id,
        name: info.name,
        cpuPercent: Math.max(0, ((s2.cpuUsageNs - s.cpuUsageNs) / 500e6) * 100),
        ...s2,
      }));
      if (f.output === "json") return io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      io.stdout(
        table(
          ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "NET I/O", "PIDS"],
          rows.map((r) => [
            shortId(r.id),
            r.name,
            `${r.cpuPercent.toFixed(2)}%`,
            `${bytes(r.memoryBytes)} / ${bytes(r.memoryLimitBytes)}`,
            `${bytes(r.networkRxBytes)} / ${bytes(r.networkTxBytes)}`,
            String(r.pids),
          ]),
        ),
      );
    });

  // Run by conmon when a container exits: clean up, then apply the restart policy.
  program
    .command("container-exited", { hidden: true })
    .argument("<id>")
    .action(async (id: string, _f: unknown, cmd: Command) => {
      await openEngine(cmd).runtime.handleExit(id);
    });
}
