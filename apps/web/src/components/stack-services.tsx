"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../lib/errors.ts";
import { useStackTeam } from "../lib/stack-team.ts";
import { replicaTone, updateTone } from "../lib/stacks.ts";
import { type StackService, useTRPC } from "../lib/trpc.ts";
import { ToneBadge } from "./tone-badge.tsx";

/** Scale a replicated service: a number and Apply, which writes a new revision. */
function ScaleControl({ stack, service }: { stack: string; service: StackService }) {
  const trpc = useTRPC();
  const team = useStackTeam();
  const queryClient = useQueryClient();
  const [value, setValue] = useState(String(service.replicas));
  const scale = useMutation(
    trpc.stacks.scale.mutationOptions({
      onSettled: () => queryClient.invalidateQueries(trpc.stacks.pathFilter()),
    }),
  );
  const n = Number(value);
  const valid = value.trim() !== "" && Number.isInteger(n) && n >= 0 && n <= 10_000;
  const changed = valid && n !== service.replicas;
  return (
    <form
      className="scale"
      data-testid="scale-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (changed) scale.mutate({ team, name: stack, service: service.name, replicas: n });
      }}
    >
      <input
        type="number"
        min={0}
        max={10_000}
        step={1}
        value={value}
        aria-label={`Replicas of ${service.name}`}
        aria-invalid={!valid}
        name="replicas"
        onChange={(e) => {
          setValue(e.target.value);
          scale.reset();
        }}
      />
      <button type="submit" className="btn btn-sm" disabled={!changed || scale.isPending}>
        {scale.isPending ? "Scaling…" : "Apply"}
      </button>
      {scale.isError && (
        <span className="form-error" role="alert">
          {errorMessage(scale.error)}
        </span>
      )}
    </form>
  );
}

export function ServicesTable({
  stack,
  services,
  canChange,
}: {
  stack: string;
  services: StackService[];
  canChange: boolean;
}) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="services-table">
        <thead>
          <tr>
            <th>Service</th>
            <th>Image</th>
            <th>Replicas</th>
            {canChange && <th>Scale</th>}
            <th>Update</th>
            <th>Ports</th>
          </tr>
        </thead>
        <tbody>
          {services.map((s) => (
            <tr
              key={s.id}
              data-testid="service-row"
              data-service={s.name}
              data-replicas={s.replicas}
              data-running={s.running}
            >
              <td className="strong">{s.name}</td>
              <td className="mono truncate" title={s.image}>
                {s.image}
              </td>
              <td>
                <ToneBadge tone={replicaTone(s.running, s.replicas)} testId="service-replicas">
                  {s.running} / {s.replicas}
                </ToneBadge>
                {s.mode === "global" && <span className="muted"> global</span>}
              </td>
              {canChange && (
                <td>
                  {s.mode === "replicated" ? (
                    // Remounts with the new replica count once the scale lands.
                    <ScaleControl key={s.replicas} stack={stack} service={s} />
                  ) : (
                    <span className="muted">one per host</span>
                  )}
                </td>
              )}
              <td className="update-cell">
                <ToneBadge tone={updateTone(s.updateState)} testId="service-update" value={s.updateState}>
                  {s.updateState.replace("_", " ")}
                </ToneBadge>
                {s.updateMessage && <span className="update-message">{s.updateMessage}</span>}
              </td>
              <td className="mono">
                {s.ports.length === 0 ? <span className="muted">—</span> : s.ports.join(", ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
