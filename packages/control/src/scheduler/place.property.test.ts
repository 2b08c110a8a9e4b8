import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { satisfies } from "./filter.ts";
import { place } from "./place.ts";
import type { PendingTask, PlacedTask, SchedulerHost } from "./types.ts";

const MiB = 1024 ** 2;
const zones = ["eu-1", "eu-2", "us-1"];

interface HostGen {
  state: string;
  zone: string | undefined;
  cpus: number;
  memoryMiB: number;
}

interface ServiceGen {
  replicas: number;
  cpus: number | undefined;
  memoryMiB: number | undefined;
  port: number | undefined;
  zone: { op: string; value: string } | undefined;
  spread: boolean;
  maxPerNode: number | undefined;
}

const hostArb: fc.Arbitrary<HostGen> = fc.record({
  state: fc.constantFrom("ready", "ready", "ready", "down", "draining"),
  zone: fc.option(fc.constantFrom(...zones), { nil: undefined }),
  cpus: fc.integer({ min: 1, max: 16 }),
  memoryMiB: fc.integer({ min: 256, max: 16_384 }),
});

const serviceArb: fc.Arbitrary<ServiceGen> = fc.record({
  replicas: fc.integer({ min: 1, max: 25 }),
  cpus: fc.option(fc.constantFrom(0.1, 0.25, 0.5, 1, 2), { nil: undefined }),
  memoryMiB: fc.option(fc.integer({ min: 16, max: 4096 }), { nil: undefined }),
  port: fc.option(fc.constantFrom(80, 443, 8080), { nil: undefined }),
  zone: fc.option(fc.record({ op: fc.constantFrom("==", "!="), value: fc.constantFrom(...zones) }), {
    nil: undefined,
  }),
  spread: fc.boolean(),
  maxPerNode: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
});

function build(hostSpecs: HostGen[], services: ServiceGen[]) {
  const hosts: SchedulerHost[] = hostSpecs.map((h, i) => ({
    id: `h${String(i).padStart(3, "0")}`,
    hostname: `host-${i}`,
    state: h.state as SchedulerHost["state"],
    labels: (h.zone ? { zone: h.zone } : {}) as Record<string, string>,
    os: "linux",
    arch: "amd64",
    capacity: { cpus: h.cpus, memoryBytes: h.memoryMiB * MiB },
  }));
  const pending: PendingTask[] = services.flatMap((s, si) =>
    Array.from({ length: s.replicas }, (_, r) => ({
      id: `s${si}.${r}`,
      serviceId: `s${si}`,
      reservations: {
        ...(s.cpus ? { cpus: s.cpus } : {}),
        ...(s.memoryMiB ? { memoryBytes: s.memoryMiB * MiB } : {}),
      },
      ports: s.port ? [{ port: s.port, protocol: "tcp" as const }] : [],
      constraints: s.zone
        ? [{ field: "node.labels.zone", op: s.zone.op as "==" | "!=", value: s.zone.value }]
        : [],
      spread: s.spread ? ["node.labels.zone"] : [],
      ...(s.maxPerNode ? { maxReplicasPerNode: s.maxPerNode } : {}),
    })),
  );
  return { hosts, pending };
}

describe("place (properties)", () => {
  it("never exceeds capacity, always honours constraints, ports and limits, places each task at most once", () => {
    fc.assert(
      fc.property(
        fc.array(hostArb, { minLength: 0, maxLength: 12 }),
        fc.array(serviceArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom("spread", "binpack"),
        (hostSpecs, services, strategy) => {
          const { hosts, pending } = build(hostSpecs, services);
          const r = place({ hosts, placed: [] }, pending, strategy as "spread" | "binpack");
          const byId = new Map(pending.map((t) => [t.id, t]));
          const hostsById = new Map(hosts.map((h) => [h.id, h]));

          // Every task is either assigned once or unplaced once.
          const ids = [...r.assignments.map((a) => a.taskId), ...r.unplaced.map((u) => u.taskId)];
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids.sort()).toEqual(pending.map((t) => t.id).sort());

          const used = new Map<
            string,
            { cpus: number; mem: number; ports: Set<number>; perService: Map<string, number> }
          >();
          for (const a of r.assignments) {
            const task = byId.get(a.taskId)!;
            const h = hostsById.get(a.hostId)!;
            expect(h.state).toBe("ready");
            for (const c of task.constraints) expect(satisfies(h, c)).toBe(true);
            const u = used.get(h.id) ?? { cpus: 0, mem: 0, ports: new Set(), perService: new Map() };
            u.cpus += task.reservations.cpus ?? 0;
            u.mem += task.reservations.memoryBytes ?? 0;
            for (const p of task.ports) {
              expect(u.ports.has(p.port)).toBe(false);
              u.ports.add(p.port);
            }
            u.perService.set(task.serviceId, (u.perService.get(task.serviceId) ?? 0) + 1);
            if (task.maxReplicasPerNode) {
              expect(u.perService.get(task.serviceId)).toBeLessThanOrEqual(task.maxReplicasPerNode);
            }
            used.set(h.id, u);
          }
          for (const [id, u] of used) {
            const h = hostsById.get(id)!;
            expect(u.cpus).toBeLessThanOrEqual(h.capacity.cpus + 1e-9);
            expect(u.mem).toBeLessThanOrEqual(h.capacity.memoryBytes);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("spreads unconstrained, unreserved tasks so no two ready hosts differ by more than one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 200 }),
        (hostCount, replicas) => {
          const { hosts, pending } = build(
            Array.from({ length: hostCount }, () => ({
              state: "ready",
              zone: undefined,
              cpus: 4,
              memoryMiB: 4096,
            })),
            [
              {
                replicas,
                cpus: undefined,
                memoryMiB: undefined,
                port: undefined,
                zone: undefined,
                spread: false,
                maxPerNode: undefined,
              },
            ],
          );
          const r = place({ hosts, placed: [] }, replicas === 0 ? [] : pending);
          const counts = hosts.map((h) => r.assignments.filter((a) => a.hostId === h.id).length);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it("an unplaced task really fits on no host", () => {
    fc.assert(
      fc.property(
        fc.array(hostArb, { maxLength: 8 }),
        fc.array(serviceArb, { minLength: 1, maxLength: 4 }),
        (hs, ss) => {
          const { hosts, pending } = build(hs, ss);
          const r = place({ hosts, placed: [] }, pending);
          const placed: PlacedTask[] = r.assignments.map((a) => ({
            ...pending.find((t) => t.id === a.taskId)!,
            hostId: a.hostId,
          }));
          for (const u of r.unplaced) {
            // Offered again, alone, after everything placed: still nowhere.
            const task = pending.find((t) => t.id === u.taskId)!;
            const again = place({ hosts, placed }, [{ ...task, id: `${task.id}-again` }]);
            expect(again.assignments).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
