import * as pulumi from "@pulumi/pulumi";
import { dynamicProviderLoader } from "../lib/dynamicProviderLoader";
import { TYPES } from "../lib/providerFacts";

/** The `__provider` of every PveBackupJob: loads lib/pve/backupJobProvider.ts in the project directory. */
export const BACKUP_JOB_PROVIDER_LOADER = dynamicProviderLoader(
  "lib/pve/backupJobProvider.ts",
  "backupJobProvider",
  "PveBackupJob",
);

export interface PveBackupJobArgs {
  /** Job id; for an adopted job, the live job's id. Changing it replaces the job (the old one is deleted first). */
  id: string;
  /** Calendar event, e.g. `02:30`. */
  schedule: string;
  /** Target storage. */
  storage: string;
  /** Only this node's guests (omit: every node). */
  node?: string;
  mode: "snapshot" | "suspend" | "stop";
  compress: "0" | "1" | "gzip" | "lzo" | "zstd";
  /** Retention. */
  keep: Partial<
    Record<"keep-last" | "keep-hourly" | "keep-daily" | "keep-weekly" | "keep-monthly" | "keep-yearly", number>
  >;
  /** Take over the existing job with this id (nothing written) instead of creating it. */
  adopt: boolean;
  /** API endpoint and token; the token is kept in the state as a secret (read and delete need it). */
  connection: pulumi.Input<{ endpoint: string; insecure: boolean; apiToken: pulumi.Input<string> }>;
}

/**
 * A scheduled vzdump job of every guest (of a node) (lib/pve/backupJobProvider.ts): adopted when it
 * exists, never created beside a job that backs up the same guests.
 */
export class PveBackupJob extends pulumi.CustomResource {
  declare readonly schedule: pulumi.Output<string>;
  declare readonly storage: pulumi.Output<string>;

  constructor(name: string, args: PveBackupJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      TYPES.backupJob,
      name,
      {
        __provider: BACKUP_JOB_PROVIDER_LOADER,
        jobId: args.id,
        schedule: args.schedule,
        storage: args.storage,
        ...(args.node ? { node: args.node } : {}),
        all: true,
        mode: args.mode,
        compress: args.compress,
        "prune-backups": args.keep,
        enabled: true,
        adopt: args.adopt,
        connection: pulumi.secret(args.connection),
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection"] }),
    );
  }
}
