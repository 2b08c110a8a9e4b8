import { describe } from "vitest";

/** Real containers need root: runc, mounts, cgroups, namespaces. */
export const isRoot = process.getuid?.() === 0;

const announced = new Set<string>();

/**
 * `describe` for tests that run real containers. Without root the suite is
 * skipped — and says so on stderr, once per suite, never silently.
 */
export function describeRoot(name: string, fn: () => void): void {
  if (!isRoot && !announced.has(name)) {
    announced.add(name);
    process.stderr.write(`skipped: ${name} needs root (real containers)\n`);
  }
  describe.skipIf(!isRoot)(name, fn);
}
