/**
 * The SDK's own cost for the program's registrations, whatever the program does around them: a
 * Pulumi program that registers every custom resource of a recorded plan (the offline plan's
 * `resources`) as a plain custom resource, with its type, name and recorded inputs and nothing
 * else (no components, parents, dependencies or options), in groups of what one component declared,
 * paced as index.ts paces the sites and with the SDK settings index.ts makes (lib/sdkDebugLogs.ts,
 * lib/declareInTurns.ts). `npm run bench` runs it both ways the program runs, in-process (the
 * offline runtime) and through `cmd/run` against the fake engine: the ratio of the two is what the
 * SDK's gRPC path costs against its in-process one for the same registrations.
 *
 * The program is lib/bench/sdkFloorProgram.ts; the record, the JSON file named by
 * `NODEPOINT_SDK_FLOOR_RECORD`.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { declareInTurns, SITES_IN_FLIGHT, SITES_PER_TURN } from "../declareInTurns";
import type { RecordedResource } from "../plan/offlineRuntime";
import { urnsSettled } from "../registrationsSettled";
import { withoutSdkDebugLogs } from "../sdkDebugLogs";

export const SDK_FLOOR_RECORD_VARIABLE = "NODEPOINT_SDK_FLOOR_RECORD";

type Registration = Pick<RecordedResource, "type" | "name" | "parent" | "custom" | "inputs">;

class PlainResource extends pulumi.CustomResource {}
class PlainProvider extends pulumi.ProviderResource {}

/** The custom resources of `records`, grouped by the component that declared them, in order. */
export function groupsByParent(records: readonly Registration[]): Registration[][] {
  const groups = new Map<string, Registration[]>();
  for (const r of records) {
    if (!r.custom) continue;
    const group = groups.get(r.parent);
    if (group) group.push(r);
    else groups.set(r.parent, [r]);
  }
  return [...groups.values()];
}

function register(r: Registration): pulumi.CustomResource {
  const provider = /^pulumi:providers:(.+)$/.exec(r.type);
  return provider ? new PlainProvider(provider[1]!, r.name, r.inputs) : new PlainResource(r.type, r.name, r.inputs);
}

/** Registers the custom resources of the record in `recordFile`; resolves with the number of groups. */
export function registerAll(recordFile: string): Promise<number> {
  withoutSdkDebugLogs();
  const records = JSON.parse(readFileSync(recordFile, "utf8")) as Registration[];
  const pacing = { perTurn: SITES_PER_TURN, inFlight: SITES_IN_FLIGHT, settled: urnsSettled };
  return declareInTurns(groupsByParent(records), pacing, (group) => group.map(register)).then(
    (groups) => groups.length,
  );
}
