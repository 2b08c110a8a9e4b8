import { timingSafeEqual } from "node:crypto";
import { type Db, type HostAvailability, hashSecret, newId, newSecret, schema } from "@berth/db";
import { BerthError, type HostFacts } from "@berth/protocol";
import { and, asc, eq, ne } from "drizzle-orm";
import { type Actor, recordAudit, recordEvent } from "./events.ts";
import { consumeJoinToken } from "./join-tokens.ts";

export const HOST_CREDENTIAL_PREFIX = "bhc";

export interface AgentIdentity {
  facts: HostFacts;
  agentVersion: string;
  address: string | null;
}

/**
 * Turn a join token into a new host with its own credential, in one
 * transaction: if anything fails, the token is not used and no host exists.
 */
export async function joinHost(db: Db, token: string, agent: AgentIdentity) {
  const hostId = newId("host");
  const credential = newSecret(HOST_CREDENTIAL_PREFIX);
  await db.transaction(async (tx) => {
    const tokenId = await consumeJoinToken(tx, token);
    await tx.insert(schema.hosts).values({
      id: hostId,
      name: agent.facts.hostname,
      address: agent.address,
      facts: agent.facts,
      cpus: agent.facts.cpus,
      memoryBytes: agent.facts.memoryBytes,
      agentVersion: agent.agentVersion,
      state: "ready",
    });
    await tx.insert(schema.hostCredentials).values({ hostId, secretHash: hashSecret(credential) });
    await recordEvent(tx, {
      kind: "host.joined",
      subjectType: "host",
      subjectId: hostId,
      message: `${agent.facts.hostname} joined with join token ${tokenId}`,
      data: { tokenId, address: agent.address },
    });
  });
  return { hostId, credential };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Check a host credential and refresh what the agent reports. A host that was
 * `down` becomes `ready` again (with an event). The error for an unknown host
 * and a wrong secret is the same, so neither can be probed.
 */
export async function authenticateHost(db: Db, hostId: string, secret: string, agent: AgentIdentity) {
  if (!(await verifyHostCredential(db, hostId, secret))) {
    throw new BerthError("PermissionDenied", "the host credential is not valid for this host");
  }
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ state: schema.hosts.state })
      .from(schema.hosts)
      .where(eq(schema.hosts.id, hostId))
      .for("update");
    if (!before) throw new BerthError("PermissionDenied", "the host credential is not valid for this host");
    const [host] = await tx
      .update(schema.hosts)
      .set({
        facts: agent.facts,
        cpus: agent.facts.cpus,
        memoryBytes: agent.facts.memoryBytes,
        agentVersion: agent.agentVersion,
        address: agent.address,
        lastSeenAt: new Date(),
        updatedAt: new Date(),
        state: before.state === "down" ? "ready" : before.state,
      })
      .where(eq(schema.hosts.id, hostId))
      .returning();
    if (before.state === "down") {
      await recordEvent(tx, {
        kind: "host.ready",
        subjectType: "host",
        subjectId: hostId,
        message: `${agent.facts.hostname} is back`,
      });
    }
    return { host: host!, cameBack: before.state === "down" };
  });
}

/** The host whose credential this is, or null (unknown host and wrong secret look the same). */
export async function verifyHostCredential(
  db: Db,
  hostId: string,
  secret: string,
): Promise<{ id: string; name: string } | null> {
  const [row] = await db
    .select({ id: schema.hosts.id, name: schema.hosts.name, secretHash: schema.hostCredentials.secretHash })
    .from(schema.hostCredentials)
    .innerJoin(schema.hosts, eq(schema.hosts.id, schema.hostCredentials.hostId))
    .where(eq(schema.hostCredentials.hostId, hostId));
  if (!row || !sameSecret(row.secretHash, hashSecret(secret))) return null;
  return { id: row.id, name: row.name };
}

/**
 * Record a heartbeat. Cheap in the common case (one update); a host that had
 * been marked down becomes ready again. Returns true when the state changed.
 */
export async function recordHeartbeat(db: Db, hostId: string): Promise<boolean> {
  const h = schema.hosts;
  const now = new Date();
  const updated = await db
    .update(h)
    .set({ lastSeenAt: now })
    .where(and(eq(h.id, hostId), ne(h.state, "down")))
    .returning({ id: h.id });
  if (updated.length > 0) return false;
  const revived = await db.transaction(async (tx) => {
    const rows = await tx
      .update(h)
      .set({ lastSeenAt: now, state: "ready", updatedAt: now })
      .where(and(eq(h.id, hostId), eq(h.state, "down")))
      .returning({ id: h.id, name: h.name });
    const row = rows[0];
    if (row) {
      await recordEvent(tx, {
        kind: "host.ready",
        subjectType: "host",
        subjectId: row.id,
        message: `${row.name} is back`,
      });
    }
    return rows.length > 0;
  });
  return revived;
}

export async function listHosts(db: Db) {
  return db.select().from(schema.hosts).orderBy(asc(schema.hosts.name), asc(schema.hosts.id));
}

export async function getHost(db: Db, id: string) {
  const [host] = await db.select().from(schema.hosts).where(eq(schema.hosts.id, id));
  if (!host) throw new BerthError("NotFound", `host ${id} does not exist`);
  return host;
}

const LABEL_KEY = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/**
 * Drain a host (its tasks move to other hosts, nothing new is placed on it)
 * or make it active again. Independent of whether the host is up.
 */
export async function setHostAvailability(
  db: Db,
  actor: Actor,
  hostId: string,
  availability: HostAvailability,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [host] = await tx
      .update(schema.hosts)
      .set({ availability, updatedAt: new Date() })
      .where(eq(schema.hosts.id, hostId))
      .returning({ id: schema.hosts.id, name: schema.hosts.name });
    if (!host) throw new BerthError("NotFound", `no host ${hostId}; \`berth hosts ls\` lists them`);
    const what = availability === "drain" ? "draining: its tasks move to other hosts" : "active again";
    await recordEvent(tx, {
      kind: `host.${availability}`,
      subjectType: "host",
      subjectId: host.id,
      message: `${host.name} is ${what} (${actor.name})`,
    });
    await recordAudit(tx, actor, { action: `host.${availability}`, targetType: "host", targetId: host.id });
  });
}

/** Set or remove (value null) labels of a host; constraints such as node.labels.zone read them. */
export async function setHostLabels(
  db: Db,
  actor: Actor,
  hostId: string,
  changes: Record<string, string | null>,
): Promise<Record<string, string>> {
  for (const [key, value] of Object.entries(changes)) {
    if (!LABEL_KEY.test(key)) {
      throw new BerthError("InvalidArgument", `label key "${key}": letters, digits, _ . - (at most 63)`);
    }
    if (value !== null && value.length > 255) {
      throw new BerthError("InvalidArgument", `label ${key}: a value is at most 255 characters`);
    }
  }
  return db.transaction(async (tx) => {
    const [host] = await tx
      .select({ labels: schema.hosts.labels })
      .from(schema.hosts)
      .where(eq(schema.hosts.id, hostId))
      .for("update");
    if (!host) throw new BerthError("NotFound", `no host ${hostId}; \`berth hosts ls\` lists them`);
    const labels = { ...host.labels };
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete labels[key];
      else labels[key] = value;
    }
    await tx.update(schema.hosts).set({ labels, updatedAt: new Date() }).where(eq(schema.hosts.id, hostId));
    await recordAudit(tx, actor, {
      action: "host.label",
      targetType: "host",
      targetId: hostId,
      data: { changes },
    });
    return labels;
  });
}
