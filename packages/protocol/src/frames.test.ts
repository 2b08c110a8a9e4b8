import { describe, expect, it } from "vitest";
import { parseFrame } from "./frames.ts";
import { agentMessageSchema, MAX_FRAME_BYTES, PROTOCOL_VERSION } from "./messages.ts";

const facts = {
  hostname: "h1",
  os: "Debian",
  arch: "x64",
  kernel: "6.1",
  cpus: 2,
  memoryBytes: 1024,
  cgroupMode: "v2",
  runtime: null,
  conmon: null,
  cniPlugins: [],
};
const hello = {
  type: "hello",
  protocolVersion: PROTOCOL_VERSION,
  agentVersion: "0.1.0",
  auth: { kind: "join", token: "bjt_0123456789abcdef" },
  facts,
};

describe("parseFrame", () => {
  it("accepts a valid hello", () => {
    const r = parseFrame(agentMessageSchema, JSON.stringify(hello));
    expect(r.ok && r.message.type).toBe("hello");
  });

  it("names the problem in malformed JSON", () => {
    const r = parseFrame(agentMessageSchema, "{not json");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ type: "error", code: "InvalidArgument" });
    expect(!r.ok && r.error.message).toMatch(/not valid JSON/);
  });

  it("names the field that fails the schema", () => {
    const r = parseFrame(agentMessageSchema, JSON.stringify({ ...hello, facts: { ...facts, cpus: -1 } }));
    expect(!r.ok && r.error.message).toMatch(/facts\.cpus/);
  });

  it("refuses unknown fields and unknown message types", () => {
    expect(parseFrame(agentMessageSchema, JSON.stringify({ ...hello, extra: 1 })).ok).toBe(false);
    expect(parseFrame(agentMessageSchema, JSON.stringify({ type: "launch-missiles" })).ok).toBe(false);
  });

  it("refuses frames over the size limit before parsing them", () => {
    const big = JSON.stringify({ type: "heartbeat", seq: 1, pad: "x".repeat(MAX_FRAME_BYTES) });
    const r = parseFrame(agentMessageSchema, big);
    expect(!r.ok && r.error.message).toMatch(/exceeds the limit/);
  });
});
