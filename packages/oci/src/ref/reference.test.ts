import { describe, expect, it } from "vitest";
import { OciError } from "../errors.ts";
import {
  familiarName,
  familiarString,
  formatReference,
  type ImageReference,
  parseReference,
} from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

const valid: Array<[string, ImageReference, string]> = [
  ["busybox", { registry: "docker.io", repository: "library/busybox", tag: "latest" }, "busybox:latest"],
  ["busybox:1.36", { registry: "docker.io", repository: "library/busybox", tag: "1.36" }, "busybox:1.36"],
  [
    "library/busybox",
    { registry: "docker.io", repository: "library/busybox", tag: "latest" },
    "busybox:latest",
  ],
  [
    "docker.io/busybox",
    { registry: "docker.io", repository: "library/busybox", tag: "latest" },
    "busybox:latest",
  ],
  [
    "index.docker.io/user/app:v2",
    { registry: "docker.io", repository: "user/app", tag: "v2" },
    "user/app:v2",
  ],
  ["user/app", { registry: "docker.io", repository: "user/app", tag: "latest" }, "user/app:latest"],
  ["localhost/app", { registry: "localhost", repository: "app", tag: "latest" }, "localhost/app:latest"],
  [
    "localhost:5000/a/b:1",
    { registry: "localhost:5000", repository: "a/b", tag: "1" },
    "localhost:5000/a/b:1",
  ],
  [`ghcr.io/x/y@${D}`, { registry: "ghcr.io", repository: "x/y", digest: D }, `ghcr.io/x/y@${D}`],
  [
    `busybox:1.36@${D}`,
    { registry: "docker.io", repository: "library/busybox", tag: "1.36", digest: D },
    `busybox:1.36@${D}`,
  ],
  [
    "127.0.0.1:5000/x",
    { registry: "127.0.0.1:5000", repository: "x", tag: "latest" },
    "127.0.0.1:5000/x:latest",
  ],
  ["[::1]:5000/x:t", { registry: "[::1]:5000", repository: "x", tag: "t" }, "[::1]:5000/x:t"],
  [
    "reg.example.com/a_b/c__d/e-f/g.h--i",
    { registry: "reg.example.com", repository: "a_b/c__d/e-f/g.h--i", tag: "latest" },
    "reg.example.com/a_b/c__d/e-f/g.h--i:latest",
  ],
  [
    "x:_under.score-1",
    { registry: "docker.io", repository: "library/x", tag: "_under.score-1" },
    "x:_under.score-1",
  ],
  [
    `x:${"t".repeat(128)}`,
    { registry: "docker.io", repository: "library/x", tag: "t".repeat(128) },
    `x:${"t".repeat(128)}`,
  ],
];

describe("parseReference: valid", () => {
  it.each(valid)("%s", (input, expected, familiar) => {
    const ref = parseReference(input);
    expect(ref).toEqual(expected);
    expect(familiarString(ref)).toBe(familiar);
    expect(parseReference(formatReference(ref))).toEqual(ref);
    expect(parseReference(familiarString(ref))).toEqual(ref);
  });
});

const invalid: Array<[string, RegExp]> = [
  ["", /empty/],
  ["Busybox", /lowercase/],
  ["docker.io/Library/busybox", /lowercase/],
  ["ghcr.io/x/Y", /lowercase/],
  ["a b", /whitespace/],
  [":tag", /empty/],
  ["busybox:", /invalid tag/],
  ["busybox:-x", /invalid tag "-x"/],
  ["busybox:.x", /invalid tag/],
  [`x:${"t".repeat(129)}`, /invalid tag/],
  ["busybox@sha256:abc", /sha256 needs 64/],
  [`busybox@md5:${"a".repeat(32)}`, /unsupported algorithm "md5"/],
  [`busybox@${D.toUpperCase()}`, /invalid digest/],
  ["a//b", /path component ""/],
  ["a/b_/c", /path component "b_"/],
  ["a/-b", /path component "-b"/],
  ["a/b___c", /path component "b___c"/],
  ["a/.b", /path component ".b"/],
  ["-bad.io/x", /registry host "-bad.io"/],
  ["reg.io:port/x", /registry host/],
  ["reg.io/", /repository name is empty/],
  ["a".repeat(64), /image ID/],
  [`reg.io/${"a".repeat(250)}`, /longer than 255/],
];

describe("parseReference: invalid", () => {
  it.each(invalid)("%s", (input, why) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe("InvalidArgument");
    expect((err as OciError).message).toMatch(why);
  });
});

describe("familiarName", () => {
  it.each([
    ["busybox", "busybox"],
    ["docker.io/library/busybox:1", "busybox"],
    ["docker.io/library/a/b", "library/a/b"],
    ["user/app", "user/app"],
    ["ghcr.io/x/y", "ghcr.io/x/y"],
    ["localhost:5000/library/x", "localhost:5000/library/x"],
  ])("%s -> %s", (input, name) => {
    expect(familiarName(parseReference(input))).toBe(name);
  });

  it("formats the fully qualified form", () => {
    expect(formatReference(parseReference("busybox"))).toBe("docker.io/library/busybox:latest");
  });
});
