import { hostFactsSchema } from "@berth/protocol";
import { describe, expect, it } from "vitest";
import { runCli } from "./program.ts";

async function cli(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(["node", "berth-agent", ...args], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

describe("berth-agent CLI", () => {
  it("prints help with the commands and environment variables, exit 0", async () => {
    const { code, stdout } = await cli("--help");
    expect(code).toBe(0);
    for (const word of [
      "--server",
      "--join-token",
      "--state-dir",
      "--log-level",
      "facts",
      "BERTH_JOIN_TOKEN",
    ]) {
      expect(stdout).toContain(word);
    }
  });

  it("prints the version", async () => {
    const { code, stdout } = await cli("--version");
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("prints facts as JSON in the protocol's shape", async () => {
    const { code, stdout } = await cli("facts", "--output", "json");
    expect(code).toBe(0);
    expect(hostFactsSchema.safeParse(JSON.parse(stdout)).success).toBe(true);
  });

  it("prints facts as text by default", async () => {
    const { code, stdout } = await cli("facts");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^cgroup mode\s+(v1|v2|hybrid)$/m);
  });

  it("rejects unknown options and bad choices with exit 1 on stderr", async () => {
    for (const args of [["--bogus"], ["facts", "--output", "yaml"]]) {
      const { code, stdout, stderr } = await cli(...args);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^error: /);
    }
  });

  it("turns a bad --server into one line and the InvalidArgument exit code", async () => {
    const { code, stderr } = await cli("--server", "ftp://x", "--state-dir", "/nonexistent/berth");
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });
});
