import { describe, expect, it } from "vitest";
import { agentSocketUrl, normaliseServerUrl } from "./url.ts";

describe("agentSocketUrl", () => {
  it.each([
    ["http://berth.local:3000", "ws://berth.local:3000/agent/v1"],
    ["https://berth.example.com/", "wss://berth.example.com/agent/v1"],
    ["ws://10.0.0.1:8080", "ws://10.0.0.1:8080/agent/v1"],
    ["wss://berth.example.com/base/", "wss://berth.example.com/base/agent/v1"],
    ["https://berth.example.com:443", "wss://berth.example.com/agent/v1"],
  ])("%s → %s", (server, url) => {
    expect(agentSocketUrl(server)).toBe(url);
  });
});

describe("normaliseServerUrl", () => {
  it("drops the trailing slash and default port", () => {
    expect(normaliseServerUrl(" https://Berth.Example.com:443/ ")).toBe("https://berth.example.com");
  });

  it.each([
    "berth.example.com",
    "ftp://berth.example.com",
    "https://user:pw@berth.example.com",
    "https://x/?a=1",
  ])("rejects %s", (input) => {
    expect(() => normaliseServerUrl(input)).toThrow();
  });
});
