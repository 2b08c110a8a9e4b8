"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { grantable, type Role, roleAtLeast } from "../lib/roles.ts";
import { type TeamMember, type TeamRow, useTRPC } from "../lib/trpc.ts";
import { FormError } from "./form-error.tsx";
import { RelativeTime } from "./relative-time.tsx";

export const teamHref = (slug: string) => `/teams/${encodeURIComponent(slug)}`;

export function TeamsTable({ teams }: { teams: TeamRow[] }) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="teams-table">
        <thead>
          <tr>
            <th>Team</th>
            <th>Name</th>
            <th className="num">Members</th>
            <th>Your role</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {teams.map((t) => (
            <tr key={t.id} data-testid="team-row" data-team={t.slug} data-members={t.members}>
              <td>
                <Link href={teamHref(t.slug)} className="strong-link mono">
                  {t.slug}
                </Link>
              </td>
              <td>{t.name}</td>
              <td className="num">{t.members}</td>
              <td>{t.role ?? <span className="muted">fleet admin</span>}</td>
              <td>
                <RelativeTime past value={t.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Fleet admins only: a new team, by name and (optionally) slug. */
export function NewTeamForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const create = useMutation(
    trpc.teams.create.mutationOptions({
      onSuccess: () => {
        setName("");
        setSlug("");
        void queryClient.invalidateQueries(trpc.teams.list.queryFilter());
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    create.mutate({ name: name.trim(), ...(slug.trim() ? { slug: slug.trim() } : {}) });
  };
  return (
    <div className="stack">
      <form className="panel form-inline" onSubmit={submit} data-testid="new-team-form">
        <label className="form-field grow">
          <span>Team name</span>
          <input
            name="name"
            value={name}
            maxLength={100}
            placeholder="e.g. Payments"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label className="form-field">
          <span>Slug (optional)</span>
          <input
            name="slug"
            value={slug}
            maxLength={63}
            placeholder="made from the name"
            onChange={(e) => setSlug(e.target.value)}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
          {create.isPending ? "Creating…" : "Create team"}
        </button>
      </form>
      <FormError error={create.error} testId="new-team-error" />
    </div>
  );
}

function useSetMember(team: string) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.teams.setMember.mutationOptions({
      onSettled: () => {
        void queryClient.invalidateQueries(trpc.teams.members.queryFilter({ team }));
        void queryClient.invalidateQueries(trpc.teams.list.queryFilter());
      },
    }),
  );
}

function RoleSelect(props: {
  id?: string;
  value: Role;
  choices: Role[];
  onChange(role: Role): void;
  disabled?: boolean;
  name: string;
}) {
  return (
    <select
      id={props.id}
      name={props.name}
      value={props.value}
      disabled={props.disabled}
      onChange={(e) => props.onChange(e.target.value as Role)}
    >
      {props.choices.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

/**
 * A team's members. `manageAs` is the role the viewer acts with in the team
 * (null: they only look): they change roles up to theirs, of members not above them.
 */
export function MembersTable(props: { team: string; members: TeamMember[]; manageAs: string | null }) {
  const { team, members, manageAs } = props;
  const setMember = useSetMember(team);
  const choices = grantable(manageAs);
  return (
    <div className="stack">
      <div className="panel table-wrap">
        <table className="table" data-testid="members-table">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Member since</th>
              {manageAs && <th />}
            </tr>
          </thead>
          <tbody>
            {members.map((m) => {
              const editable = manageAs !== null && roleAtLeast(manageAs, m.role as Role);
              return (
                <tr key={m.userId} data-testid="member-row" data-username={m.username} data-role={m.role}>
                  <td>
                    <span className="strong">{m.username}</span>
                    {m.displayName && <span className="muted"> · {m.displayName}</span>}
                  </td>
                  <td>
                    {editable ? (
                      <RoleSelect
                        name="role"
                        value={m.role as Role}
                        choices={choices}
                        disabled={setMember.isPending}
                        onChange={(role) => setMember.mutate({ team, username: m.username, role })}
                      />
                    ) : (
                      m.role
                    )}
                  </td>
                  <td>
                    <RelativeTime past value={m.since} />
                  </td>
                  {manageAs && (
                    <td className="actions">
                      {editable && (
                        <button
                          type="button"
                          className="btn btn-sm btn-danger-ghost"
                          data-testid="remove-member"
                          disabled={setMember.isPending}
                          onClick={() => setMember.mutate({ team, username: m.username, role: null })}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <FormError error={setMember.error} testId="member-error" />
    </div>
  );
}

/** Add a user to the team with a role the manager may give. */
export function AddMemberForm({ team, manageAs }: { team: string; manageAs: string }) {
  const setMember = useSetMember(team);
  const choices = grantable(manageAs);
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim()) return;
    setMember.mutate({ team, username: username.trim(), role }, { onSuccess: () => setUsername("") });
  };
  return (
    <div className="stack">
      <form className="panel form-inline" onSubmit={submit} data-testid="add-member-form">
        <label className="form-field grow">
          <span>Username</span>
          <input
            name="username"
            value={username}
            maxLength={100}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="form-field" htmlFor="new-member-role">
          <span>Role</span>
          <RoleSelect
            id="new-member-role"
            name="new-role"
            value={role}
            choices={choices}
            onChange={setRole}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={setMember.isPending || !username.trim()}>
          {setMember.isPending ? "Adding…" : "Add member"}
        </button>
      </form>
      <FormError error={setMember.error} testId="add-member-error" />
    </div>
  );
}
