import { describe, expect, it } from "vitest";
import { programFor } from "./program.ts";
import { exitCodeForSignal, parseSignal } from "./signals.ts";

const out = (text: string) => ({ kind: "write", stream: "stdout", text });
const err = (text: string) => ({ kind: "write", stream: "stderr", text });

describe("programFor", () => {
  it("knows true, false, echo, printf and sleep as programs", () => {
    expect(programFor(["true"])).toEqual({ steps: [], exit: 0 });
    expect(programFor(["/bin/false"])).toEqual({ steps: [], exit: 1 });
    expect(programFor(["echo", "a", "b"])).toEqual({ steps: [out("a b\n")], exit: 0 });
    expect(programFor(["printf", "%s-%s\\n", "x", "y"])).toEqual({ steps: [out("x-y\n")], exit: 0 });
    expect(programFor(["sleep", "1.5"])).toEqual({ steps: [{ kind: "sleep", ms: 1500 }], exit: 0 });
    expect(programFor(["sleep", "soon"])).toMatchObject({
      steps: [err("sleep: invalid number 'soon'\n")],
      exit: 1,
    });
  });

  it("lets other programs (and shells without -c, and sleep infinity) run until stopped", () => {
    expect(programFor(["nginx", "-g", "daemon off;"])).toEqual({ steps: [], exit: null });
    expect(programFor(["sh"])).toEqual({ steps: [], exit: null });
    expect(programFor(["sleep", "infinity"]).exit).toBeNull();
    expect(programFor([]).exit).toBeNull();
  });

  it("runs sh -c scripts: ; && || newlines, exit codes, quotes and redirections", () => {
    expect(programFor(["sh", "-c", "exit 3"])).toEqual({ steps: [], exit: 3 });
    expect(programFor(["sh", "-c", "echo hello; echo err >&2"])).toEqual({
      steps: [out("hello\n"), err("err\n")],
      exit: 0,
    });
    expect(programFor(["sh", "-c", "false && echo no || echo 'yes  quoted'"])).toEqual({
      steps: [out("yes  quoted\n")],
      exit: 0,
    });
    expect(programFor(["sh", "-c", 'echo "a;b" 1>&2\nfalse'])).toEqual({ steps: [err("a;b\n")], exit: 1 });
    expect(programFor(["sh", "-c", "echo gone >/dev/null; false; exit"])).toEqual({ steps: [], exit: 1 });
    expect(programFor(["sh", "-c", "echo a; sleep 2; echo b; exit 300"])).toEqual({
      steps: [out("a\n"), { kind: "sleep", ms: 2000 }, out("b\n")],
      exit: 44,
    });
  });

  it("treats loops, pipes and unknown commands in a container's script as running forever", () => {
    expect(programFor(["sh", "-c", "echo start; while true; do sleep 1; done"])).toEqual({
      steps: [out("start\n")],
      exit: null,
    });
    expect(programFor(["sh", "-c", "echo x | cat"]).exit).toBeNull();
    expect(programFor(["sh", "-c", "echo a; httpd -f"])).toEqual({ steps: [out("a\n")], exit: null });
  });

  it("reports unknown commands as not found for exec", () => {
    expect(programFor(["ls", "/"], "not-found")).toEqual({ steps: [err("sh: ls: not found\n")], exit: 127 });
  });
});

describe("signals", () => {
  it("parses signals by name, short name and number", () => {
    expect(parseSignal("SIGKILL")).toEqual({ name: "SIGKILL", number: 9 });
    expect(parseSignal("term")).toEqual({ name: "SIGTERM", number: 15 });
    expect(parseSignal("2")).toEqual({ name: "SIGINT", number: 2 });
    expect(() => parseSignal("SIGNOPE")).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    expect(exitCodeForSignal(parseSignal("KILL"))).toBe(137);
    expect(exitCodeForSignal(parseSignal("SIGWINCH"))).toBeNull();
  });
});
