/**
 * lib/declareInTurns.ts and lib/sdkPromiseStacks.ts: sites are declared a batch per turn of the
 * event loop, all of them, in order, with the SDK's per-promise stack traces off unless
 * PULUMI_DEBUG_PROMISE_LEAKS asks for them.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { declareInTurns } from "../lib/declareInTurns";
import { withoutPromiseStacks } from "../lib/sdkPromiseStacks";

const limit = Error.stackTraceLimit;
afterEach(() => {
  Error.stackTraceLimit = limit;
  delete process.env["PULUMI_DEBUG_PROMISE_LEAKS"];
});

describe("declareInTurns", () => {
  it("declares every item once, in order, perTurn per turn of the event loop", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 12 }), async (n, perTurn) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const events: string[] = [];
        let turn = 0;
        const declared = await declareInTurns(items, perTurn, (i) => {
          // What the event loop does between batches (the SDK sending registrations, answers
          // arriving) shows up as a tick between the batches' items.
          if (i % perTurn === 0) setImmediate(() => events.push(`tick ${turn++}`));
          events.push(`item ${i}`);
          return i * 2;
        });
        expect(declared).toEqual(items.map((i) => i * 2));
        const expected = items.flatMap((i) =>
          (i > 0 && i % perTurn === 0 ? [`tick ${i / perTurn - 1}`] : []).concat(`item ${i}`),
        );
        expect(events.slice(0, expected.length)).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it("refuses a batch size that is not a positive integer", async () => {
    await expect(declareInTurns([1], 0, (i) => i)).rejects.toThrow("perTurn must be a positive integer (got 0)");
    await expect(declareInTurns([1], 1.5, (i) => i)).rejects.toThrow("perTurn must be a positive integer (got 1.5)");
  });

  it("declares each batch after the first from a plain turn of the event loop: no async frames of its callers in its stacks", async () => {
    // What the SDK's source position of a resource captures (the depth lifted as Resource.callsites does).
    const fullStack = () => {
      const depth = Error.stackTraceLimit;
      Error.stackTraceLimit = Number.POSITIVE_INFINITY;
      try {
        return new Error("x").stack ?? "";
      } finally {
        Error.stackTraceLimit = depth;
      }
    };
    async function awaitingCaller() {
      return await declareInTurns([1, 2, 3], 1, fullStack);
    }
    const stacks = await awaitingCaller();
    expect(stacks[0]).toContain("awaitingCaller"); // the first batch: declared where the program calls it
    for (const stack of stacks.slice(1)) {
      expect(stack).not.toContain("awaitingCaller");
      expect(stack).not.toMatch(/\n\s+at async /);
    }
  });

  it("declares without stack traces: an Error made meanwhile has no frames", async () => {
    const [stack] = await declareInTurns([1], 1, () => new Error("x").stack);
    expect(stack).toBe("Error: x");
  });
});

describe("withoutPromiseStacks", () => {
  it("sets the stack depth to 0 until restored", () => {
    Error.stackTraceLimit = 10;
    const restore = withoutPromiseStacks();
    expect(Error.stackTraceLimit).toBe(0);
    expect(new Error("x").stack).toBe("Error: x");
    restore();
    expect(Error.stackTraceLimit).toBe(10);
    expect(new Error("x").stack).toMatch(/\n\s+at /);
  });

  it("keeps stack traces when PULUMI_DEBUG_PROMISE_LEAKS asks for them (the SDK then prints them)", () => {
    process.env["PULUMI_DEBUG_PROMISE_LEAKS"] = "1";
    Error.stackTraceLimit = 10;
    withoutPromiseStacks();
    expect(Error.stackTraceLimit).toBe(10);
    expect(new Error("x").stack).toMatch(/\n\s+at /);
  });
});
