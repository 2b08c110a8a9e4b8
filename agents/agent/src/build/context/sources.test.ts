import { chmod, mkdir, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isBerthError } from "@berth/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createIgnoreMatcher } from "./dockerignore.ts";
import { cleanSource, selectSources, sourcesHash, type Tree } from "./sources.ts";

let root: string;
let tree: Tree;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "berth-sources-"));
  for (const [file, text] of Object.entries({
    "a.txt": "a",
    "b.txt": "b",
    "c.md": "c",
    "src/main.js": "main",
    "src/lib/util.js": "util",
    "node_modules/x/index.js": "x",
    "secret.env": "s",
  })) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  tree = { root, ignore: createIgnoreMatcher(["node_modules", "*.env"]), followLinks: false };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const rels = (selected: Awaited<ReturnType<typeof selectSources>>) =>
  selected.map((s) => [s.match, s.entries.map((e) => e.rel)]);

describe("selectSources", () => {
  it("matches globs per path component, sorted", async () => {
    expect(rels(await selectSources(tree, ["*.txt"]))).toEqual([
      ["a.txt", [""]],
      ["b.txt", [""]],
    ]);
    expect(rels(await selectSources(tree, ["src/*/util.js", "?.md"]))).toEqual([
      ["src/lib/util.js", [""]],
      ["c.md", [""]],
    ]);
  });

  it("a directory brings its contents; . is the whole context less what .dockerignore hides", async () => {
    expect(rels(await selectSources(tree, ["./src/"]))).toEqual([["src", ["lib", "lib/util.js", "main.js"]]]);
    const all = (await selectSources(tree, ["."]))[0]!.entries.map((e) => e.rel);
    expect(all).toEqual(["a.txt", "b.txt", "c.md", "src", "src/lib", "src/lib/util.js", "src/main.js"]);
  });

  it("an ignored or missing source is NotFound", async () => {
    for (const source of ["secret.env", "node_modules/x/index.js", "nope", "*.none"]) {
      const err = await selectSources(tree, [source]).catch((e: unknown) => e);
      expect(isBerthError(err) && err.code === "NotFound").toBe(true);
    }
  });

  it("refuses a file name that is not UTF-8 by name, unless .dockerignore hides it", async () => {
    const latin1 = Buffer.concat([Buffer.from(path.join(root, "src", "caf")), Buffer.from([0xe9])]);
    await writeFile(latin1, "a name in Latin-1");
    const err = await selectSources(tree, ["."]).catch((e: unknown) => e);
    expect(isBerthError(err) && err.code).toBe("InvalidArgument");
    expect((err as Error).message).toBe(
      '"src/caf\ufffd": the file name is not UTF-8 (bytes 636166e9); rename it or leave it out with .dockerignore',
    );
    const hidden = { ...tree, ignore: createIgnoreMatcher(["node_modules", "*.env", "src/caf*"]) };
    const all = (await selectSources(hidden, ["."]))[0]!.entries.map((e) => e.rel);
    expect(all).toEqual(["a.txt", "b.txt", "c.md", "src", "src/lib", "src/lib/util.js", "src/main.js"]);
  });

  it("never leaves the root", () => {
    expect(cleanSource("../../etc/passwd")).toBe("etc/passwd");
    expect(cleanSource("/abs/./x/")).toBe("abs/x");
    expect(cleanSource("./")).toBe(".");
  });
});

describe("sourcesHash", () => {
  it("reads synchronously but lets the event loop turn (a timer, Ctrl-C) within a big file", async () => {
    await writeFile(path.join(root, "big"), "");
    await truncate(path.join(root, "big"), 160 * 1024 * 1024); // a hole: read back as zeros, fast
    const selected = await selectSources(tree, ["big"]);
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
    }, 0);
    const firedBeforeEnd = await sourcesHash(selected).then(() => fired);
    clearTimeout(timer);
    expect(firedBeforeEnd).toBe(true);
  });

  it("changes with content and mode, not with unrelated files", async () => {
    const hash = async () => sourcesHash(await selectSources(tree, ["src", "a.txt"]));
    const first = await hash();
    await writeFile(path.join(root, "b.txt"), "changed");
    expect(await hash()).toBe(first);
    await writeFile(path.join(root, "src/main.js"), "main2");
    const second = await hash();
    expect(second).not.toBe(first);
    await chmod(path.join(root, "a.txt"), 0o600);
    expect(await hash()).not.toBe(second);
  });
});
