import * as pulumi from "@pulumi/pulumi";
import type { BackupJobConfig } from "../lib/config/schema";
import { PveBackupJob } from "./PveBackupJob";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { formerlyNamed } from "./childNames";

export interface BackupJobsArgs {
  /** The vzdump jobs, each to a `backup`-content storage; `adopt` for the ones the cluster has. */
  jobs: readonly BackupJobConfig[];
}

/**
 * Scheduled vzdump jobs of the infrastructure (cluster-wide objects in /etc/pve/jobs.cfg), over PVE's
 * REST API (lib/pve/backupJobProvider.ts): existing jobs are adopted (`adopt: true`: only their guest
 * selection is written, e.g. narrowed to the infrastructure pool), and a job is refused when another
 * already backs up the same guests, so backups never run twice. Customer containers have a job each
 * (components/WordPressSite.ts, lib/backups/customerBackupJob.ts). The provider's backup-job type is
 * not used: its plugin panics (lib/providerFacts.ts).
 */
export class BackupJobs extends pulumi.ComponentResource {
  /** The jobs, each waiting for what the component waits for. */
  readonly jobs: PveBackupJob[] = [];
  /**
   * What a job created later must wait for: these jobs (settled, e.g. narrowed to their pool, and
   * themselves after the token's grants and the storage checks), or with none, what they would wait
   * for. A few resources rather than the component, whose children would each be listed in the
   * dependent's state.
   */
  readonly settled: pulumi.Input<pulumi.Resource>[];

  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.backupJobs, name, {}, opts);
    for (const job of args.jobs) {
      const resource = new PveBackupJob(
        `${name}-${job.id}`,
        {
          id: job.id,
          schedule: job.schedule,
          storage: job.storage,
          ...(job.node ? { node: job.node } : {}),
          ...(job.pool ? { pool: job.pool } : {}),
          mode: job.mode,
          compress: job.compress,
          keep: job.keep,
          adopt: job.adopt,
        },
        // Children wait for what the component waits for (the infrastructure token's grants).
        { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}), ...formerlyNamed(job.id) },
      );
      this.jobs.push(resource);
    }
    const waitedFor =
      opts?.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
    this.settled = this.jobs.length > 0 ? [...this.jobs] : (waitedFor as pulumi.Input<pulumi.Resource>[]);
    this.registerOutputs({});
  }
}
