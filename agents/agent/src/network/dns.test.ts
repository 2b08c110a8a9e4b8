import { describe, expect, it } from "vitest";
import {
  containerHosts,
  containerResolvConf,
  hostModeHosts,
  isLoopbackNameserver,
  validateHostname,
} from "./dns.ts";

const nameservers = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("nameserver "))
    .map((l) => l.slice("nameserver ".length));

describe("resolv.conf for a container with its own netns", () => {
  it("keeps the host's nameservers, search and options", () => {
    const text = containerResolvConf(
      "# comment\nnameserver 10.255.255.53\nsearch corp.example\noptions ndots:2 timeout:1\n",
      null,
    );
    expect(nameservers(text)).toEqual(["10.255.255.53"]);
    expect(text).toContain("search corp.example\n");
    expect(text).toContain("options ndots:2 timeout:1\n");
    expect(text).not.toContain("# comment");
  });

  it("uses systemd-resolved's upstream list when the host only has its stub at 127.0.0.53", () => {
    const host = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n";
    const systemd = "nameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan\n";
    const text = containerResolvConf(host, systemd);
    expect(nameservers(text)).toEqual(["192.168.1.1", "192.168.1.2"]);
    expect(text).toContain("search lan\n");
    expect(text).toContain("/run/systemd/resolve/resolv.conf");
  });

  it("drops loopback nameservers but keeps the others when both are listed", () => {
    expect(
      nameservers(containerResolvConf("nameserver 127.0.0.1\nnameserver 10.0.0.2\n", "nameserver 9.9.9.9\n")),
    ).toEqual(["10.0.0.2"]);
  });

  it("has no nameserver line, and says why, when nothing usable is left", () => {
    const text = containerResolvConf("nameserver 127.0.0.53\nnameserver ::1\nsearch home\n", null);
    expect(nameservers(text)).toEqual([]);
    expect(text).toMatch(/^# .*no nameserver a container can reach/m);
    expect(text).toContain("search home\n");
    expect(nameservers(containerResolvConf("nameserver 127.0.0.53\n", "nameserver 127.0.0.1\n"))).toEqual([]);
    expect(nameservers(containerResolvConf(null, null))).toEqual([]);
  });

  it("drops IPv6 nameservers (the container networks are IPv4 only) and keeps at most three", () => {
    const host =
      "nameserver 2001:db8::1\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n";
    expect(nameservers(containerResolvConf(host, null))).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  });

  it("knows loopback addresses", () => {
    for (const a of ["127.0.0.53", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1", "0.0.0.0"])
      expect(isLoopbackNameserver(a), a).toBe(true);
    for (const a of ["10.0.0.1", "fe80::1", "2001:db8::1", "128.0.0.1"])
      expect(isLoopbackNameserver(a), a).toBe(false);
  });
});

describe("hosts files", () => {
  it("maps localhost and the container's hostname to its address", () => {
    const text = containerHosts("web-1", "10.89.0.5");
    expect(text).toContain("127.0.0.1\tlocalhost\n");
    expect(text).toContain("::1\tlocalhost ip6-localhost ip6-loopback\n");
    expect(text.trimEnd().split("\n").at(-1)).toBe("10.89.0.5\tweb-1");
  });

  it("maps the hostname to 127.0.1.1 without an address, and adds the short name of a dotted one", () => {
    expect(containerHosts("db.shop.local", null)).toContain("127.0.1.1\tdb.shop.local db\n");
  });

  it("in host mode, is the host's file plus the hostname unless a line names it already", () => {
    const host = "127.0.0.1 localhost\n10.0.0.9 myhost # me\n";
    expect(hostModeHosts(host, "myhost")).toBe(host);
    expect(hostModeHosts(host, "other")).toBe(`${host}127.0.1.1\tother\n`);
    expect(hostModeHosts("127.0.0.1 localhost", "x")).toBe("127.0.0.1 localhost\n127.0.1.1\tx\n");
  });

  it("refuses hostnames that would break the files", () => {
    expect(validateHostname("web-1.shop")).toBe("web-1.shop");
    for (const bad of ["", "a\n10.0.0.1 evil", "-x", "x-", "a..b", "a b", "a".repeat(64)]) {
      expect(() => validateHostname(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "InvalidArgument" }),
      );
    }
  });
});
