/**
 * lib/declareInTurns.ts and lib/sdkPromiseStacks.ts: sites are declared a few per turn of the event
 * loop, never more than a given number unsettled, all of them, in order (the rest at once when the
 * event loop runs dry), with the SDK's per-promise stack traces off unless PULUMI_DEBUG_PROMISE_LEAKS
 * asks for them.
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

/** Pacing whose sites settle at once (the offline plan's monitor answers as it is asked). */
const atOnce = (perTurn: number, inFlight = perTurn) => ({ perTurn, inFlight, settled: () => Promise.resolve() });
const turnOfTheLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("declareInTurns", () => {
  it("declares every item once, in order, never more than inFlight unsettled nor perTurn a turn, whatever order they settle in", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
        async (n, perTurn, inFlight, picks) => {
          const items = Array.from({ length: n }, (_, i) => i);
          const waiting: Array<() => void> = [];
          let unsettled = 0;
          let mostUnsettled = 0;
          let thisTurn = 0;
          let mostInATurn = 0;
          const pacing = {
            perTurn,
            inFlight,
            settled: () =>
              new Promise<void>((resolve) => waiting.push(resolve)).then(() => {
                unsettled--;
              }),
          };
          let finished = false;
          const declaring = declareInTurns(items, pacing, (i) => {
            if (thisTurn++ === 0) queueMicrotask(() => (thisTurn = 0));
            mostInATurn = Math.max(mostInATurn, thisTurn);
            mostUnsettled = Math.max(mostUnsettled, ++unsettled);
            return i * 2;
          }).finally(() => (finished = true));
          // The engine answers one site at a time, in an order of the property's choosing.
          for (let step = 0; !finished; step++) {
            await turnOfTheLoop();
            if (waiting.length > 0) waiting.splice(picks[step % picks.length]! % waiting.length, 1)[0]!();
          }
          expect(await declaring).toEqual(items.map((i) => i * 2));
          expect(mostUnsettled).toBeLessThanOrEqual(inFlight);
          expect(mostInATurn).toBeLessThanOrEqual(perTurn);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("declares perTurn per turn of the event loop when sites settle at once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 12 }), async (n, perTurn) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const events: string[] = [];
        let turn = 0;
        const declared = await declareInTurns(items, atOnce(perTurn), (i) => {
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

  it("a site whose settling fails makes room like any other", async () => {
    const settled = (i: number) => (i % 2 === 0 ? Promise.reject(new Error(`refused ${i}`)) : Promise.resolve());
    const declared = await declareInTurns([0, 1, 2, 3, 4, 5], { perTurn: 1, inFlight: 1, settled }, (i) => i);
    expect(declared).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("declares the rest without waiting once the event loop runs dry, and stops listening when done", async () => {
    let dry: (() => void) | undefined;
    let listening = 0;
    const onIdle = (callback: () => void) => {
      dry = callback;
      listening++;
      return () => void listening--;
    };
    const never = () => new Promise<void>(() => {});
    const seen: number[] = [];
    const declaring = declareInTurns([0, 1, 2, 3, 4, 5, 6], { perTurn: 2, inFlight: 3, settled: never, onIdle }, (i) =>
      seen.push(i),
    );
    for (let i = 0; i < 5; i++) await turnOfTheLoop();
    expect(seen).toEqual([0, 1, 2]); // three in flight, none settling
    expect(listening).toBe(1);
    dry!();
    await declaring;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(listening).toBe(0);
  });

  it("refuses a batch size or a number in flight that is not a positive integer", async () => {
    await expect(declareInTurns([1], atOnce(0), (i) => i)).rejects.toThrow(
      "perTurn must be a positive integer (got 0)",
    );
    await expect(declareInTurns([1], atOnce(1.5), (i) => i)).rejects.toThrow(
      "perTurn must be a positive integer (got 1.5)",
    );
    await expect(declareInTurns([1], atOnce(1, 0), (i) => i)).rejects.toThrow(
      "inFlight must be a positive integer (got 0)",
    );
  });

  it("rejects with what declare throws, and declares nothing after it", async () => {
    const seen: number[] = [];
    const declaring = declareInTurns([0, 1, 2, 3], atOnce(1), (i) => {
      if (i === 2) throw new Error("bad customer 2");
      seen.push(i);
    });
    await expect(declaring).rejects.toThrow("bad customer 2");
    expect(seen).toEqual([0, 1]);
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
      return await declareInTurns([1, 2, 3], atOnce(1), fullStack);
    }
    const stacks = await awaitingCaller();
    expect(stacks[0]).toContain("awaitingCaller"); // the first batch: declared where the program calls it
    for (const stack of stacks.slice(1)) {
      expect(stack).not.toContain("awaitingCaller");
      expect(stack).not.toMatch(/\n\s+at async /);
    }
  });

  it("declares without stack traces: an Error made meanwhile has no frames", async () => {
    const [stack] = await declareInTurns([1], atOnce(1), () => new Error("x").stack);
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
