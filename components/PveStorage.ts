import * as pulumi from "@pulumi/pulumi";
import { dynamicProviderLoader } from "../lib/dynamicProviderLoader";
import { TYPES } from "../lib/providerFacts";
import type { StorageDefinition } from "../lib/pve/storageProvider";

/** The `__provider` of every PveStorage: loads lib/pve/storageProvider.ts in the project directory. */
export const STORAGE_PROVIDER_LOADER = dynamicProviderLoader("PveStorage");

/**
 * The definition to check (PVE's field names, lib/pve/storageProvider.ts). The provider reaches the
 * API with the stack's infrastructure connection, from the stack config (lib/pve/stackConnection.ts).
 */
export type PveStorageArgs = StorageDefinition;

/**
 * A storage definition of the cluster, checked against the stack config on every `pulumi up`, never
 * written (lib/pve/storageProvider.ts says why). Creating the resource adopts the existing definition.
 */
export class PveStorage extends pulumi.CustomResource {
  declare readonly storage: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string[]>;

  constructor(name: string, args: PveStorageArgs, opts?: pulumi.CustomResourceOptions) {
    super(TYPES.storage, name, { __provider: STORAGE_PROVIDER_LOADER, ...args }, opts);
  }
}
