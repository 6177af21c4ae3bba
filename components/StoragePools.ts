import * as pulumi from "@pulumi/pulumi";
import type { StorageConfig } from "../lib/config/schema";
import { PveStorage, type PveStorageArgs } from "./PveStorage";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { formerlyNamed } from "./childNames";

export interface StoragePoolsArgs {
  /** Every storage of the cluster, as in /etc/pve/storage.cfg. */
  pools: readonly StorageConfig[];
  /** Names of all the cluster's nodes: a storage on every one of them has no `nodes` line in storage.cfg. */
  clusterNodes: readonly string[];
}

/** The definition PveStorage checks for one configured storage (DRBD excluded). Pure. */
export function storageDefinition(
  pool: Exclude<StorageConfig, { type: "drbd" }>,
  clusterNodes: readonly string[],
): PveStorageArgs {
  const everywhere = clusterNodes.every((n) => pool.nodes.includes(n));
  const common = {
    storage: pool.id,
    content: [...pool.content].sort(),
    // storage.cfg has no `nodes` line for a storage on every node: it reads back empty (lib/providerFacts.ts).
    ...(everywhere ? {} : { nodes: [...pool.nodes].sort() }),
  };
  switch (pool.type) {
    case "dir":
      return { ...common, type: "dir", path: pool.path, shared: pool.shared };
    case "zfspool":
      return { ...common, type: "zfspool", pool: pool.zfsPool };
    case "lvmthin":
      return { ...common, type: "lvmthin", vgname: pool.volumeGroup, thinpool: pool.thinPool };
    case "nfs":
      return { ...common, type: "nfs", server: pool.server, export: pool.export };
  }
}

/**
 * The cluster's storage definitions, checked against the stack config on every `pulumi up` and never
 * written (lib/pve/storageProvider.ts: writing needs Datastore.Allocate on `/storage`, which reaches
 * every definition; the definitions are node-level setup made by hand). The provider's storage types
 * are not used: their plugin panics (lib/providerFacts.ts, the ID override bug).
 *
 * A DRBD storage (driven by LINSTOR): PVE's API lists it as type `drbd` from LINSTOR's plugin,
 * which no checker here knows, so it is referenced, not checked: held as typed data, validated
 * (customer disks and HA nodes must use it), counted in capacity, and left to LINSTOR.
 */
export class StoragePools extends pulumi.ComponentResource {
  /** Storage IDs checked here (DRBD pools excluded). */
  readonly checked: string[] = [];
  /** Storage IDs referenced but not checked (DRBD). */
  readonly referenced: string[] = [];

  constructor(name: string, args: StoragePoolsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.storagePools, name, {}, opts);
    for (const pool of args.pools) {
      if (pool.type === "drbd") {
        this.referenced.push(pool.id);
        continue;
      }
      new PveStorage(
        `${name}-${pool.id}`,
        storageDefinition(pool, args.clusterNodes),
        // Children wait for what the component waits for (the infrastructure token's grants).
        {
          parent: this,
          protect: true,
          ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}),
          ...formerlyNamed(pool.id),
        },
      );
      this.checked.push(pool.id);
    }
    this.registerOutputs({ checked: this.checked, referenced: this.referenced });
  }
}
