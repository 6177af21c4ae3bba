/**
 * The Pulumi SDK tells the engine three debug lines about every resource it registers ("Registering
 * resource", "RegisterResource RPC prepared", "RegisterResource RPC finished": `runtime/resource.js`
 * through `log.debug`), each a `Log` call over gRPC, and sends them one at a time: each waits for the
 * engine's answer to the one before (`log/index.js` `log`, "Ensure we log everything in serial
 * order"), and the program stays alive until the last is answered. The engine shows them only to
 * `pulumi up --debug` (pulumi/pulumi `pkg/host/host_server.go` `Log`: severity `diag.Debug`). At
 * 1,000 sites that is 40,000 calls in a chain, pending messages held meanwhile: a quarter of the
 * program's time through `cmd/run` (README, "Scale").
 *
 * `withoutSdkDebugLogs` drops debug lines (`pulumi.log.debug`: the program sends none of its own),
 * unless `NODEPOINT_SDK_DEBUG_LOGS` is set, for a `pulumi up --debug` that wants the SDK's trace.
 * Info, warnings and errors go as before. The SDK's modules call `log.debug` through the module
 * object, so replacing that export reaches them; `tests/runtime/program.test.ts` shows the engine
 * receives none, and receives them with the variable set. An in-process runner (the offline plan)
 * puts the SDK's own back when the program is done (`restoreSdkDebugLogs`).
 */
// The module object itself: an `import *` namespace's bindings cannot be replaced.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
import sdkLog = require("@pulumi/pulumi/log");

/** The environment variable that keeps the SDK's debug lines. */
export const SDK_DEBUG_LOGS_VARIABLE = "NODEPOINT_SDK_DEBUG_LOGS";

const sdkOwnDebug = sdkLog.debug;

export function withoutSdkDebugLogs(): void {
  if (process.env[SDK_DEBUG_LOGS_VARIABLE]) return;
  sdkLog.debug = () => Promise.resolve();
}

/** Puts the SDK's own debug logging back. */
export function restoreSdkDebugLogs(): void {
  sdkLog.debug = sdkOwnDebug;
}
