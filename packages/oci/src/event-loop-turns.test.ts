import { describe, expect, it } from "vitest";
import { EventLoopTurns, TURN_BYTES } from "./event-loop-turns.ts";

describe("EventLoopTurns", () => {
  it("lets the event loop turn once per TURN_BYTES, and not before", async () => {
    const turns = new EventLoopTurns();
    let immediates = 0;
    const tick = () => {
      immediates += 1;
    };
    setImmediate(tick);
    await turns.add(TURN_BYTES - 1);
    expect(immediates).toBe(0); // only microtasks ran
    await turns.add(1);
    expect(immediates).toBe(1); // the loop turned: the setImmediate queued before ran
    setImmediate(tick);
    await turns.add(TURN_BYTES / 2);
    expect(immediates).toBe(1);
    await turns.add(TURN_BYTES / 2);
    expect(immediates).toBe(2);
  });
});
