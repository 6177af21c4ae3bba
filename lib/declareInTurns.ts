/**
 * Declares the customer sites a few at a time instead of all at once. The SDK holds every declared
 * resource's pending state (an Output and a dozen promises per property: about 2 MB a site) until
 * the engine has answered its registration. Declared all at once, 5,000 sites held over 4 GB before
 * the first registration was sent, and the offline plan ran out of Node's default heap; declared a
 * batch per turn but without waiting, the program through `cmd/run` still held every site not yet
 * answered: 1.9 GB of heap at 1,000 sites, 4.8 GB live at 5,000 (beyond the heap limit Node
 * reports), much of its time spent copying that state from one generation of the heap to the next.
 *
 * So at most `inFlight` sites are declared and not yet settled (every registration of theirs
 * answered, lib/registrationsSettled.ts); each settled site makes room for the next, declared on a
 * later turn of the event loop, at most `perTurn` a turn. A slow site (a container being created, an
 * installer running) holds one place, not the queue. Under `pulumi up` this is also how many sites
 * are being created at once.
 *
 * Nothing is left undeclared: a site whose registrations never settle (the engine refused one, or
 * one it depends on) keeps its place, and if the event loop runs dry with sites still to declare
 * (`beforeExit`: nothing in flight that could settle one), the rest are declared without waiting,
 * as before. The program stays alive until the last site is declared (`rpcKeepAlive`, as the SDK
 * does for its own calls), so the engine never sees it end with sites missing.
 *
 * The sites are declared, and the SDK then works on them, without its per-promise stack traces
 * (lib/sdkPromiseStacks.ts): the limit stays at 0 for the rest of the run, since most of that work
 * comes after the last site (an in-process runner, the offline plan, restores it when the program
 * is done).
 */
import * as pulumi from "@pulumi/pulumi";
import { withoutPromiseStacks } from "./sdkPromiseStacks";

/**
 * Sites declared and not yet settled, at most: about 300 resources, 50 MB of the SDK's pending
 * state, which dies young in the 256 MB semi-space `Pulumi.yaml` gives Node instead of being copied
 * to the old generation. 50 was no faster; with no bound the program held every site.
 */
export const SITES_IN_FLIGHT = 25;

/**
 * Sites declared in one turn of the event loop, at most: between two turns the answers that have
 * arrived settle. With 5 rather than 25, cmd/run at 1,000 sites took 14.0-14.3 s against
 * 14.5-15.7 s and the offline plan 5.4-5.9 s against 6.9-7.1 s (README, "Scale").
 */
export const SITES_PER_TURN = 5;

export interface DeclarePacing<R> {
  /** Items declared in one turn of the event loop, at most. */
  perTurn: number;
  /** Items declared and not yet settled, at most. */
  inFlight: number;
  /** Settles when the engine has accepted everything `declare` declared for the item (may never settle). */
  settled: (declared: R) => PromiseLike<unknown>;
  /**
   * Calls `dry` once when the event loop has nothing left to do (default: Node's `beforeExit`);
   * returns the function that stops listening.
   */
  onIdle?: (dry: () => void) => () => void;
}

const onBeforeExit = (dry: () => void) => {
  process.once("beforeExit", dry);
  return () => {
    process.off("beforeExit", dry);
  };
};

/**
 * `items.map(declare)`, paced as `pacing` says; resolves with every result, in order, or rejects
 * with the first error `declare` throws (nothing after it is declared).
 *
 * Every turn after the first runs from a plain `setImmediate` callback, not as the continuation of
 * an async function: the SDK takes a stack trace for every resource's source position
 * (`Resource.callsites`, depth unlimited), and under the CLI the TypeScript loader's source-map
 * support maps each frame. Resumed from an `await`, a batch's stacks carried the async frames of
 * everything awaiting the program (the SDK's stack machinery): 11 frames a registration sent the
 * engine instead of 6; cmd/run at 1,000 sites took 16.8-18.2 s against 14.4-17.1 s (three runs each,
 * alternating; README, "Scale").
 */
export function declareInTurns<T, R>(
  items: readonly T[],
  pacing: DeclarePacing<R>,
  declare: (item: T) => R,
): Promise<R[]> {
  const { perTurn, inFlight } = pacing;
  for (const [name, value] of Object.entries({ perTurn, inFlight }))
    if (!Number.isInteger(value) || value < 1)
      return Promise.reject(new Error(`${name} must be a positive integer (got ${value})`));
  const done = pulumi.runtime.rpcKeepAlive();
  withoutPromiseStacks();
  const declared: R[] = [];
  let unsettled = 0;
  let paced = true;
  let scheduled = false;
  return new Promise<R[]>((resolve, reject) => {
    const stopListening = (pacing.onIdle ?? onBeforeExit)(() => {
      paced = false;
      schedule();
    });
    const finish = () => {
      stopListening();
      done();
      resolve(declared);
    };
    const fail = (err: unknown) => {
      stopListening();
      done();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what declare threw, as it threw it
      reject(err);
    };
    const schedule = () => {
      if (scheduled || declared.length === items.length) return;
      scheduled = true;
      setImmediate(turn);
    };
    const settle = () => {
      unsettled--;
      if (paced) schedule();
    };
    const turn = (): void => {
      scheduled = false;
      const room = paced ? Math.min(perTurn, inFlight - unsettled) : perTurn;
      try {
        for (const item of items.slice(declared.length, declared.length + room)) {
          const result = declare(item);
          declared.push(result);
          unsettled++;
          void Promise.resolve(pacing.settled(result)).then(settle, settle);
        }
      } catch (err) {
        fail(err);
        return;
      }
      if (declared.length === items.length) finish();
      else if (!paced || unsettled < inFlight) schedule();
    };
    turn();
  });
}
