import type { Command } from "commander";
import { parseFlag } from "../../lib/errors.ts";
import {
  EVENT_TYPES,
  eventLine,
  followEvents,
  parseSince,
  parseTypes,
  recentEvents,
} from "../../lib/events.ts";
import { processInterrupts, untilInterrupted } from "../../lib/interrupt.ts";
import { printResult } from "../../lib/io.ts";
import { type Deps, openSession } from "../context.ts";

interface EventsFlags {
  follow?: boolean;
  since?: string;
  type?: string[];
  tail: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseTail(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new Error(`"${text}" is not a number from 1 to 500`);
  return n;
}

export function registerEvents(program: Command, deps: Deps): void {
  program
    .command("events")
    .summary("print what happened in the fleet: deploys, task changes, hosts")
    .description(
      "Print events, oldest first: stacks deployed, scaled, rolled back and removed; services updated; every task transition with its reason; hosts joining, going down, drained. With -f, keep printing new ones until Ctrl-C.",
    )
    .option("-f, --follow", "keep printing events as they happen, until Ctrl-C")
    .option("--since <when>", "events from this long ago (10m, 2h, 1d) or this time (2025-01-31T09:00:00Z)")
    .option(
      "--type <type>",
      `only events about these (${EVENT_TYPES.join(", ")}; repeatable or a,b)`,
      collect,
    )
    .option("-n, --tail <n>", "without --since: how many of the latest events to print first", "50")
    .addHelpText(
      "after",
      `
With --output json: an array of events; with -f, one JSON object per line.

Examples:
  berth events
  berth events -f --type task,service
  berth events --since 1h --type host
  berth events -f -o json | jq -r .message`,
    )
    .action(async (flags: EventsFlags, cmd: Command) => {
      const types = flags.type
        ? parseFlag("--type", flags.type.join(","), () => parseTypes(flags.type ?? []))
        : [];
      const sinceMs =
        flags.since === undefined
          ? undefined
          : parseFlag("--since", flags.since, (v) => parseSince(v, deps.now()));
      const tail = parseFlag("--tail", flags.tail, parseTail);
      const s = await openSession(deps, cmd);
      const json = s.flags.output === "json";
      const { events, cursor } = await recentEvents(s.api, s.target, {
        types,
        tail,
        ...(sinceMs === undefined ? {} : { sinceMs }),
      });
      if (!flags.follow) {
        printResult(deps.io, s.flags.output, events, (rows) => {
          if (rows.length === 0) deps.io.stderr("berth: no events\n");
          return rows.map(eventLine).join("");
        });
        return;
      }
      const print = (e: (typeof events)[number]) =>
        deps.io.stdout(json ? `${JSON.stringify(e)}\n` : eventLine(e));
      for (const e of events) print(e);
      await untilInterrupted(deps.interrupts?.() ?? processInterrupts(), (signal) =>
        followEvents(s.api, s.target, {
          types,
          cursor,
          signal,
          onEvent: print,
          ...(deps.pollIntervalMs ? { intervalMs: deps.pollIntervalMs } : {}),
        }),
      );
    });
}
