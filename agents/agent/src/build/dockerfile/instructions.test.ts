import { isBerthError } from "@berth/protocol";
import { describe, expect, it } from "vitest";
import type { ContainerDefaults } from "../image-config.ts";
import { type EvalContext, evaluate, parseDurationNs, type Step } from "./instructions.ts";
import { parseDockerfile } from "./parse.ts";

function step(line: string, over: Partial<EvalContext> = {}): Step {
  const node = parseDockerfile(`FROM x\n${line}\n`).instructions[1]!;
  return evaluate(node, {
    file: "Dockerfile",
    escape: "\\",
    vars: new Map([["V", "1.2"]]),
    config: {},
    ...over,
  });
}

function applied(line: string, config: ContainerDefaults = {}): ContainerDefaults {
  const s = step(line, { config });
  if (s.kind !== "config") throw new Error(`not a config step: ${s.kind}`);
  return s.apply(config);
}

describe("evaluate", () => {
  it("ENV: key=value pairs with quotes and substitution, and the legacy form", () => {
    expect(applied('ENV A="x y" B=$V C=${U:-d}')).toEqual({ Env: ["A=x y", "B=1.2", "C=d"] });
    expect(applied("ENV GREETING hello  world")).toEqual({ Env: ["GREETING=hello  world"] });
    expect(applied("ENV A=2", { Env: ["A=1", "B=0"] })).toEqual({ Env: ["A=2", "B=0"] });
  });

  it("RUN and CMD: shell form through the stage's SHELL, exec form as written (no substitution)", () => {
    expect(step("RUN echo $V")).toMatchObject({ kind: "run", args: ["/bin/sh", "-c", "echo $V"] });
    expect(step('RUN ["echo", "$V"]')).toMatchObject({ args: ["echo", "$V"] });
    expect(step("RUN echo hi", { config: { Shell: ["/bin/bash", "-euc"] } })).toMatchObject({
      args: ["/bin/bash", "-euc", "echo hi"],
    });
    expect(applied("CMD echo hi")).toEqual({ Cmd: ["/bin/sh", "-c", "echo hi"] });
  });

  it("WORKDIR joins relative paths onto the current one", () => {
    expect(applied("WORKDIR app/$V", { WorkingDir: "/srv" })).toEqual({ WorkingDir: "/srv/app/1.2" });
    expect(applied("WORKDIR /abs/../x/")).toEqual({ WorkingDir: "/x" });
  });

  it("EXPOSE, VOLUME, LABEL, USER, STOPSIGNAL, SHELL fill the config as Docker does", () => {
    expect(applied("EXPOSE 80 53/udp 8000-8001")).toEqual({
      ExposedPorts: { "80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {} },
    });
    expect(applied('VOLUME ["/data", "/v$V"]')).toEqual({ Volumes: { "/data": {}, "/v1.2": {} } });
    expect(applied('LABEL a=1 "b c"="d e"', { Labels: { a: "0", z: "1" } })).toEqual({
      Labels: { a: "1", z: "1", "b c": "d e" },
    });
    expect(applied("USER app:$V")).toEqual({ User: "app:1.2" });
    expect(applied("STOPSIGNAL SIGQUIT")).toEqual({ StopSignal: "SIGQUIT" });
    expect(applied('SHELL ["/bin/ash", "-c"]')).toEqual({ Shell: ["/bin/ash", "-c"] });
  });

  it("HEALTHCHECK: options in nanoseconds, CMD-SHELL or CMD, and NONE", () => {
    expect(applied("HEALTHCHECK --interval=5s --timeout=1m30s --retries=2 CMD wget -q localhost")).toEqual({
      Healthcheck: { Test: ["CMD-SHELL", "wget -q localhost"], Interval: 5e9, Timeout: 90e9, Retries: 2 },
    });
    expect(applied('HEALTHCHECK CMD ["true"]')).toEqual({ Healthcheck: { Test: ["CMD", "true"] } });
    expect(applied("HEALTHCHECK NONE")).toEqual({ Healthcheck: { Test: ["NONE"] } });
  });

  it("COPY and ADD: sources, destination and flags substituted", () => {
    expect(step("COPY --chown=app:$V --chmod=0640 a$V b/ /dst/")).toMatchObject({
      kind: "copy",
      sources: ["a1.2", "b/"],
      dest: "/dst/",
      chown: "app:1.2",
      chmod: 0o640,
      add: false,
    });
    expect(step('ADD ["x y.tar", "/opt/"]')).toMatchObject({
      add: true,
      sources: ["x y.tar"],
      dest: "/opt/",
    });
  });

  it("ARG declares names with optional defaults", () => {
    expect(step("ARG A B=$V")).toMatchObject({
      kind: "arg",
      args: [
        { name: "A", value: undefined },
        { name: "B", value: "1.2" },
      ],
    });
  });

  it.each([
    ["ADD https://example.com/x.tgz /x", /ADD of a URL .* is not supported/],
    ["COPY onlyone", /needs at least one source and a destination/],
    ["COPY a b /not-a-dir", /must end with "\/"/],
    ["SHELL /bin/bash -c", /SHELL takes the JSON form/],
    ["EXPOSE eighty", /invalid port "eighty"/],
    ["HEALTHCHECK --interval=soon CMD true", /invalid duration/],
    ["ENV A=${B", /missing "}"/],
    ["COPY --chmod=rwx a /b", /octal mode/],
  ])("%s is an InvalidArgument naming the line", (line, message) => {
    let error: unknown;
    try {
      step(line);
    } catch (err) {
      error = err;
    }
    expect(isBerthError(error) && error.code === "InvalidArgument").toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("Dockerfile:2:");
  });

  it("parses Go durations", () => {
    expect(parseDurationNs("1h2m3s")).toBe(3723e9);
    expect(parseDurationNs("250ms")).toBe(250e6);
    expect(() => parseDurationNs("5")).toThrow();
  });
});
