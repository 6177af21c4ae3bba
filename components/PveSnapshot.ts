import * as pulumi from "@pulumi/pulumi";
import { dynamicProviderLoader } from "../lib/dynamicProviderLoader";
import { TYPES } from "../lib/providerFacts";

/** The `__provider` of every PveSnapshot: loads lib/pve/snapshotProvider.ts in the project directory. */
export const SNAPSHOT_PROVIDER_LOADER = dynamicProviderLoader("PveSnapshot");

export interface PveSnapshotArgs {
  /** The customer whose container it is (its host name). */
  slug: string;
  vmid: number;
  /** The snapshot's name, e.g. `initial`. */
  snapname: string;
  description: string;
  /**
   * API endpoint and token, kept in the state as a secret; absent (the program's own restore points):
   * the stack's customer token from the stack config (lib/pve/stackConnection.ts), stored once.
   */
  connection?: pulumi.Input<{ endpoint: string; insecure: boolean; apiToken: pulumi.Input<string> }>;
}

/**
 * A restore point of a customer's container (lib/pve/snapshotProvider.ts): taken once, kept when it
 * exists, never deleted by the program (a person deletes a restore point, as a customer operation).
 */
export class PveSnapshot extends pulumi.CustomResource {
  /** When PVE took it (Unix seconds). */
  declare readonly snaptime: pulumi.Output<number | undefined>;

  constructor(name: string, args: PveSnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      TYPES.snapshot,
      name,
      {
        __provider: SNAPSHOT_PROVIDER_LOADER,
        slug: args.slug,
        vmid: args.vmid,
        snapname: args.snapname,
        description: args.description,
        ...(args.connection !== undefined ? { connection: pulumi.secret(args.connection) } : {}),
        snaptime: undefined,
      },
      args.connection !== undefined ? pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection"] }) : opts,
    );
  }
}
