import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addNetworkList, type CniContext, type ConfList, delNetworkList, findPlugin } from "./cni-exec.ts";
import { CniError } from "./cni-result.ts";

/**
 * Fake plugins (shell scripts) record their stdin, environment and call
 * order, so the list semantics — prevResult passing, DEL in reverse, going
 * on past failures — are checked against real processes.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-cni-exec-"));
  await mkdir(path.join(dir, "bin"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakePlugin(name: string, behaviour: { result?: object; error?: object; exit?: number }) {
  const lines = [
    "#!/bin/sh",
    `/bin/cat > "${dir}/${name}.$CNI_COMMAND.stdin"`,
    `/bin/echo "${name} $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_PATH $PATH" >> "${dir}/calls"`,
  ];
  if (behaviour.error)
    lines.push(`/bin/echo '${JSON.stringify(behaviour.error)}'`, `exit ${behaviour.exit ?? 1}`);
  else if (behaviour.result)
    lines.push(`[ "$CNI_COMMAND" = ADD ] && /bin/echo '${JSON.stringify(behaviour.result)}'`);
  lines.push("exit 0");
  const file = path.join(dir, "bin", name);
  await writeFile(file, `${lines.join("\n")}\n`);
  await chmod(file, 0o755);
}

const resultA = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eth0", sandbox: "/x" }],
  ips: [{ address: "10.9.0.2/24" }],
};
const resultB = { ...resultA, dns: { nameservers: ["10.9.0.1"] } };

function context(): CniContext {
  return {
    containerId: "c0ffee",
    netns: "/run/netns/test",
    ifname: "eth0",
    binDirs: [path.join(dir, "empty"), path.join(dir, "bin")],
    pathEnv: "/usr/bin:/bin",
    runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: "tcp" }] },
    timeoutMs: 10_000,
  };
}

const list: ConfList = {
  cniVersion: "1.0.0",
  name: "testnet",
  plugins: [{ type: "a" }, { type: "b", capabilities: { portMappings: true } }, { type: "c" }],
};

const stdinOf = async (name: string) => JSON.parse(await readFile(path.join(dir, name), "utf8"));
const calls = async () => (await readFile(path.join(dir, "calls"), "utf8")).trim().split("\n");

describe("running a configuration list", () => {
  beforeEach(async () => {
    await fakePlugin("a", { result: resultA });
    await fakePlugin("b", { result: resultB });
    await fakePlugin("c", { result: resultB });
  });

  it("ADD runs the plugins in order, each getting the previous result, and returns the last", async () => {
    const result = await addNetworkList(list, context());
    expect(result).toEqual(resultB);
    expect((await calls()).map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
      "a ADD",
      "b ADD",
      "c ADD",
    ]);
    const a = await stdinOf("a.ADD.stdin");
    expect(a).toMatchObject({ type: "a", name: "testnet", cniVersion: "1.0.0" });
    expect(a).not.toHaveProperty("prevResult");
    expect(await stdinOf("b.ADD.stdin")).toMatchObject({
      prevResult: resultA,
      runtimeConfig: { portMappings: [{ hostPort: 1 }] },
    });
    expect(await stdinOf("c.ADD.stdin")).toMatchObject({ prevResult: resultB });
    expect(await stdinOf("c.ADD.stdin")).not.toHaveProperty("runtimeConfig");
  });

  it("passes the CNI parameters in the environment", async () => {
    await addNetworkList(list, context());
    const [first] = await calls();
    expect(first).toBe(`a ADD c0ffee /run/netns/test eth0 ${dir}/empty:${dir}/bin /usr/bin:/bin`);
  });

  it("DEL runs the plugins in reverse, each with the cached result, and goes on past a failure", async () => {
    await fakePlugin("b", { error: { cniVersion: "1.0.0", code: 11, msg: "busy" } });
    const failures = await delNetworkList(list, { ...context(), netns: "" }, resultB);
    expect((await calls()).map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
      "c DEL",
      "b DEL",
      "a DEL",
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ plugin: "b", command: "DEL", cniCode: 11, code: "Unavailable" });
    expect(await stdinOf("a.DEL.stdin")).toMatchObject({ prevResult: resultB });
    expect(await stdinOf("c.DEL.stdin")).toMatchObject({ prevResult: resultB });
  });

  it("a failing ADD stops the list and carries the result so far, for the DEL that undoes it", async () => {
    await fakePlugin("b", { error: { code: 999, msg: "iptables says no" } });
    const err = await addNetworkList(list, context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect(err).toMatchObject({
      plugin: "b",
      command: "ADD",
      cniCode: 999,
      code: "Internal",
      prevResult: resultA,
    });
    expect((err as Error).message).toContain("iptables says no");
    expect(await calls()).toHaveLength(2);
  });

  it("a missing plugin is a FailedPrecondition that says what to install", async () => {
    const err = await addNetworkList({ ...list, plugins: [{ type: "nope" }] }, context()).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "FailedPrecondition", plugin: "nope" });
    expect((err as Error).message).toContain("containernetworking-plugins");
  });

  it("a plugin that hangs is killed at the timeout", async () => {
    await writeFile(path.join(dir, "bin", "slow"), "#!/bin/sh\nexec /bin/sleep 30\n");
    await chmod(path.join(dir, "bin", "slow"), 0o755);
    const started = Date.now();
    const err = await addNetworkList(
      { ...list, plugins: [{ type: "slow" }] },
      { ...context(), timeoutMs: 300 },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ plugin: "slow", code: "Internal" });
    expect((err as Error).message).toContain("timed out");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("finding plugins", () => {
  it("takes the first directory that has the plugin, and refuses names with a path in them", async () => {
    await fakePlugin("a", {});
    expect(await findPlugin("a", [path.join(dir, "empty"), path.join(dir, "bin")])).toBe(
      path.join(dir, "bin", "a"),
    );
    expect(await findPlugin("../bin/a", [path.join(dir, "bin")])).toBeNull();
  });
});
