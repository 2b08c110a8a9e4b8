import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CniError,
  cniErrorFromOutput,
  parseCniErrorObject,
  parseCniResult,
  parseIpv4Cidr,
  primaryAddress,
} from "./cni-result.ts";

const bridgeResult = readFileSync(new URL("./__fixtures__/bridge-result.json", import.meta.url), "utf8");

describe("CNI results", () => {
  it("parses a bridge result and finds the container's address on eth0", () => {
    const result = parseCniResult("bridge", "ADD", bridgeResult);
    expect(primaryAddress(result, "eth0")).toEqual({
      ipAddress: "10.89.0.2",
      gateway: "10.89.0.1",
      subnet: "10.89.0.0/24",
    });
    expect(primaryAddress(result, "eth1")).toBeNull();
  });

  it("skips addresses of host-side interfaces and IPv6 ones", () => {
    const result = parseCniResult(
      "bridge",
      "ADD",
      JSON.stringify({
        cniVersion: "1.0.0",
        interfaces: [{ name: "eth0" }, { name: "eth0", sandbox: "/run/netns/x" }],
        ips: [
          { interface: 0, address: "10.1.0.1/16" },
          { interface: 1, address: "fd00::5/64" },
          { interface: 1, address: "10.1.2.3/16" },
        ],
      }),
    );
    expect(primaryAddress(result, "eth0")).toMatchObject({ ipAddress: "10.1.2.3", subnet: "10.1.0.0/16" });
  });

  it("refuses output that is not a CNI result, naming the plugin", () => {
    expect(() => parseCniResult("bridge", "ADD", "not json")).toThrow(/CNI plugin bridge ADD failed/);
    expect(() => parseCniResult("bridge", "ADD", JSON.stringify({ ips: [] }))).toThrow(CniError);
  });

  it("parses IPv4 CIDRs", () => {
    expect(parseIpv4Cidr("10.199.42.7/24")).toEqual({
      ip: "10.199.42.7",
      prefix: 24,
      network: "10.199.42.0",
    });
    expect(parseIpv4Cidr("255.255.255.255/1")?.network).toBe("128.0.0.0");
    expect(parseIpv4Cidr("1.2.3.4/0")?.network).toBe("0.0.0.0");
    expect(parseIpv4Cidr("1.2.3.256/8")).toBeNull();
    expect(parseIpv4Cidr("1.2.3.4")).toBeNull();
  });
});

describe("CNI error objects", () => {
  const failed = (stdout: string, stderr = "", exitCode: number | null = 1) =>
    cniErrorFromOutput("bridge", "ADD", {
      stdout,
      stderr,
      exitCode,
      signal: exitCode === null ? "SIGKILL" : null,
    });

  it("become BerthErrors naming the plugin, the command, the CNI code and msg", () => {
    const err = failed(JSON.stringify({ code: 7, msg: "invalid config", details: "bridge name too long" }));
    expect(err).toBeInstanceOf(CniError);
    expect(err.code).toBe("InvalidArgument");
    expect(err.plugin).toBe("bridge");
    expect(err.command).toBe("ADD");
    expect(err.cniCode).toBe(7);
    expect(err.message).toContain("CNI plugin bridge ADD failed (CNI error 7: invalid network config)");
    expect(err.message).toContain("invalid config; bridge name too long");
  });

  it("map the spec's well-known codes onto Berth's, and plugin codes to Internal", () => {
    const code = (cni: number) => failed(JSON.stringify({ cniVersion: "1.0.0", code: cni, msg: "m" })).code;
    expect(code(1)).toBe("FailedPrecondition");
    expect(code(3)).toBe("NotFound");
    expect(code(7)).toBe("InvalidArgument");
    expect(code(11)).toBe("Unavailable");
    expect(code(999)).toBe("Internal");
  });

  it("fall back to stderr, or the exit status, when the plugin printed no error object", () => {
    const crashed = failed("", "panic: runtime error\n", 2);
    expect(crashed.cniCode).toBeNull();
    expect(crashed.code).toBe("Internal");
    expect(crashed.message).toContain("exited with code 2: panic: runtime error");
    expect(failed("", "", null).message).toContain("killed by SIGKILL");
  });

  it("are recognised only when they have a code and a msg", () => {
    expect(parseCniErrorObject('{"code":4,"msg":"missing env"}')).toMatchObject({ code: 4 });
    expect(parseCniErrorObject('{"msg":"no code"}')).toBeNull();
    expect(parseCniErrorObject("{broken")).toBeNull();
  });
});
