import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isBerthError } from "@berth/protocol";
import { describe, expect, it } from "vitest";
import { parseDockerfile } from "./parse.ts";
import { findStage, neededStages, planStages, targetIndex } from "./stages.ts";

const invalidDir = fileURLToPath(new URL("./__fixtures__/invalid/", import.meta.url));

describe("parseDockerfile", () => {
  it("joins continuation lines, drops comments and keeps each instruction's first line", () => {
    const parsed = parseDockerfile(
      [
        "FROM busybox",
        "",
        "# a comment",
        "RUN echo one \\",
        "    # a comment inside the continuation",
        "  && echo two\\",
        "three",
        'CMD ["sh", "-c", "echo hi"]',
      ].join("\n"),
    );
    expect(parsed.instructions.map((i) => [i.keyword, i.line])).toEqual([
      ["from", 1],
      ["run", 4],
      ["cmd", 8],
    ]);
    expect(parsed.instructions[1]!.rest).toBe("echo one   && echo twothree");
    expect(parsed.instructions[2]!.json).toEqual(["sh", "-c", "echo hi"]);
  });

  it("reads parser directives at the top only, and honours a backtick escape", () => {
    const parsed = parseDockerfile(
      "# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\n# escape=\\\n",
    );
    expect(parsed.directives).toEqual({ syntax: "docker/dockerfile:1", escape: "`" });
    expect(parsed.instructions[1]!.rest).toBe("echo a   b");
    const late = parseDockerfile("FROM busybox\n# escape=`\nRUN echo a \\\n b\n");
    expect(late.directives.escape).toBe("\\");
    expect(late.instructions[1]!.rest).toBe("echo a  b");
  });

  it("splits flags from arguments and tells the JSON form from the shell form", () => {
    const [, copy, run, bad] = parseDockerfile(
      'FROM x\nCOPY --from=build --chown=app:app ["a b", "/dst/"]\nRUN [ -f /x ] && echo y\nCMD [not json]\n',
    ).instructions;
    expect(copy).toMatchObject({ flags: ["--from=build", "--chown=app:app"], json: ["a b", "/dst/"] });
    expect(run).toMatchObject({ json: null, rest: "[ -f /x ] && echo y" });
    expect(bad).toMatchObject({ json: null, rest: "[not json]" });
  });

  it("accepts CRLF line ends and a byte-order mark", () => {
    const parsed = parseDockerfile("\uFEFFFROM busybox\r\nRUN true\r\n");
    expect(parsed.instructions.map((i) => i.keyword)).toEqual(["from", "run"]);
  });
});

describe("invalid Dockerfiles (fixtures): the error names file:line", () => {
  const files = readdirSync(invalidDir).filter((f) => f.endsWith(".Dockerfile"));
  it.each(files)("%s", (file) => {
    const text = readFileSync(path.join(invalidDir, file), "utf8");
    const expected = readFileSync(
      path.join(invalidDir, file.replace(".Dockerfile", ".error.txt")),
      "utf8",
    ).trim();
    let error: unknown;
    try {
      planStages(parseDockerfile(text, "Dockerfile"));
    } catch (err) {
      error = err;
    }
    expect(isBerthError(error) && error.code === "InvalidArgument").toBe(true);
    expect((error as Error).message).toContain(expected);
  });
});

describe("stages", () => {
  const plan = planStages(
    parseDockerfile(
      [
        "ARG BASE=busybox",
        "FROM $BASE AS deps",
        "RUN echo deps",
        "FROM $BASE AS unused",
        "RUN echo never",
        "FROM deps AS build",
        "COPY --from=0 /a /a",
        "FROM scratch",
        "COPY --from=build /a /a",
        "COPY --from=registry.local/tools:1 /bin/x /x",
      ].join("\n"),
    ),
  );
  const expand = (s: { base: string }) => s.base.replace("$BASE", "busybox");

  it("groups instructions by FROM and keeps global ARGs apart", () => {
    expect(plan.globalArgs).toHaveLength(1);
    expect(plan.stages.map((s) => [s.name, s.base, s.steps.length])).toEqual([
      ["deps", "$BASE", 1],
      ["unused", "$BASE", 1],
      ["build", "deps", 1],
      [null, "scratch", 2],
    ]);
  });

  it("builds only the stages the target needs", () => {
    expect(neededStages(plan, targetIndex(plan, undefined), expand)).toEqual([0, 2, 3]);
    expect(neededStages(plan, targetIndex(plan, "build"), expand)).toEqual([0, 2]);
    expect(neededStages(plan, targetIndex(plan, "unused"), expand)).toEqual([1]);
  });

  it("finds stages by name or index, earlier ones only", () => {
    expect(findStage(plan.stages, "DEPS", 3)?.index).toBe(0);
    expect(findStage(plan.stages, "2", 3)?.index).toBe(2);
    expect(findStage(plan.stages, "build", 1)).toBeNull();
    expect(findStage(plan.stages, "busybox", 3)).toBeNull();
  });

  it("refuses an unknown --target, naming the stages", () => {
    expect(() => targetIndex(plan, "nope")).toThrow(
      /target stage "nope" not found \(stages: deps, unused, build\)/,
    );
  });
});
