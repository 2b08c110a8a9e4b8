import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EXIT_CODES } from "@berth/protocol/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readConfig, writeConfig } from "./config.ts";
import { CliError, describeError } from "./errors.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-cli-config-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("config file", () => {
  it("round-trips, private to the user, in a directory it creates 0700", async () => {
    const file = path.join(dir, "nested", "berth", "config.json");
    const config = { server: "http://localhost:3000", username: "admin", token: "bat_secret" };
    await writeConfig(file, config);
    expect(await readConfig(file)).toEqual(config);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
  });

  it("replaces the file atomically and leaves no temp files", async () => {
    const file = path.join(dir, "config.json");
    await writeConfig(file, { server: "http://a", token: "one" });
    await writeConfig(file, { server: "http://b" });
    expect(await readConfig(file)).toEqual({ server: "http://b" });
    expect(await readdir(dir)).toEqual(["config.json"]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("reads a missing file as an empty config", async () => {
    expect(await readConfig(path.join(dir, "absent.json"))).toEqual({});
  });

  it.each([
    ["not JSON", "{ nope"],
    ["a token of the wrong type", JSON.stringify({ token: 42 })],
    ["an empty server", JSON.stringify({ server: "" })],
  ])("refuses %s with FailedPrecondition naming the file", async (_what, text) => {
    const file = path.join(dir, "config.json");
    await writeFile(file, text);
    const err = await readConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe("FailedPrecondition");
    expect(describeError(err).message).toContain(file);
    expect(describeError(err).exitCode).toBe(EXIT_CODES.FailedPrecondition);
  });

  it("reports a directory it cannot write to as FailedPrecondition", async () => {
    const blocker = path.join(dir, "file");
    await writeFile(blocker, "");
    const err = await writeConfig(path.join(blocker, "config.json"), {}).catch((e: unknown) => e);
    expect((err as CliError).code).toBe("FailedPrecondition");
  });

  it("keeps the mode of a directory that already existed", async () => {
    const existing = path.join(dir, "shared");
    await mkdir(existing, { mode: 0o755 });
    await writeConfig(path.join(existing, "config.json"), { server: "http://a" });
    expect((await stat(existing)).mode & 0o777).toBe(0o755);
    expect(JSON.parse(await readFile(path.join(existing, "config.json"), "utf8"))).toEqual({
      server: "http://a",
    });
  });
});
