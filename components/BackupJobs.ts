import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { BackupJobConfig } from "../lib/config/schema";

export interface BackupJobsArgs {
  /** The vzdump jobs, each to a `backup`-content storage. */
  jobs: readonly BackupJobConfig[];
  /** Provider holding the infrastructure-scope API token (backup jobs need `Sys.Modify` on `/`). */
  provider: pulumi.ProviderResource;
}

/** Scheduled vzdump jobs (cluster-wide objects in /etc/pve/jobs.cfg). Node3's 4.5 TB pool is the primary target. */
export class BackupJobs extends pulumi.ComponentResource {
  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:backup:BackupJobs", name, {}, opts);
    for (const job of args.jobs) {
      new proxmoxve.backup.Job(
        job.id,
        {
          resourceId: job.id,
          schedule: job.schedule,
          storage: job.storage,
          ...(job.node ? { node: job.node } : {}),
          all: true,
          mode: job.mode,
          compress: job.compress,
          enabled: true,
          pruneBackups: Object.fromEntries(Object.entries(job.keep).map(([k, v]) => [k, String(v)])),
        },
        { parent: this, provider: args.provider },
      );
    }
    this.registerOutputs({});
  }
}
