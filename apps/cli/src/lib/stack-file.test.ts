import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "./errors.ts";
import { nameFromDirectory, readStackFile } from "./stack-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-stack-file-"));
  await mkdir(path.join(dir, "shop"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const read = (file: string, environment: Record<string, string> = {}, name?: string) =>
  readStackFile({
    file,
    cwd: dir,
    environment,
    readStdin: async () => "services:\n  web:\n    image: from-stdin\n",
    ...(name ? { name } : {}),
  });

describe("readStackFile", () => {
  it("takes variables from the shell over .env, and sends only those the file uses", async () => {
    await writeFile(
      path.join(dir, "shop", "stack.yaml"),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose variables
      "services:\n  web:\n    image: web:${TAG}\n    environment:\n      REGION: ${REGION:-none}\n      HOME:\n",
    );
    await writeFile(path.join(dir, "shop", ".env"), "TAG=1\nREGION=dotenv\nUNUSED=x\n");
    const { payload, stack } = await read("shop/stack.yaml", { REGION: "shell", HOME: "/root", SECRET: "s" });
    expect(payload.variables).toEqual({ HOME: "/root", REGION: "shell", TAG: "1" });
    expect(payload.fileName).toBe("shop/stack.yaml");
    // No name: in the file: the directory's, as Compose does.
    expect([payload.name, stack]).toEqual(["shop", "shop"]);
  });

  it("reads env_file paths relative to the stack file, and leaves missing ones to the server to report", async () => {
    await writeFile(
      path.join(dir, "shop", "stack.yaml"),
      "name: shop\nservices:\n  web:\n    image: web:1\n    env_file: [./web.env, missing.env]\n",
    );
    await writeFile(path.join(dir, "shop", "web.env"), "MODE=prod\n");
    const { payload } = await read("shop/stack.yaml");
    expect(payload.files).toEqual({ "./web.env": "MODE=prod\n" });
  });

  it("refuses --name when the file names another stack", async () => {
    await writeFile(
      path.join(dir, "shop", "stack.yaml"),
      "name: shop\nservices:\n  web:\n    image: web:1\n",
    );
    await expect(read("shop/stack.yaml", {}, "other")).rejects.toThrow(
      /names the stack shop, but --name says other/,
    );
    const ok = await read("shop/stack.yaml", {}, "shop");
    expect(ok.payload.name).toBe("shop");
  });

  it("reads stdin for -", async () => {
    const { payload } = await read("-", {}, "piped");
    expect(payload).toMatchObject({
      fileName: "stdin",
      name: "piped",
      yaml: expect.stringContaining("from-stdin"),
    });
  });

  it("says which file is missing", async () => {
    const err = await read("nope.yaml").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe("InvalidArgument");
    expect((err as CliError).message).toMatch(/cannot read .*nope\.yaml: no such file/);
  });

  it("passes an invalid file on (the server reports its problems) without variables", async () => {
    await writeFile(path.join(dir, "bad.yaml"), "services: [\n");
    const { payload, stack } = await read("bad.yaml", { X: "1" });
    expect(stack).toBeUndefined();
    expect(payload.variables).toEqual({});
  });
});

describe("nameFromDirectory", () => {
  it.each([
    ["/srv/My Shop", "myshop"],
    ["/srv/_api.v2", "apiv2"],
    ["/srv/.", "srv"],
    ["/srv/___", undefined],
  ])("%s → %s", (dir, name) => {
    expect(nameFromDirectory(dir)).toBe(name);
  });
});
