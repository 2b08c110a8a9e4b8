import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveInRoot } from "./in-root.ts";
import { readUserDb, resolveUser } from "./user.ts";

const db = {
  passwd: [
    "# comment",
    "root:x:0:0:root:/root:/bin/sh",
    "web:x:33:33:www:/var/www:/bin/false",
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
    "broken:x:notanumber:1::/:/bin/sh",
    "",
  ].join("\n"),
  group: ["root:x:0:", "web:x:33:", "adm:x:4:web,other", "audio:x:29:web", "nogroup:x:65534:"].join("\n"),
};

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return "no error";
};

describe("resolveUser", () => {
  it("defaults to root, with root's home", () => {
    expect(resolveUser(undefined, db)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: "/root" });
    expect(resolveUser("", db)).toEqual(resolveUser("0", db));
  });

  it("resolves a name to its uid, primary group, supplementary groups and home", () => {
    expect(resolveUser("web", db)).toEqual({ uid: 33, gid: 33, additionalGids: [4, 29], home: "/var/www" });
    expect(resolveUser("nobody", db)).toMatchObject({ uid: 65534, gid: 65534 });
  });

  it("a known numeric uid brings its group; an unknown one gets gid 0", () => {
    expect(resolveUser("33", db)).toMatchObject({ uid: 33, gid: 33, additionalGids: [4, 29] });
    expect(resolveUser("1234", db)).toEqual({ uid: 1234, gid: 0, additionalGids: [], home: "/" });
  });

  it("an explicit group wins and drops the supplementary groups (runc's rule)", () => {
    expect(resolveUser("web:audio", db)).toEqual({ uid: 33, gid: 29, additionalGids: [], home: "/var/www" });
    expect(resolveUser("1000:2000", db)).toEqual({ uid: 1000, gid: 2000, additionalGids: [], home: "/" });
    expect(resolveUser("1000:2000")).toEqual({ uid: 1000, gid: 2000, additionalGids: [], home: "/" });
  });

  it("refuses unknown names, malformed forms and ids out of range", () => {
    expect(code(() => resolveUser("ghost", db))).toBe("InvalidArgument");
    expect(code(() => resolveUser("web:ghosts", db))).toBe("InvalidArgument");
    expect(code(() => resolveUser("web", { passwd: "", group: "" }))).toBe("InvalidArgument");
    expect(code(() => resolveUser("1:2:3", db))).toBe("InvalidArgument");
    expect(code(() => resolveUser("1:", db))).toBe("InvalidArgument");
    expect(code(() => resolveUser(":1", db))).toBe("InvalidArgument");
    expect(code(() => resolveUser("broken", db))).toBe("InvalidArgument");
    expect(code(() => resolveUser("4294967296", db))).toBe("InvalidArgument");
  });
});

describe("reading passwd and group from a rootfs", () => {
  let root: string;
  let outside: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "berth-userdb-"));
    outside = await mkdtemp(path.join(os.tmpdir(), "berth-outside-"));
    await mkdir(path.join(root, "etc"));
    await mkdir(path.join(root, "real"));
    await writeFile(path.join(root, "real", "passwd"), "app:x:7:8::/app:/bin/sh\n");
    // An absolute symlink is resolved inside the rootfs, never on the host.
    await symlink("/real/passwd", path.join(root, "etc", "passwd"));
    await writeFile(path.join(outside, "group"), "stolen:x:1:\n");
    await symlink(`../../../../../../../..${outside}/group`, path.join(root, "etc", "group"));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it("follows symlinks within the root and never out of it", async () => {
    const userDb = await readUserDb(root);
    expect(resolveUser("app", userDb)).toMatchObject({ uid: 7, gid: 8, home: "/app" });
    expect(userDb.group).toBe("");
    expect(await resolveInRoot(root, "/etc/group")).toBe(path.join(root, outside, "group"));
  });

  it("treats missing files as empty", async () => {
    expect(await readUserDb(path.join(root, "real"))).toEqual({ passwd: "", group: "" });
  });
});
