import { describe, expect, it } from "vitest";
import { runCli } from "./program.ts";

async function cli(...args: string[]) {
  let stderr = "";
  const code = await runCli(["node", "berth-agent", ...args], {
    stdout: () => {},
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stderr };
}

describe("berth-agent --hollow", () => {
  it("refuses a count that is not 1 to 10,000, with the InvalidArgument exit code and one line", async () => {
    for (const n of ["0", "abc", "10001", "-3", "1.5"]) {
      const { code, stderr } = await cli("--hollow", n, "--server", "http://127.0.0.1:1");
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /^berth-agent: InvalidArgument: --hollow: give a number of hosts from 1 to 10000/,
      );
    }
  });

  it("refuses a bad --hollow-first and a missing server", async () => {
    const bad = await cli("--hollow", "2", "--hollow-first", "x", "--server", "http://127.0.0.1:1");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--hollow-first/);
    const noServer = await cli("--hollow", "2", "--state-dir", "/nonexistent/berth-hollow");
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toMatch(/--hollow needs the control plane/);
  });
});
