"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type CreatedJoinToken, useTRPC } from "../lib/trpc.ts";
import { FormError } from "./form-error.tsx";
import { NewTokenPanel } from "./new-token-panel.tsx";

const TTL_CHOICES = [
  { seconds: 15 * 60, label: "15 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 24 * 3600, label: "24 hours" },
  { seconds: 7 * 24 * 3600, label: "7 days" },
  { seconds: 30 * 24 * 3600, label: "30 days" },
] as const;

export function JoinTokenForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [description, setDescription] = useState("");
  const [ttlSeconds, setTtlSeconds] = useState(24 * 3600);
  const [maxUses, setMaxUses] = useState("1");
  const [created, setCreated] = useState<CreatedJoinToken | null>(null);
  const create = useMutation(
    trpc.joinTokens.create.mutationOptions({
      onSuccess: (token) => {
        setCreated(token);
        setDescription("");
        void queryClient.invalidateQueries(trpc.joinTokens.list.queryFilter());
      },
    }),
  );

  const uses = Number(maxUses);
  const usesValid = Number.isInteger(uses) && uses >= 1 && uses <= 10_000;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!usesValid) return;
    create.mutate({ description: description.trim() || undefined, ttlSeconds, maxUses: uses });
  };

  return (
    <div className="stack">
      <form className="panel form-inline" onSubmit={submit} data-testid="join-token-form">
        <label className="form-field grow">
          <span>Description</span>
          <input
            name="description"
            value={description}
            maxLength={200}
            placeholder="e.g. rack 4, eu-west"
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <label className="form-field">
          <span>Expires after</span>
          <select name="ttl" value={ttlSeconds} onChange={(e) => setTtlSeconds(Number(e.target.value))}>
            {TTL_CHOICES.map((c) => (
              <option key={c.seconds} value={c.seconds}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <label className="form-field narrow">
          <span>Max uses</span>
          <input
            name="maxUses"
            type="number"
            min={1}
            max={10_000}
            value={maxUses}
            aria-invalid={!usesValid}
            onChange={(e) => setMaxUses(e.target.value)}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={create.isPending || !usesValid}>
          {create.isPending ? "Creating…" : "Create join token"}
        </button>
      </form>
      {!usesValid && <p className="form-error">Max uses must be a whole number from 1 to 10000.</p>}
      <FormError error={create.error} />
      {created && <NewTokenPanel created={created} onDone={() => setCreated(null)} />}
    </div>
  );
}
