/** The access data a plan's administrator-token resources leave on the cluster (for tests/pve/permissionModel.ts). */
import type { RecordedResource } from "../../lib/plan/offlineRuntime";
import { TYPES } from "../../lib/providerFacts";
import { addToPool, emptyAccessState, type AccessState } from "./permissionModel";

/** The cluster's access data once the access provider has run: roles, ACL entries, tokens, pools and memberships. */
export function accessStateOf(resources: readonly RecordedResource[]): AccessState {
  const state = emptyAccessState();
  for (const r of resources) {
    const i = r.inputs;
    if (r.type === TYPES.role) state.roles.set(String(i["roleId"]), new Set(i["privileges"] as string[]));
    if (r.type === TYPES.acl)
      state.acl.push({
        path: String(i["path"]),
        ugid: String(i["tokenId"] ?? i["userId"]),
        role: String(i["roleId"]),
        propagate: i["propagate"] === true,
      });
    if (r.type === TYPES.token && i["privilegesSeparation"] === true)
      state.privsepTokens.add(`${String(i["userId"])}!${String(i["tokenName"])}`);
    if (r.type === TYPES.pool) state.pools.set(String(i["poolId"]), { vms: new Set(), storage: new Set() });
  }
  for (const r of resources)
    if (r.type === TYPES.poolMembership) addToPool(state, String(r.inputs["poolId"]), Number(r.inputs["vmId"]));
  return state;
}
