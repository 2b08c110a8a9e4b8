import { describe, expect, it } from "vitest";
import { controlPlaneRegistry, registryPolicy } from "./registry.ts";

describe("registryPolicy", () => {
  const host = { username: "host_abc", password: "bhc_secret" };

  it("pulls from the control plane's registry with the host's credential, over http when the server is", () => {
    const p = registryPolicy(
      {},
      {},
      controlPlaneRegistry("http://10.77.0.1:3000", () => host),
    );
    expect(p.credentials("10.77.0.1:3000")).toEqual(host);
    expect(p.insecure("10.77.0.1:3000")).toBe(true);
    // Never to another registry.
    expect(p.credentials("registry.example.com")).toBeUndefined();
    expect(p.insecure("registry.example.com")).toBe(false);
  });

  it("keeps https for an https control plane, and lets --creds and BERTH_REGISTRY_CREDS win", () => {
    const cp = controlPlaneRegistry("https://berth.example.com", () => host);
    expect(registryPolicy({}, {}, cp).insecure("berth.example.com")).toBe(false);
    expect(registryPolicy({ creds: "me:pw" }, {}, cp).credentials("berth.example.com")).toEqual({
      username: "me",
      password: "pw",
    });
    const env = { BERTH_REGISTRY_CREDS: "berth.example.com=ci:token" };
    expect(registryPolicy({}, env, cp).credentials("berth.example.com")).toEqual({
      username: "ci",
      password: "token",
    });
  });

  it("has no credential before the host has joined", () => {
    const p = registryPolicy(
      {},
      {},
      controlPlaneRegistry("http://cp:3000", () => undefined),
    );
    expect(p.credentials("cp:3000")).toBeUndefined();
  });
});
