import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRegistryClient } from "@berth/oci";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeRoot } from "../../testing/root.ts";
import { createImageStore } from "../store.ts";
import { pullImage } from "./pull.ts";

// A registry host that drops packets (a firewall, a host gone) leaves a connect hanging for the
// kernel's two minutes; a pull gives up after its connect timeout instead. iptables drops SYNs to
// 127.0.0.2:<port> for the test.
const PORT = 47_813;
const rule = ["OUTPUT", "-o", "lo", "-d", "127.0.0.2", "-p", "tcp", "--dport", String(PORT), "-j", "DROP"];
let dir: string;

describeRoot("a pull from a registry that drops packets", () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-unreachable-"));
    execFileSync("iptables", ["-w", "-I", ...rule]);
  });
  afterAll(async () => {
    execFileSync("iptables", ["-w", "-D", ...rule]);
    await rm(dir, { recursive: true, force: true });
  });

  it("fails after the connect timeout, naming the registry", async () => {
    const store = createImageStore(dir);
    const client = createRegistryClient({ insecure: () => true, connectTimeoutMs: 500 });
    const started = Date.now();
    const pulling = pullImage(store, `127.0.0.2:${PORT}/shop/web:1`, { client });
    await expect(pulling).rejects.toMatchObject({
      code: "Unavailable",
      message: `registry 127.0.0.2:${PORT} unreachable (manifest 127.0.0.2:${PORT}/shop/web:1): could not connect to 127.0.0.2:${PORT} in 0.5 s`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
