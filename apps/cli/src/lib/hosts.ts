import type { RouterOutputs } from "@berth/web/router";
import { type Api, call, type Target } from "./api.ts";
import { CliError } from "./errors.ts";
import { formatBytes, relativeTime, whenText } from "./format.ts";
import { formatFields, formatTable } from "./table.ts";

export type HostRow = RouterOutputs["hosts"]["list"][number];
export type HostDetail = RouterOutputs["hosts"]["get"];

export function listHosts(api: Api, target: Target): Promise<HostRow[]> {
  return call(target, () => api.hosts.list.query());
}

export function getHost(api: Api, target: Target, id: string): Promise<HostDetail> {
  return call(target, () => api.hosts.get.query({ id }));
}

function runtimeText(host: HostRow): string {
  const runtime = host.facts.runtime;
  return runtime ? `${runtime.name} ${runtime.version}`.trim() : "none";
}

/**
 * `ready` while the agent is connected; otherwise the state says why (`down`,
 * or not connected yet). A drained host says so.
 */
function stateText(host: HostRow): string {
  const notes = [
    host.state === "ready" && !host.connected ? "disconnected" : "",
    host.availability === "drain" ? "drain" : "",
  ].filter(Boolean);
  return notes.length ? `${host.state} (${notes.join(", ")})` : host.state;
}

export const HOST_COLUMNS = [
  "NAME",
  "ID",
  "STATE",
  "ADDRESS",
  "CPUS",
  "MEMORY",
  "RUNTIME",
  "AGENT",
  "LAST SEEN",
];

export function hostsTable(hosts: readonly HostRow[], now: number): string {
  return formatTable(
    HOST_COLUMNS,
    hosts.map((h) => [
      h.name,
      h.id,
      stateText(h),
      h.address ?? "",
      h.cpus,
      formatBytes(h.memoryBytes),
      runtimeText(h),
      h.agentVersion,
      relativeTime(h.lastSeenAt, now),
    ]),
  );
}

export function hostDetails(detail: HostDetail, now: number): string {
  const h = detail.host;
  const f = h.facts;
  const labels = Object.entries(h.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  const fields = formatFields([
    ["Name", h.name],
    ["ID", h.id],
    ["State", `${h.state}${h.connected ? ", agent connected" : ", agent not connected"}`],
    ["Availability", h.availability === "drain" ? "drain (no tasks run here)" : h.availability],
    ["Address", h.address],
    ["Last seen", whenText(h.lastSeenAt, now)],
    ["Joined", whenText(h.createdAt, now)],
    ["Agent", h.agentVersion],
    ["OS", f.os],
    ["Kernel", f.kernel],
    ["Arch", f.arch],
    ["CPUs", h.cpus],
    ["Memory", formatBytes(h.memoryBytes)],
    ["Cgroups", f.cgroupMode],
    ["Runtime", runtimeText(h)],
    ["Conmon", f.conmon?.version ?? "none"],
    ["CNI plugins", f.cniPlugins.length ? f.cniPlugins.join(", ") : "none"],
    ["Labels", labels.length ? labels.join(", ") : "none"],
  ]);
  if (detail.events.length === 0) return `${fields}\nNo events.\n`;
  const events = formatTable(
    ["WHEN", "EVENT", "MESSAGE"],
    detail.events.map((e) => [relativeTime(e.at, now), e.kind, e.message]),
  );
  return `${fields}\nRecent events:\n${indent(events)}`;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n");
}

/**
 * A host by ID, or by name when no host has that ID. A name that several
 * hosts share is refused, listing their IDs.
 */
export async function findHost(api: Api, target: Target, ref: string): Promise<HostDetail> {
  try {
    return await getHost(api, target, ref);
  } catch (err) {
    if (!(err instanceof CliError && err.code === "NotFound")) throw err;
    const named = (await listHosts(api, target)).filter((h) => h.name === ref);
    if (named.length === 1) return getHost(api, target, named[0]!.id);
    if (named.length > 1) {
      throw new CliError(
        "InvalidArgument",
        `${named.length} hosts are named ${ref}: use an ID (${named.map((h) => h.id).join(", ")})`,
      );
    }
    throw new CliError("NotFound", `no host has the ID or name ${ref}`, { hint: "see `berth hosts ls`" });
  }
}

/** Drain a host (its tasks move away, none land there) or make it active again. */
export function setAvailability(api: Api, target: Target, id: string, availability: "active" | "drain") {
  return call(target, () => api.hosts.setAvailability.mutate({ id, availability }));
}

export function setLabels(api: Api, target: Target, id: string, labels: Record<string, string | null>) {
  return call(target, () => api.hosts.label.mutate({ id, labels }));
}

const LABEL_KEY = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** `zone=a` sets a label, `zone-` removes it (as kubectl label does). */
export function parseLabelArgs(args: readonly string[]): Record<string, string | null> {
  if (args.length === 0) throw new Error("give at least one KEY=VALUE or KEY-");
  const labels: Record<string, string | null> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const key = eq >= 0 ? arg.slice(0, eq) : arg.endsWith("-") ? arg.slice(0, -1) : arg;
    if (eq < 0 && !arg.endsWith("-"))
      throw new Error(`"${arg}" is neither KEY=VALUE nor KEY- (to remove KEY)`);
    if (!LABEL_KEY.test(key)) throw new Error(`label key "${key}": letters, digits, _ . - (at most 63)`);
    if (Object.hasOwn(labels, key)) throw new Error(`label ${key} is given twice`);
    const value = eq >= 0 ? arg.slice(eq + 1) : null;
    if (value !== null && value.length > 255)
      throw new Error(`label ${key}: a value is at most 255 characters`);
    labels[key] = value;
  }
  return labels;
}

export function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(", ") : "none";
}
