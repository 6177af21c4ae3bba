import * as pulumi from "@pulumi/pulumi";
import { dynamicProviderLoader } from "../lib/dynamicProviderLoader";
import { TYPES } from "../lib/providerFacts";
import type { StorageDefinition } from "../lib/pve/storageProvider";

/** The `__provider` of every PveStorage: loads lib/pve/storageProvider.ts in the project directory. */
export const STORAGE_PROVIDER_LOADER = dynamicProviderLoader(
  "lib/pve/storageProvider.ts",
  "storageProvider",
  "PveStorage",
);

/** The definition to check (PVE's field names, lib/pve/storageProvider.ts) and how to reach the API. */
export interface PveStorageArgs extends StorageDefinition {
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
