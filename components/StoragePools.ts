import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { StorageConfig } from "../lib/config/schema";

export interface StoragePoolsArgs {
  /** Every storage of the cluster, as in /etc/pve/storage.cfg. */
  pools: readonly StorageConfig[];
  /** Provider holding the infrastructure-scope API token (storage needs `Sys.Modify` on `/`). */
  provider: pulumi.ProviderResource;
}

/**
 * The cluster's storage definitions.
 *
 * `global-lvm` is DRBD storage driven by LINSTOR (the seed names its controller on node1). The
 * provider has no DRBD/LINSTOR storage type, and declaring it as something else (say shared LVM on
 * the DRBD device) would make the provider rewrite storage.cfg with the wrong plugin: on import the
 * type would not match, and a "fix" would replace the definition every container's disk lives on.
 * So it is referenced, not managed: held as typed data, checked by validation (customer disks and
 * HA nodes must use it), and left to LINSTOR.
 */
export class StoragePools extends pulumi.ComponentResource {
  /** Storage IDs managed here (DRBD pools excluded). */
  readonly managed: string[] = [];
  /** Storage IDs referenced but not managed (DRBD). */
  readonly referenced: string[] = [];

  constructor(name: string, args: StoragePoolsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:storage:StoragePools", name, {}, opts);
    for (const pool of args.pools) {
      const options: pulumi.CustomResourceOptions = {
        parent: this,
        provider: args.provider,
        protect: true,
        ...(pool.adopt ? { import: pool.id } : {}),
      };
      const common = { resourceId: pool.id, nodes: [...pool.nodes], contents: [...pool.content].sort() };
      switch (pool.type) {
        case "drbd":
          this.referenced.push(pool.id);
          continue;
        case "zfspool":
          new proxmoxve.storage.Zfspool(
            pool.id,
            { ...common, zfsPool: pool.zfsPool, thinProvision: pool.thinProvision },
            options,
          );
          break;
        case "lvmthin":
          new proxmoxve.storage.Lvmthin(
            pool.id,
            { ...common, volumeGroup: pool.volumeGroup, thinPool: pool.thinPool },
            options,
          );
          break;
        case "dir":
          new proxmoxve.storage.Directory(pool.id, { ...common, path: pool.path, shared: pool.shared }, options);
          break;
      }
      this.managed.push(pool.id);
    }
    this.registerOutputs({ managed: this.managed, referenced: this.referenced });
  }
}
