"use client";

import type { ReactNode } from "react";
import { formatBytes, formatDateTime } from "../lib/format.ts";
import type { FleetEvent, Host } from "../lib/trpc.ts";
import { EventsTable } from "./events-table.tsx";
import { ConnectedDot, runtimeLabel } from "./hosts-table.tsx";
import { RelativeTime } from "./relative-time.tsx";

function Field({ label, children, mono }: { label: string; children: ReactNode; mono?: boolean }) {
  return (
    <div className="field">
      <dt>{label}</dt>
      <dd className={mono ? "mono" : undefined}>{children}</dd>
    </div>
  );
}

function Chips({ items, empty, testId }: { items: string[]; empty: string; testId: string }) {
  if (items.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="chips" data-testid={testId}>
      {items.map((item) => (
        <li key={item} className="chip mono">
          {item}
        </li>
      ))}
    </ul>
  );
}

export function HostDetail({ host, events }: { host: Host; events: FleetEvent[] }) {
  const f = host.facts;
  const labels = Object.entries(host.labels).map(([k, v]) => `${k}=${v}`);
  return (
    <div className="stack" data-testid="host-detail" data-host-name={host.name} data-state={host.state}>
      <section className="panel">
        <div className="panel-head">
          <h2>Facts</h2>
          <ConnectedDot connected={host.connected} />
        </div>
        <dl className="facts">
          <Field label="Host ID" mono>
            {host.id}
          </Field>
          <Field label="Address" mono>
            {host.address ?? "—"}
          </Field>
          <Field label="Hostname" mono>
            {f.hostname}
          </Field>
          <Field label="OS / arch">
            {f.os} / {f.arch}
          </Field>
          <Field label="Kernel" mono>
            {f.kernel}
          </Field>
          <Field label="CPUs">{host.cpus}</Field>
          <Field label="Memory">{formatBytes(host.memoryBytes)}</Field>
          <Field label="cgroup mode">{f.cgroupMode}</Field>
          <Field label="Runtime" mono>
            {runtimeLabel(host)}
          </Field>
          <Field label="conmon" mono>
            {f.conmon?.version ?? "not installed"}
          </Field>
          <Field label="Agent version" mono>
            {host.agentVersion}
          </Field>
          <Field label="Last seen">
            <RelativeTime past value={host.lastSeenAt} />{" "}
            <span className="muted">({formatDateTime(host.lastSeenAt)})</span>
          </Field>
          <Field label="Joined">{formatDateTime(host.createdAt)}</Field>
        </dl>
      </section>
      <div className="grid-2">
        <section className="panel">
          <div className="panel-head">
            <h2>Labels</h2>
          </div>
          <Chips items={labels} empty="No labels." testId="host-labels" />
        </section>
        <section className="panel">
          <div className="panel-head">
            <h2>CNI plugins</h2>
          </div>
          <Chips items={f.cniPlugins} empty="No CNI plugins found on this host." testId="host-cni-plugins" />
        </section>
      </div>
      <section>
        <h2 className="section-title">Recent events</h2>
        <EventsTable events={events} showSubject={false} />
      </section>
    </div>
  );
}
