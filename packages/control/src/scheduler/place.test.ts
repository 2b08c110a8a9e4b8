import { describe, expect, it } from "vitest";
import { place } from "./place.ts";
import type { PendingTask, PlacedTask, SchedulerHost } from "./types.ts";

const GiB = 1024 ** 3;

function host(id: string, extra: Partial<SchedulerHost> = {}): SchedulerHost {
  return {
    id,
    hostname: id,
    state: "ready",
    labels: {},
    os: "linux",
    arch: "amd64",
    capacity: { cpus: 4, memoryBytes: 8 * GiB },
    ...extra,
  };
}

function tasks(serviceId: string, n: number, extra: Partial<PendingTask> = {}): PendingTask[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${serviceId}.${i + 1}`,
    serviceId,
    reservations: {},
    ports: [],
    constraints: [],
    spread: [],
    ...extra,
  }));
}

function perHost(assignments: { hostId: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of assignments) out[a.hostId] = (out[a.hostId] ?? 0) + 1;
  return out;
}

describe("place", () => {
  it("spreads a service evenly over ready hosts and skips down and draining ones", () => {
    const hosts = [
      host("a"),
      host("b"),
      host("c"),
      host("d", { state: "down" }),
      host("e", { state: "draining" }),
    ];
    const r = place({ hosts, placed: [] }, tasks("web", 7));
    expect(r.unplaced).toEqual([]);
    expect(perHost(r.assignments)).toEqual({ a: 3, b: 2, c: 2 });
  });

  it("counts tasks already placed when spreading", () => {
    const placed: PlacedTask[] = tasks("web", 2).map((t) => ({ ...t, id: `old.${t.id}`, hostId: "a" }));
    const r = place({ hosts: [host("a"), host("b")], placed }, tasks("web", 2));
    expect(perHost(r.assignments)).toEqual({ b: 2 });
  });

  it("honours constraints on labels, hostname and id", () => {
    const hosts = [
      host("a", { labels: { zone: "eu-1" } }),
      host("b", { labels: { zone: "us-1" } }),
      host("c"),
    ];
    const inEu = place(
      { hosts, placed: [] },
      tasks("web", 3, { constraints: [{ field: "node.labels.zone", op: "==", value: "eu-1" }] }),
    );
    expect(perHost(inEu.assignments)).toEqual({ a: 3 });
    const notB = place(
      { hosts, placed: [] },
      tasks("web", 4, { constraints: [{ field: "node.hostname", op: "!=", value: "b" }] }),
    );
    expect(perHost(notB.assignments)).toEqual({ a: 2, c: 2 });
  });

  it("never reserves more than a host has, and says why a task did not fit", () => {
    const hosts = [host("a", { capacity: { cpus: 1, memoryBytes: 1 * GiB } }), host("b", { state: "down" })];
    const r = place({ hosts, placed: [] }, tasks("db", 3, { reservations: { memoryBytes: 0.4 * GiB } }));
    expect(r.assignments).toHaveLength(2);
    expect(r.unplaced).toEqual([
      { taskId: "db.3", reason: "no host can run it (1 host: host down; 1 host: not enough memory)" },
    ]);
  });

  it("does not bind one host port twice on a host", () => {
    const ports = [{ port: 80, protocol: "tcp" as const }];
    const r = place({ hosts: [host("a"), host("b")], placed: [] }, tasks("web", 3, { ports }));
    expect(perHost(r.assignments)).toEqual({ a: 1, b: 1 });
    expect(r.unplaced[0]?.reason).toContain("port 80/tcp in use");
    const udp = place({ hosts: [host("a")], placed: [] }, [
      ...tasks("dns-tcp", 1, { ports }),
      ...tasks("dns-udp", 1, { ports: [{ port: 80, protocol: "udp" }] }),
    ]);
    expect(udp.unplaced).toEqual([]);
  });

  it("allows the same port on two specific addresses", () => {
    const r = place({ hosts: [host("a")], placed: [] }, [
      ...tasks("x", 1, { ports: [{ port: 53, protocol: "udp", hostIp: "10.0.0.1" }] }),
      ...tasks("y", 1, { ports: [{ port: 53, protocol: "udp", hostIp: "10.0.0.2" }] }),
      ...tasks("z", 1, { ports: [{ port: 53, protocol: "udp" }] }),
    ]);
    expect(r.assignments.map((a) => a.taskId)).toEqual(["x.1", "y.1"]);
    expect(r.unplaced.map((u) => u.taskId)).toEqual(["z.1"]);
  });

  it("spreads over label groups first (spread preferences)", () => {
    const hosts = [
      host("a", { labels: { zone: "1" } }),
      host("b", { labels: { zone: "1" } }),
      host("c", { labels: { zone: "1" } }),
      host("d", { labels: { zone: "2" } }),
    ];
    const r = place({ hosts, placed: [] }, tasks("web", 4, { spread: ["node.labels.zone"] }));
    expect(perHost(r.assignments)).toEqual({ a: 1, b: 1, d: 2 });
  });

  it("stops at max_replicas_per_node", () => {
    const r = place(
      { hosts: [host("a"), host("b")], placed: [] },
      tasks("web", 5, { maxReplicasPerNode: 2 }),
    );
    expect(r.assignments).toHaveLength(4);
    expect(r.unplaced[0]?.reason).toContain("max_replicas_per_node");
  });

  it("binpack fills one host before the next", () => {
    const hosts = [host("a"), host("b")];
    const r = place({ hosts, placed: [] }, tasks("web", 3, { reservations: { cpus: 1 } }), "binpack");
    expect(perHost(r.assignments)).toEqual({ a: 3 });
  });

  it("places a task id once, and not one that is already placed", () => {
    const dup = tasks("web", 1);
    const placed = [{ ...tasks("web", 1, {})[0]!, id: "web.9", hostId: "a" }];
    const r = place({ hosts: [host("a")], placed }, [...dup, ...dup, { ...dup[0]!, id: "web.9" }]);
    expect(r.assignments.map((a) => a.taskId)).toEqual(["web.1"]);
  });

  it("explains an empty fleet", () => {
    expect(place({ hosts: [], placed: [] }, tasks("web", 1)).unplaced[0]?.reason).toBe(
      "no hosts have joined",
    );
  });
});
