import * as pulumi from "@pulumi/pulumi";
import type { BackupJobConfig } from "../lib/config/schema";
import { PveBackupJob, type PveBackupJobArgs } from "./PveBackupJob";

export interface BackupJobsArgs {
  /** The vzdump jobs, each to a `backup`-content storage; `adopt` for the ones the cluster has. */
  jobs: readonly BackupJobConfig[];
  /** API endpoint and the infrastructure token (backup jobs need Sys.Modify on `/`). */
  connection: PveBackupJobArgs["connection"];
}

/**
 * Scheduled vzdump jobs (cluster-wide objects in /etc/pve/jobs.cfg), over PVE's REST API
 * (lib/pve/backupJobProvider.ts): existing jobs are adopted (`adopt: true`, nothing written), and a
 * new job is refused when another already backs up the same guests, so backups never run twice. The
 * provider's backup-job type is not used: its plugin panics (lib/providerFacts.ts).
 */
export class BackupJobs extends pulumi.ComponentResource {
  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:backup:BackupJobs", name, {}, opts);
    for (const job of args.jobs) {
      new PveBackupJob(
        job.id,
        {
          id: job.id,
          schedule: job.schedule,
          storage: job.storage,
          ...(job.node ? { node: job.node } : {}),
          mode: job.mode,
          compress: job.compress,
          keep: job.keep,
          adopt: job.adopt,
          connection: args.connection,
        },
        // Children wait for what the component waits for (the infrastructure token's grants).
        { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
      );
    }
    this.registerOutputs({});
  }
}
