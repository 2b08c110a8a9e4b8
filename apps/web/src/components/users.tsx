"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { errorMessage } from "../lib/errors.ts";
import { grantable, type Role, roleAtLeast } from "../lib/roles.ts";
import { type CreatedUser, type UserRow, useTRPC } from "../lib/trpc.ts";
import { FormError } from "./form-error.tsx";
import { RelativeTime } from "./relative-time.tsx";
import { SecretPanel } from "./secret-panel.tsx";

/** Disable a user, or enable them again (not oneself, not someone above). */
function DisableButton({ user }: { user: UserRow }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const set = useMutation(
    trpc.users.setDisabled.mutationOptions({
      onSettled: () => queryClient.invalidateQueries(trpc.users.list.queryFilter()),
    }),
  );
  if (set.isError) return <span className="form-error">{errorMessage(set.error)}</span>;
  const disabled = user.disabledAt !== null;
  return (
    <button
      type="button"
      className={disabled ? "btn btn-sm btn-ghost" : "btn btn-sm btn-danger-ghost"}
      data-testid={disabled ? "enable-user" : "disable-user"}
      disabled={set.isPending}
      onClick={() => set.mutate({ username: user.username, disabled: !disabled })}
    >
      {disabled ? "Enable" : "Disable"}
    </button>
  );
}

export function UsersTable({
  users,
  me,
}: {
  users: UserRow[];
  me: { username: string; role: string } | null;
}) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="users-table">
        <thead>
          <tr>
            <th>User</th>
            <th>Fleet role</th>
            <th>Teams</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr
              key={u.id}
              data-testid="user-row"
              data-username={u.username}
              data-role={u.role ?? ""}
              data-disabled={u.disabledAt !== null}
            >
              <td>
                <span className="strong">{u.username}</span>
                {u.displayName && <span className="muted"> · {u.displayName}</span>}
              </td>
              <td>{u.disabledAt ? "disabled" : (u.role ?? <span className="muted">none</span>)}</td>
              <td className="mono">{u.teams.join(", ")}</td>
              <td>
                <RelativeTime past value={u.createdAt} />
              </td>
              <td className="actions">
                {me && u.username !== me.username && roleAtLeast(me.role, (u.role ?? "viewer") as Role) && (
                  <DisableButton user={u} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** 20 random characters from the browser's generator: the new user's first password, shown once. */
function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(15));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_");
}

/** A new user with a fleet role up to the creator's own; the password is generated and shown once. */
export function NewUserForm({ myRole }: { myRole: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [created, setCreated] = useState<(CreatedUser & { password: string }) | null>(null);
  const create = useMutation(trpc.users.create.mutationOptions());
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim()) return;
    const password = generatePassword();
    create.mutate(
      { username: username.trim(), role, password },
      {
        onSuccess: (user) => {
          setCreated({ ...user, password });
          setUsername("");
          void queryClient.invalidateQueries(trpc.users.list.queryFilter());
        },
      },
    );
  };
  return (
    <div className="stack">
      <form className="panel form-inline" onSubmit={submit} data-testid="new-user-form">
        <label className="form-field grow">
          <span>Username</span>
          <input
            name="username"
            value={username}
            maxLength={63}
            placeholder="lower-case letters, digits, . _ -"
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="form-field">
          <span>Fleet role</span>
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {grantable(myRole).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn btn-primary" disabled={create.isPending || !username.trim()}>
          {create.isPending ? "Creating…" : "Create user"}
        </button>
      </form>
      <FormError error={create.error} testId="new-user-error" />
      {created && (
        <SecretPanel
          title={`User ${created.username} created (${created.role})`}
          notice={`Copy the password now and give it to ${created.username}: this is the only time it is shown.`}
          secret={created.password}
          testIds={{ panel: "new-user-panel", secret: "new-user-password", copy: "copy-user-password" }}
          onDone={() => setCreated(null)}
        />
      )}
    </div>
  );
}
