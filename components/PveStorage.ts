import * as pulumi from "@pulumi/pulumi";
import { dynamicProviderLoader } from "../lib/dynamicProviderLoader";
import { TYPES } from "../lib/providerFacts";

/** The `__provider` of every PveStorage: loads lib/pve/storageProvider.ts in the project directory. */
export const STORAGE_PROVIDER_LOADER = dynamicProviderLoader(
  "lib/pve/storageProvider.ts",
  "storageProvider",
  "PveStorage",
);

export interface PveStorageArgs {
  /** Storage id, as in /etc/pve/storage.cfg. */
  storage: string;
  /** PVE storage plugin type. */
  type: "dir" | "zfspool" | "lvmthin";
  /** Content types. */
  content: string[];
  /** Nodes it is available on; omit when it is on every node (storage.cfg then has no `nodes` line). */
  nodes?: string[];
  /** dir: path and whether it is shared. */
  path?: string;
  shared?: boolean;
  /** zfspool: the dataset. */
  pool?: string;
  /** lvmthin: volume group and thin pool. */
  vgname?: string;
  thinpool?: string;
  /** API endpoint and token; the token is kept in the state as a secret (read needs it). */
  connection: pulumi.Input<{ endpoint: string; insecure: boolean; apiToken: pulumi.Input<string> }>;
}

/**
 * A storage definition of the cluster, checked against the stack config on every `pulumi up`, never
 * written (lib/pve/storageProvider.ts says why). Creating the resource adopts the existing definition.
 */
export class PveStorage extends pulumi.CustomResource {
  declare readonly storage: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string[]>;

  constructor(name: string, args: PveStorageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      TYPES.storage,
      name,
      { __provider: STORAGE_PROVIDER_LOADER, ...args, connection: pulumi.secret(args.connection) },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection"] }),
    );
  }
}
