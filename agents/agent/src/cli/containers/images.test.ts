import { describe, expect, it } from "vitest";
import { loadRenderer } from "./image-archive.ts";
import { progressRenderer } from "./images.ts";

/** What a renderer made by `make` writes for `events`. */
function output<E>(
  make: (out: (text: string) => void, tty: boolean) => (event: E) => void,
  tty: boolean,
  events: E[],
): string {
  let out = "";
  const r = make((t) => {
    out += t;
  }, tty);
  for (const event of events) r(event);
  return out;
}

function render(tty: boolean) {
  return output(progressRenderer, tty, [
    { type: "resolved", ref: "busybox:latest", digest: `sha256:${"a".repeat(64)}`, layers: 2 },
    { type: "layer", id: "111111111111", status: "Pulling fs layer" },
    { type: "layer", id: "222222222222", status: "Pulling fs layer" },
    { type: "progress", id: "111111111111", current: 512, total: 1024 },
    { type: "layer", id: "222222222222", status: "Already exists" },
    { type: "layer", id: "111111111111", status: "Pull complete" },
    { type: "done", ref: "busybox:latest", digest: `sha256:${"a".repeat(64)}`, status: "downloaded" },
  ]);
}

describe("pull progress", () => {
  it("prints plain lines without byte counts when not on a terminal", () => {
    expect(render(false).split("\n")).toEqual([
      "busybox:latest: Pulling",
      "111111111111: Pulling fs layer",
      "222222222222: Pulling fs layer",
      "222222222222: Already exists",
      "111111111111: Pull complete",
      `Digest: sha256:${"a".repeat(64)}`,
      "Status: Downloaded newer image for busybox:latest",
      "",
    ]);
  });

  it("rewrites a layer's own line in place on a terminal", () => {
    const out = render(true);
    // The first layer's line is two lines up, the second's one.
    expect(out).toContain(`\x1b[2A\r\x1b[2K111111111111: Downloading [${"=".repeat(19)}>${" ".repeat(20)}] `);
    expect(out).toContain("\x1b[1A\r\x1b[2K222222222222: Already exists\x1b[1B\r");
    expect(out).toContain("\x1b[2A\r\x1b[2K111111111111: Pull complete\x1b[2B\r");
  });
});

describe("load progress", () => {
  function renderLoad(tty: boolean) {
    return output(loadRenderer, tty, [
      { type: "reading", current: 1 << 20, total: 4 << 20 },
      { type: "reading", current: 4 << 20, total: 4 << 20 },
      { type: "layer", id: "111111111111", status: "Loading layer" },
      { type: "layer", id: "222222222222", status: "Already exists" },
      { type: "progress", id: "111111111111", current: 512, total: 1024 },
      { type: "layer", id: "111111111111", status: "Loaded" },
    ]);
  }

  it("prints a plain line per layer status when not on a terminal, nothing of the reading", () => {
    expect(renderLoad(false).split("\n")).toEqual([
      "111111111111: Loading layer",
      "222222222222: Already exists",
      "111111111111: Loaded",
      "",
    ]);
  });

  it("shows the archive read, then each layer's bar in its own line, on a terminal", () => {
    const out = renderLoad(true);
    expect(out.startsWith(`archive: Reading [${"=".repeat(9)}>${" ".repeat(30)}] `)).toBe(true);
    expect(out).toContain(`\x1b[1A\r\x1b[2Karchive: Reading [${"=".repeat(39)}>] `);
    expect(out).toContain(`\x1b[2A\r\x1b[2K111111111111: Loading layer [${"=".repeat(19)}>`);
    expect(out).toContain("\x1b[2A\r\x1b[2K111111111111: Loaded\x1b[2B\r");
  });

  it("shows only the bytes read when the archive's size is unknown (stdin)", () => {
    const out = output(loadRenderer, true, [{ type: "reading", current: 3 << 20, total: null }]);
    expect(out).toBe("archive: Reading 3.0 MiB\n");
  });
});
