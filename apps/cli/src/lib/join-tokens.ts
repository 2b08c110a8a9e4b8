import type { RouterOutputs } from "@berth/web/router";
import { type Api, call, type Target } from "./api.ts";
import { parseDuration } from "./duration.ts";
import { absoluteTime, relativeTime } from "./format.ts";
import { formatTable } from "./table.ts";

export type CreatedJoinToken = RouterOutputs["joinTokens"]["create"];
export type JoinTokenRow = RouterOutputs["joinTokens"]["list"][number];

/** The control plane's limits, checked here too so a mistake gets a clear message before any request. */
export const MAX_TTL_MS = 30 * 86_400_000;
export const MAX_USES = 10_000;

/** `--ttl`: a duration from 1s to 30d, in whole seconds. */
export function parseTtlSeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms > MAX_TTL_MS) throw new Error(`"${text}" is too long: a join token lives at most 30d`);
  return Math.round(ms / 1000);
}

/** `--uses`: how many hosts may join with the token, 1 to 10000. */
export function parseMaxUses(text: string): number {
  const value = text.trim();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_USES) {
    throw new Error(`"${text}" is not a number of uses: give a whole number from 1 to ${MAX_USES}`);
  }
  return Number(value);
}

export function createJoinToken(
  api: Api,
  target: Target,
  input: { description?: string; ttlSeconds?: number; maxUses?: number },
): Promise<CreatedJoinToken> {
  return call(target, () => api.joinTokens.create.mutate(input));
}

export function listJoinTokens(api: Api, target: Target): Promise<JoinTokenRow[]> {
  return call(target, () => api.joinTokens.list.query());
}

export function revokeJoinToken(api: Api, target: Target, id: string): Promise<{ ok: boolean }> {
  return call(target, () => api.joinTokens.revoke.mutate({ id }));
}

/** What to run on a new host to join it. */
export function agentCommand(server: string, token: string): string {
  return `berth-agent --server ${server} --join-token ${token}`;
}

export function createdText(created: CreatedJoinToken, server: string, now: number): string {
  const uses = created.maxUses === 1 ? "1 use" : `${created.maxUses} uses`;
  const expires = `${relativeTime(created.expiresAt, now)} (${absoluteTime(created.expiresAt)})`;
  return [
    `Created join token ${created.id}: ${uses}, expires ${expires}.`,
    "",
    "Token (shown only this once):",
    "",
    `  ${created.token}`,
    "",
    "To join a host, run this on it:",
    "",
    `  ${agentCommand(server, created.token)}`,
    "",
  ].join("\n");
}

export function joinTokensTable(tokens: readonly JoinTokenRow[], now: number): string {
  return formatTable(
    ["ID", "STATUS", "USES", "EXPIRES", "CREATED", "LAST USED", "DESCRIPTION"],
    tokens.map((t) => [
      t.id,
      t.status,
      `${t.uses}/${t.maxUses}`,
      relativeTime(t.expiresAt, now),
      relativeTime(t.createdAt, now),
      t.lastUsedAt ? relativeTime(t.lastUsedAt, now) : "never",
      t.description,
    ]),
  );
}
