"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { errorMessage } from "../lib/errors.ts";
import { teamQuery, useStackTeam } from "../lib/stack-team.ts";
import { useTRPC } from "../lib/trpc.ts";
import { ConfirmDialog } from "./confirm-dialog.tsx";

/** Remove the stack: a dialog where the stack's name must be typed, then back to the list. */
export function RemoveStackButton({ stack }: { stack: string }) {
  const trpc = useTRPC();
  const team = useStackTeam();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const remove = useMutation(
    trpc.stacks.remove.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries(trpc.stacks.get.queryFilter({ team, name: stack }));
        await queryClient.invalidateQueries(trpc.stacks.list.queryFilter());
        router.push(`/stacks${teamQuery(team)}`);
      },
    }),
  );
  const close = () => {
    setOpen(false);
    setTyped("");
    remove.reset();
  };
  return (
    <>
      <button
        type="button"
        className="btn btn-danger-ghost"
        onClick={() => setOpen(true)}
        data-testid="remove-stack"
      >
        Remove
      </button>
      <ConfirmDialog
        open={open}
        title={`Remove ${stack}?`}
        confirmLabel="Remove stack"
        busyLabel="Removing…"
        danger
        busy={remove.isPending}
        confirmDisabled={typed !== stack}
        error={remove.isError ? errorMessage(remove.error) : null}
        testId="remove-dialog"
        onCancel={close}
        onConfirm={() => remove.mutate({ team, name: stack })}
      >
        <p>
          Its services and tasks go, and every host stops their containers. The revision history goes too.
        </p>
        <label className="form-field">
          <span>
            Type <strong className="mono">{stack}</strong> to confirm
          </span>
          <input
            name="confirm-name"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            // biome-ignore lint/a11y/noAutofocus: the dialog exists to take this one answer
            autoFocus
          />
        </label>
      </ConfirmDialog>
    </>
  );
}
