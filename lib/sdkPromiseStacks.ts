/**
 * The Pulumi SDK records a stack trace with every promise it makes for a resource
 * (`runtime/debuggable.js` `debuggablePromise`: `new Error().stack`): four per property of every
 * resource (`runtime/rpc.js` `transferProperties`), more for each registration and each debug log
 * line it sends the engine. It prints them only for promises still pending when the program exits,
 * and only when `PULUMI_DEBUG_PROMISE_LEAKS` is set. Under the Pulumi CLI the program runs with the
 * SDK's TypeScript loader, whose source-map-support maps every frame of each such stack through the
 * source maps: half of the program's time through `cmd/run` at 100 sites (README, "Scale").
 *
 * `withoutPromiseStacks` sets `Error.stackTraceLimit` to 0, so those stacks are empty, unless
 * `PULUMI_DEBUG_PROMISE_LEAKS` asks for them; it returns the function that restores the limit.
 * Resource source positions stay: the SDK lifts the limit itself when it takes them (`resource.js`
 * `Resource.callsites`). An error created meanwhile carries its message but no stack frames (with
 * the variable set, it has them).
 */
export function withoutPromiseStacks(): () => void {
  if (process.env["PULUMI_DEBUG_PROMISE_LEAKS"]) return () => {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return () => {
    Error.stackTraceLimit = limit;
  };
}
