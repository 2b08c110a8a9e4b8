import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listReservations, parseReservation, releaseReservations, resultFromReservations } from "./ipam.ts";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "berth-ipam-"));
  const net = path.join(dataDir, "berth");
  await mkdir(net);
  await writeFile(path.join(net, "10.89.0.2"), "aaaa\r\neth0");
  await writeFile(path.join(net, "10.89.0.3"), "bbbb");
  await writeFile(path.join(net, "last_reserved_ip.0"), "10.89.0.3");
  await writeFile(path.join(net, "lock"), "");
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("host-local reservations", () => {
  it("parse both file formats", () => {
    expect(parseReservation("abc\r\neth0")).toEqual({ containerId: "abc", ifname: "eth0" });
    expect(parseReservation("abc")).toEqual({ containerId: "abc", ifname: null });
    expect(parseReservation("")).toBeNull();
  });

  it("are listed by address, ignoring host-local's own files", async () => {
    const list = await listReservations(dataDir, "berth");
    expect(list.map((r) => [r.ip, r.containerId])).toEqual([
      ["10.89.0.2", "aaaa"],
      ["10.89.0.3", "bbbb"],
    ]);
    expect(await listReservations(dataDir, "absent")).toEqual([]);
  });

  it("of containers that are not live are released; the others and host-local's files stay", async () => {
    const released = await releaseReservations(
      await listReservations(dataDir, "berth"),
      (id) => id === "aaaa",
    );
    expect(released.map((r) => r.ip)).toEqual(["10.89.0.3"]);
    expect((await readdir(path.join(dataDir, "berth"))).sort()).toEqual([
      "10.89.0.2",
      "last_reserved_ip.0",
      "lock",
    ]);
  });

  it("stand in for a lost ADD result", async () => {
    const list = await listReservations(dataDir, "berth");
    expect(resultFromReservations(list, "bbbb", "10.89.0.0/24", "1.0.0")).toEqual({
      cniVersion: "1.0.0",
      interfaces: [],
      ips: [{ address: "10.89.0.3/24" }],
    });
    expect(resultFromReservations(list, "cccc", "10.89.0.0/24", "1.0.0")).toBeNull();
  });
});
