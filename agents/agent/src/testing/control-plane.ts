import type { AddressInfo } from "node:net";
import { AGENT_PATH } from "@berth/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { AsyncQueue } from "./wait.ts";

/** What the server saw from one agent connection. */
export interface ServerSide {
  ws: WebSocket;
  path: string;
  /** Parsed JSON frames, each with its arrival time. */
  frames: AsyncQueue<{ frame: Record<string, unknown>; at: number }>;
  /** Resolves with the close code once the socket has closed. */
  closed: Promise<number>;
  send(frame: unknown): void;
  sendRaw(text: string): void;
}

/**
 * A real WebSocket server on 127.0.0.1 standing in for the control plane's
 * agent endpoint: tests script its side of the protocol frame by frame.
 */
export async function startTestControlPlane() {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const connections = new AsyncQueue<ServerSide>();
  let count = 0;
  wss.on("connection", (ws, request) => {
    count += 1;
    const frames = new AsyncQueue<{ frame: Record<string, unknown>; at: number }>();
    ws.on("message", (data) => frames.push({ frame: JSON.parse(data.toString()), at: Date.now() }));
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    connections.push({
      ws,
      path: request.url ?? "",
      frames,
      closed,
      send: (frame) => ws.send(JSON.stringify(frame)),
      sendRaw: (text) => ws.send(text),
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    agentPath: AGENT_PATH,
    nextConnection: (what = "an agent connection", ms = 2000) => connections.next(what, ms),
    get connectionCount() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

export type TestControlPlane = Awaited<ReturnType<typeof startTestControlPlane>>;
