import * as pulumi from "@pulumi/pulumi";
import { dynamicProviderLoader } from "../lib/dynamicProviderLoader";
import { TYPES } from "../lib/providerFacts";

/** The `__provider` of every PveBackupJob: loads lib/pve/backupJobProvider.ts in the project directory. */
export const BACKUP_JOB_PROVIDER_LOADER = dynamicProviderLoader("PveBackupJob");

export interface PveBackupJobArgs {
  /** Job id; for an adopted job, the live job's id. Changing it replaces the job (the old one is deleted first). */
  id: string;
  /** Calendar event, e.g. `02:30`. */
  schedule: string;
  /** Target storage. */
  storage: string;
  /** Only this node's guests (omit: every node). */
  node?: string;
  /** Only the members of this pool (omit, with `vmid`: every guest). */
  pool?: string;
  /** Only these guests (omit, with `pool`: every guest). */
  vmid?: readonly number[];
  mode: "snapshot" | "suspend" | "stop";
  compress: "0" | "1" | "gzip" | "lzo" | "zstd";
  /** Retention. */
  keep: Partial<
    Record<"keep-last" | "keep-hourly" | "keep-daily" | "keep-weekly" | "keep-monthly" | "keep-yearly", number>
  >;
  /** Shown in PVE's list of backup jobs. */
  comment?: string;
  /** Take over the existing job with this id (writing only its guest selection) instead of creating it. */
  adopt: boolean;
}

/**
 * A scheduled vzdump job (lib/pve/backupJobProvider.ts) of every guest, a pool's guests or listed
 * guests (of a node): adopted when it exists, never created beside a job that backs up the same guests.
 * The provider calls the API with the stack's infrastructure connection, from the stack config
 * (lib/pve/stackConnection.ts): no token is stored with the job.
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
        pool: args.pool,
        vmid: args.vmid ? [...args.vmid].sort((a, b) => a - b).join(",") : undefined,
        mode: args.mode,
        compress: args.compress,
        "prune-backups": args.keep,
        enabled: true,
        ...(args.comment ? { comment: args.comment } : {}),
        adopt: args.adopt,
      },
      opts,
    );
  }
}
