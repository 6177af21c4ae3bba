/**
 * The SDK's floor as a Pulumi program (lib/bench/sdkFloor.ts): registers the record named by
 * `NODEPOINT_SDK_FLOOR_RECORD`. A runner waits for its one output, as for index.ts's sites.
 */
import { registerAll, SDK_FLOOR_RECORD_VARIABLE } from "./sdkFloor";

const recordFile = process.env[SDK_FLOOR_RECORD_VARIABLE];
if (!recordFile) throw new Error(`${SDK_FLOOR_RECORD_VARIABLE} names no record`);

/** How many groups were declared. */
export const declaredGroups = registerAll(recordFile);
