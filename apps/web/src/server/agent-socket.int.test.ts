import { createJoinToken, SYSTEM_ACTOR } from "@berth/control";
import { schema } from "@berth/db";
import { AGENT_PATH, CLOSE_CODES, MAX_FRAME_BYTES, PROTOCOL_VERSION } from "@berth/protocol";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { sampleFacts } from "../../../../packages/control/src/test-support.ts";
import { waitFor } from "../../../../test/support/wait.ts";
import type { RunningControlPlane } from "./control-plane.ts";
import { startTestControlPlane } from "./testing.ts";

let cp: RunningControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp.stop());

interface Peer {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  send(frame: unknown): void;
}

/** A raw protocol peer: no agent logic, so it can send anything. */
async function connect(): Promise<Peer> {
  const ws = new WebSocket(cp.url.replace("http", "ws") + AGENT_PATH);
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on("message", (d) => {
    frames.push(JSON.parse(String(d)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    ws,
    frames,
    closed,
    send: (f) => ws.send(typeof f === "string" ? f : JSON.stringify(f)),
    async next(type, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = frames.findIndex((f) => f.type === type);
        if (i >= 0) return frames.splice(i, 1)[0]!;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for a "${type}" frame; got ${JSON.stringify(frames)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}

const hello = (auth: Record<string, unknown>, facts = sampleFacts()) => ({
  type: "hello",
  protocolVersion: PROTOCOL_VERSION,
  agentVersion: "test",
  auth,
  facts,
});

async function hostCount(): Promise<number> {
  const [row] = await cp.cp.database.db.select({ n: count() }).from(schema.hosts);
  return row!.n;
}

async function join() {
  const { token } = await createJoinToken(cp.cp.database.db, SYSTEM_ACTOR, {});
  const peer = await connect();
  peer.send(hello({ kind: "join", token }));
  const welcome = await peer.next("welcome");
  return { peer, token, hostId: welcome.hostId as string, credential: welcome.credential as string };
}

describe("agent socket", () => {
  it("welcomes a join, then accepts the credential it handed out", async () => {
    const a = await join();
    expect(a.hostId).toMatch(/^host_/);
    expect(a.credential).toMatch(/^bhc_/);
    a.peer.ws.close();
    const again = await connect();
    again.send(hello({ kind: "credential", hostId: a.hostId, secret: a.credential }));
    const welcome = await again.next("welcome");
    expect(welcome).toMatchObject({ hostId: a.hostId, heartbeatIntervalMs: 500, hostTtlMs: 3000 });
    expect(welcome.credential).toBeUndefined();
    again.send({ type: "heartbeat", seq: 1 });
    again.ws.close();
  });

  it("closes on malformed JSON before hello, writing nothing", async () => {
    const before = await hostCount();
    const peer = await connect();
    peer.send("{this is not json");
    expect(await peer.next("error")).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/JSON/),
    });
    expect((await peer.closed).code).toBe(CLOSE_CODES.unauthenticated);
    expect(await hostCount()).toBe(before);
  });

  it("names the field when a hello fails the schema", async () => {
    const { token } = await createJoinToken(cp.cp.database.db, SYSTEM_ACTOR, {});
    const peer = await connect();
    peer.send(hello({ kind: "join", token }, { ...sampleFacts(), cpus: "many" } as never));
    expect((await peer.next("error")).message).toMatch(/facts\.cpus/);
    expect((await peer.closed).code).toBe(CLOSE_CODES.unauthenticated);
  });

  it("closes a connection whose first frame is not a hello", async () => {
    const peer = await connect();
    peer.send({ type: "heartbeat", seq: 1 });
    expect(await peer.next("error")).toMatchObject({ code: "Unauthenticated" });
    expect((await peer.closed).code).toBe(CLOSE_CODES.unauthenticated);
  });

  it("closes an oversized frame with 1009", async () => {
    const peer = await connect();
    peer.send("x".repeat(MAX_FRAME_BYTES + 1));
    expect((await peer.closed).code).toBe(1009);
  });

  it("refuses a wrong or reused join token and writes no host", async () => {
    const before = await hostCount();
    const wrong = await connect();
    wrong.send(hello({ kind: "join", token: "bjt_wrongwrongwrongwrong" }));
    expect(await wrong.next("error")).toMatchObject({ code: "PermissionDenied" });
    expect((await wrong.closed).code).toBe(CLOSE_CODES.forbidden);
    expect(await hostCount()).toBe(before);

    const a = await join();
    const reuse = await connect();
    reuse.send(hello({ kind: "join", token: a.token }));
    expect((await reuse.next("error")).message).toMatch(/already been used/);
    expect((await reuse.closed).code).toBe(CLOSE_CODES.forbidden);
    expect(await hostCount()).toBe(before + 1);
    a.peer.ws.close();
  });

  it("refuses the credential of another host", async () => {
    const a = await join();
    const b = await join();
    const forged = await connect();
    forged.send(hello({ kind: "credential", hostId: a.hostId, secret: b.credential }));
    expect(await forged.next("error")).toMatchObject({ code: "PermissionDenied" });
    expect((await forged.closed).code).toBe(CLOSE_CODES.forbidden);
    a.peer.ws.close();
    b.peer.ws.close();
  });

  it("answers an invalid frame after hello with an error and keeps the connection", async () => {
    const a = await join();
    a.peer.send({ type: "heartbeat", seq: -4 });
    expect((await a.peer.next("error")).message).toMatch(/seq/);
    a.peer.send({ type: "heartbeat", seq: 2 });
    a.peer.send("[]");
    expect(await a.peer.next("error")).toMatchObject({ code: "InvalidArgument" });
    expect(a.peer.ws.readyState).toBe(WebSocket.OPEN);
    a.peer.send(hello({ kind: "join", token: a.token }));
    expect(await a.peer.next("error")).toMatchObject({ code: "FailedPrecondition" });
  });

  it("refuses an unsupported protocol version", async () => {
    const peer = await connect();
    peer.send({ ...hello({ kind: "join", token: "bjt_0123456789abcdef" }), protocolVersion: 99 });
    expect((await peer.closed).code).toBe(CLOSE_CODES.unsupportedVersion);
  });

  it("replaces an older connection of the same host", async () => {
    const a = await join();
    const second = await connect();
    second.send(hello({ kind: "credential", hostId: a.hostId, secret: a.credential }));
    await second.next("welcome");
    expect((await a.peer.closed).code).toBe(CLOSE_CODES.replaced);
    expect(cp.cp.gateway.connectedHosts()).toContain(a.hostId);
    second.ws.close();
  });

  it("serves /healthz with the database status and the leader", async () => {
    const leader = cp.cp.leader!;
    await waitFor("the control plane to lead its loops", () => leader.isLeader(), 5000);
    const res = await fetch(`${cp.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ok",
      version: "test",
      database: { reachable: true },
      leader: { identity: leader.identity, self: true, replica: leader.identity },
    });
  });
});
