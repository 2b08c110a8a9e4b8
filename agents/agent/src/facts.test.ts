import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hostFactsSchema } from "@berth/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  cgroupModeFromMounts,
  chooseRuntime,
  collectFacts,
  EXTRA_BIN_DIRS,
  findExecutable,
  listCniPlugins,
  normaliseArch,
  parseMountTable,
  parseOsRelease,
  parseVersionOutput,
  searchDirs,
} from "./facts.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`./__fixtures__/mountinfo/${name}`, import.meta.url), "utf8");

describe("cgroup mode from the mount table", () => {
  it.each([
    ["v2.txt", "v2"],
    ["container-v2.txt", "v2"],
    ["hybrid.txt", "hybrid"],
    ["hybrid.proc-mounts.txt", "hybrid"],
    ["v1.txt", "v1"],
  ])("%s → %s", (file, mode) => {
    expect(cgroupModeFromMounts(parseMountTable(fixture(file)))).toBe(mode);
  });

  it("is null when no cgroup is mounted", () => {
    expect(cgroupModeFromMounts(parseMountTable("22 1 253:1 / / rw - ext4 /dev/vda1 rw\n"))).toBeNull();
  });

  it("uses the last mount stacked on /sys/fs/cgroup", () => {
    const table = [
      "30 24 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
      "31 30 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw",
      "32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
    ].join("\n");
    expect(cgroupModeFromMounts(parseMountTable(table))).toBe("v1");
  });
});

describe("parseMountTable", () => {
  it("reads mountinfo lines with optional fields and octal escapes", () => {
    const line = "40 30 0:37 / /mnt/with\\040space rw,relatime shared:5 master:2 - cgroup2 cgroup2 rw";
    expect(parseMountTable(line)).toEqual([{ mountPoint: "/mnt/with space", fsType: "cgroup2" }]);
  });

  it("reads /proc/mounts lines and skips blank ones", () => {
    expect(parseMountTable("\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n\n")).toEqual([
      { mountPoint: "/sys/fs/cgroup", fsType: "cgroup2" },
    ]);
  });
});

describe("parseOsRelease", () => {
  it("prefers PRETTY_NAME, unquoting it", () => {
    const text = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
    expect(parseOsRelease(text)).toBe("Debian GNU/Linux 12 (bookworm)");
  });

  it("handles single quotes, bare values and escapes", () => {
    expect(parseOsRelease("PRETTY_NAME='Alpine Linux v3.19'")).toBe("Alpine Linux v3.19");
    expect(parseOsRelease("PRETTY_NAME=Plain")).toBe("Plain");
    expect(parseOsRelease('PRETTY_NAME="Say \\"hi\\""')).toBe('Say "hi"');
  });

  it("falls back to NAME VERSION, then Linux", () => {
    expect(parseOsRelease('NAME="Fedora Linux"\nVERSION="39 (Server)"')).toBe("Fedora Linux 39 (Server)");
    expect(parseOsRelease("")).toBe("Linux");
  });
});

describe("parseVersionOutput", () => {
  it.each([
    ["runc version 1.1.5\ncommit: v1.1.5-0-gf19387a\nspec: 1.0.2-dev\ngo: go1.19.8\n", "1.1.5"],
    ["runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\n", "1.1.5+ds1"],
    ["crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\n", "1.8.1"],
    ["conmon version 2.1.6\ncommit: unknown\n", "2.1.6"],
    ["\n  tool version v0.3\n", "0.3"],
    ["something else entirely\n", "something else entirely"],
    ["", "unknown"],
  ])("%j → %s", (output, version) => {
    expect(parseVersionOutput(output)).toBe(version);
  });
});

describe("chooseRuntime", () => {
  const both = { runc: "/usr/sbin/runc", crun: "/usr/bin/crun" };
  it("prefers crun on cgroup v2", () => {
    expect(chooseRuntime("v2", both)).toEqual({ name: "crun", path: "/usr/bin/crun" });
  });
  it("uses runc on v1 and hybrid even when crun exists", () => {
    expect(chooseRuntime("hybrid", both)?.name).toBe("runc");
    expect(chooseRuntime("v1", both)?.name).toBe("runc");
  });
  it("falls back to runc on v2 without crun", () => {
    expect(chooseRuntime("v2", { runc: "/usr/sbin/runc", crun: null })?.name).toBe("runc");
  });
  it("is null when the usable runtime is missing", () => {
    expect(chooseRuntime("v2", { runc: null, crun: null })).toBeNull();
    expect(chooseRuntime("hybrid", { runc: null, crun: "/usr/bin/crun" })).toBeNull();
  });
});

describe("small helpers", () => {
  it("maps Node architectures to OCI names", () => {
    expect(normaliseArch("x64")).toBe("amd64");
    expect(normaliseArch("arm64")).toBe("arm64");
    expect(normaliseArch("ia32")).toBe("386");
    expect(normaliseArch("ppc64", "LE")).toBe("ppc64le");
  });

  it("searches $PATH (absolute entries only) then the sbin/bin directories", () => {
    expect(searchDirs("/opt/x/bin:relative::/usr/bin")).toEqual([
      "/opt/x/bin",
      "/usr/bin",
      "/usr/sbin",
      "/usr/local/sbin",
      "/usr/local/bin",
    ]);
    expect(searchDirs(undefined)).toEqual(EXTRA_BIN_DIRS);
  });
});

describe("reading executables", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "berth-agent-facts-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const file = async (rel: string, mode: number) => {
    const full = path.join(root, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, "#!/bin/sh\n");
    await chmod(full, mode);
    return full;
  };

  it("lists executable CNI plugins from all directories, sorted and without duplicates", async () => {
    await file("a/bridge", 0o755);
    await file("a/README", 0o644);
    await file("b/host-local", 0o755);
    await file("b/bridge", 0o755);
    await mkdir(path.join(root, "b/subdir"));
    await symlink(path.join(root, "a/bridge"), path.join(root, "b/portmap"));
    const dirs = [path.join(root, "a"), path.join(root, "b"), path.join(root, "missing")];
    expect(await listCniPlugins(dirs)).toEqual(["bridge", "host-local", "portmap"]);
  });

  it("finds the first executable of that name", async () => {
    await file("one/runc", 0o644);
    const second = await file("two/runc", 0o755);
    const dirs = ["one", "two"].map((d) => path.join(root, d));
    expect(await findExecutable("runc", dirs)).toBe(second);
    expect(await findExecutable("crun", dirs)).toBeNull();
  });
});

describe("collectFacts", () => {
  it("reports this machine's facts in the protocol's shape", async () => {
    const facts = await collectFacts({ searchPath: "/usr/bin:/bin" });
    expect(hostFactsSchema.safeParse(facts).success).toBe(true);
    expect(facts.cpus).toBeGreaterThan(0);
  });
});
