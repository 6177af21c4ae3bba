/**
 * Declares the customer sites a batch per turn of the event loop instead of all at once. The SDK
 * holds every declared resource's pending state (an Output and a dozen promises per property, about
 * 6 KB each) until the engine has answered its registration; declared in one go, 5,000 sites held
 * over 4 GB before the first registration was sent, and the offline plan ran out of Node's default
 * heap. Between two batches the event loop runs: the SDK sends the batch's registrations, and the
 * answers that have arrived settle and free their state.
 *
 * Nothing waits for an answer: in `pulumi up` the engine gets each registration as soon as the SDK
 * has prepared it, and creations run in parallel as before. The program stays alive until the last
 * batch is declared (`rpcKeepAlive`, as the SDK does for its own calls). The sites are declared,
 * and the SDK then works on them, without its per-promise stack traces (lib/sdkPromiseStacks.ts):
 * the limit stays at 0 for the rest of the run, since most of that work comes after the last batch
 * (an in-process runner, the offline plan, restores it when the program is done).
 */
import * as pulumi from "@pulumi/pulumi";
import { withoutPromiseStacks } from "./sdkPromiseStacks";

/**
 * Customer sites per turn: about 300 resources. Under `pulumi up` a site's registrations go out one
 * dependency level per turn of the event loop (each waits for the engine's answer to its parent's
 * and dependencies'), so smaller batches let the engine work while the program declares, rather than
 * after: at 1,000 sites through cmd/run 25 a turn took 15.1-17.6 s against 16.7-18.0 s with 100
 * (README, "Cost on the real path").
 */
export const SITES_PER_TURN = 25;

/**
 * `items.map(declare)`, `perTurn` items per turn of the event loop; resolves with every result, in
 * order, or rejects with the first error `declare` throws (nothing after it is declared).
 *
 * Every batch after the first runs from a plain `setImmediate` callback, not as the continuation of
 * an async function: the SDK takes a stack trace for every resource's source position (`Resource.callsites`, depth
 * unlimited), and under the CLI the TypeScript loader's source-map support maps each frame. Resumed
 * from an `await`, a batch's stacks carried the async frames of everything awaiting the program (the
 * SDK's stack machinery): 11 frames a registration sent the engine instead of 6; cmd/run at 1,000 sites
 * took 16.8-18.2 s against 14.4-17.1 s (three runs each, alternating; README, "Cost on the real path").
 */
export function declareInTurns<T, R>(items: readonly T[], perTurn: number, declare: (item: T) => R): Promise<R[]> {
  if (!Number.isInteger(perTurn) || perTurn < 1)
    return Promise.reject(new Error(`perTurn must be a positive integer (got ${perTurn})`));
  const done = pulumi.runtime.rpcKeepAlive();
  withoutPromiseStacks();
  const declared: R[] = [];
  return new Promise<R[]>((resolve, reject) => {
    const turn = (start: number): void => {
      try {
        for (const item of items.slice(start, start + perTurn)) declared.push(declare(item));
      } catch (err) {
        done();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what declare threw, as it threw it
        reject(err);
        return;
      }
      if (start + perTurn < items.length) setImmediate(turn, start + perTurn);
      else {
        done();
        resolve(declared);
      }
    };
    turn(0);
  });
}
