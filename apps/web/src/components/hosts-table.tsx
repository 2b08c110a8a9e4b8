"use client";

import Link from "next/link";
import { formatBytes } from "../lib/format.ts";
import type { Host } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";
import { StateBadge } from "./state-badge.tsx";

export function ConnectedDot({ connected }: { connected: boolean }) {
  return (
    <span
      className={connected ? "conn conn-on" : "conn conn-off"}
      data-testid="host-connected"
      data-connected={connected}
      title={connected ? "the agent is connected" : "the agent is not connected"}
    >
      <span className="conn-dot" aria-hidden="true" />
      {connected ? "connected" : "offline"}
    </span>
  );
}

export function runtimeLabel(host: Host): string {
  const rt = host.facts.runtime;
  return rt ? `${rt.name} ${rt.version}` : "none";
}

export function HostsTable({ hosts }: { hosts: Host[] }) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="hosts-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>State</th>
            <th>Address</th>
            <th>Last seen</th>
            <th className="num">CPUs</th>
            <th className="num">Memory</th>
            <th>Kernel</th>
            <th>cgroup</th>
            <th>Runtime</th>
            <th>Agent</th>
            <th>Connection</th>
          </tr>
        </thead>
        <tbody>
          {hosts.map((h) => (
            <tr
              key={h.id}
              data-testid="host-row"
              data-host-name={h.name}
              data-host-id={h.id}
              data-state={h.state}
            >
              <td>
                <Link href={`/hosts/${encodeURIComponent(h.id)}`} className="strong-link">
                  {h.name}
                </Link>
              </td>
              <td>
                <StateBadge state={h.state} />
              </td>
              <td className="mono">{h.address ?? "—"}</td>
              <td>
                <RelativeTime past value={h.lastSeenAt} testId="host-last-seen" />
              </td>
              <td className="num">{h.cpus}</td>
              <td className="num">{formatBytes(h.memoryBytes)}</td>
              <td className="mono truncate" title={h.facts.kernel}>
                {h.facts.kernel}
              </td>
              <td>{h.facts.cgroupMode}</td>
              <td className="mono">{runtimeLabel(h)}</td>
              <td className="mono">{h.agentVersion}</td>
              <td>
                <ConnectedDot connected={h.connected} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
