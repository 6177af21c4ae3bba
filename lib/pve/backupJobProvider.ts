/**
 * Dynamic provider of `PveBackupJob` (components/PveBackupJob.ts): one scheduled vzdump job of the
 * cluster (`/cluster/backup`, jobs.cfg), managed over the REST API. The provider's own backup-job
 * type is not used: its plugin panics (lib/providerFacts.ts, the ID override bug).
 *
 * - create, `adopt: true`: the job with this id must exist and be the declared one (every difference
 *   is named, as Pulumi refuses an import that differs); it is taken over and nothing is written (a
 *   dynamic resource cannot be imported: pulumi/pulumi#16175).
 * - create, otherwise: refused when a job with this id exists (adopt it) or when another job already
 *   backs up the same guests (backups would run twice: adopt that one); then `POST /cluster/backup`.
 * - update: `PUT /cluster/backup/{id}` with what changed (`delete` for what is no longer declared).
 * - read (refresh): the live job; none left: the resource is dropped and the next `up` creates it.
 * - delete: `DELETE /cluster/backup/{id}`; a job already gone is what was wanted.
 *
 * Calls need Sys.Audit (read) and Sys.Modify (write) on `/`, and Datastore.Allocate on the target
 * storage (pve-manager PVE/API2/Backup.pm). Loaded from this file by the dynamic-provider plugin
 * (lib/dynamicProviderLoader.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { createPveClient, pveParamErrors, pveStatus, type PveClient, type PveConnection } from "./client";

export const BACKUP_MODES = ["snapshot", "suspend", "stop"] as const;
export const BACKUP_COMPRESSION = ["0", "1", "gzip", "lzo", "zstd"] as const;
export const KEEP_OPTIONS = [
  "keep-last",
  "keep-hourly",
  "keep-daily",
  "keep-weekly",
  "keep-monthly",
  "keep-yearly",
] as const;

/** A job as the program states it (PVE's field names). */
export interface BackupJobDefinition {
  /** Job id (pve-configid). */
  id: string;
  /** systemd-style calendar event. */
  schedule: string;
  /** Target storage (content `backup`). */
  storage: string;
  /** Only the guests of this node; absent: every node. */
  node?: string;
  /** Every guest (of `node`). */
  all: boolean;
  mode: (typeof BACKUP_MODES)[number];
  compress: (typeof BACKUP_COMPRESSION)[number];
  /** Retention (`prune-backups`). */
  "prune-backups": Partial<Record<(typeof KEEP_OPTIONS)[number], number>>;
  enabled: boolean;
  comment?: string;
}

/** The resource's inputs: the definition with its id as `jobId` (Pulumi reserves `id`). */
export interface BackupJobInputs extends Omit<BackupJobDefinition, "id"> {
  jobId: string;
  /** Take over the existing job with this id instead of creating one. */
  adopt: boolean;
  /** API endpoint and the infrastructure token (secret). */
  connection: PveConnection;
}

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const FIELDS = [
  "schedule",
  "storage",
  "node",
  "all",
  "mode",
  "compress",
  "prune-backups",
  "enabled",
  "comment",
] as const;

const truthy = (v: unknown, byDefault: boolean): boolean =>
  v === undefined || v === null ? byDefault : v === true || v === 1 || v === "1";

/** `{keep-daily: 7, keep-weekly: 4}` as PVE's property string, keys sorted. */
export function pruneString(keep: BackupJobDefinition["prune-backups"]): string {
  return Object.entries(keep)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(",");
}

/** A live job of `GET /cluster/backup` in the program's shape. */
export function jobOf(live: Record<string, unknown>): BackupJobDefinition {
  const prune = (live["prune-backups"] ?? {}) as Record<string, unknown>;
  const job: BackupJobDefinition = {
    id: String(live["id"]),
    schedule: String(live["schedule"] ?? ""),
    storage: String(live["storage"] ?? "local"),
    all: truthy(live["all"], false),
    mode: String(live["mode"] ?? "snapshot") as BackupJobDefinition["mode"],
    compress: String(live["compress"] ?? "0") as BackupJobDefinition["compress"],
    "prune-backups": Object.fromEntries(
      Object.entries(prune)
        .filter(([k]) => (KEEP_OPTIONS as readonly string[]).includes(k))
        .map(([k, v]) => [k, Number(v)]),
    ),
    enabled: truthy(live["enabled"], true),
  };
  if (typeof live["node"] === "string") job.node = live["node"];
  if (typeof live["comment"] === "string") job.comment = live["comment"];
  return job;
}

/** Every field where `live` differs from `declared` (empty: they match). */
export function jobDifferences(declared: BackupJobDefinition, live: BackupJobDefinition): string[] {
  const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));
  return FIELDS.filter((f) => JSON.stringify(declared[f]) !== JSON.stringify(live[f])).map(
    (f) => `${f}: declared ${show(declared[f])}, live ${show(live[f])}`,
  );
}

/** Whether two jobs back up some of the same guests (both `all`, on the same node or one on every node). */
export function overlaps(a: BackupJobDefinition, b: BackupJobDefinition): boolean {
  return a.all && b.all && (a.node === undefined || b.node === undefined || a.node === b.node);
}

const describeJob = (j: BackupJobDefinition) =>
  `${j.id} (${j.all ? `all guests${j.node ? ` of ${j.node}` : ""}` : "selected guests"} -> ${j.storage} at ${j.schedule}${j.enabled ? "" : ", disabled"})`;

const definitionOf = (inputs: BackupJobInputs): BackupJobDefinition => {
  const { connection: _c, adopt: _a, jobId, ...definition } = inputs;
  return { id: jobId, ...definition };
};

async function liveJobs(client: PveClient): Promise<BackupJobDefinition[]> {
  const all = await client.get<Array<Record<string, unknown>>>("/cluster/backup");
  return all.filter((j) => j["type"] === undefined || j["type"] === "vzdump").map(jobOf);
}

/** The parameters of a job for POST/PUT. */
function params(job: BackupJobDefinition): Record<string, string | number | boolean | undefined> {
  return {
    schedule: job.schedule,
    storage: job.storage,
    node: job.node,
    all: job.all,
    mode: job.mode,
    compress: job.compress,
    "prune-backups": pruneString(job["prune-backups"]),
    enabled: job.enabled,
    comment: job.comment,
  };
}

async function create(inputs: BackupJobInputs): Promise<void> {
  const client = createPveClient(inputs.connection);
  const declared = definitionOf(inputs);
  const jobs = await liveJobs(client);
  const same = jobs.find((j) => j.id === declared.id);
  if (inputs.adopt) {
    if (!same)
      throw new Error(
        `backup job ${declared.id} is marked adopt but the cluster has no job with that id; its jobs: ${jobs.map(describeJob).join("; ") || "none"}. Set the id of the job to adopt (pvesh get /cluster/backup), or drop adopt to create it`,
      );
    const diffs = jobDifferences(declared, same);
    if (diffs.length > 0)
      throw new Error(
        `backup job ${declared.id} on the cluster differs from nodepoint:backupJobs: ${diffs.join("; ")}. Adopting writes nothing: correct the stack config to what the cluster has, then change it in a later run`,
      );
    return;
  }
  if (same)
    throw new Error(`backup job ${declared.id} exists already: set adopt: true to take it over (${describeJob(same)})`);
  const doubled = jobs.filter((j) => j.enabled && overlaps(declared, j));
  if (doubled.length > 0)
    throw new Error(
      `backup job ${declared.id} would back up guests that ${doubled.map(describeJob).join(" and ")} already back up, so backups would run twice: adopt that job (its id and adopt: true), or remove it first`,
    );
  await client.post("/cluster/backup", { id: declared.id, ...params(declared) });
}

/** Validates and normalizes raw inputs. */
export function checkBackupJobInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult<BackupJobInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const known = (v: unknown) => v !== UNKNOWN;
  const bad = (property: string, reason: string) => failures.push({ property, reason });
  const id = news["jobId"];
  if (known(id) && (typeof id !== "string" || !/^[a-z][a-z0-9_-]+$/i.test(id)))
    bad("jobId", "must be a PVE job id (pve-configid: a letter, then letters, digits, - and _)");
  if (known(news["schedule"]) && (typeof news["schedule"] !== "string" || news["schedule"] === ""))
    bad("schedule", "must be a calendar event, e.g. 02:30 or sun 01:00");
  if (
    known(news["storage"]) &&
    (typeof news["storage"] !== "string" || !/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(news["storage"]))
  )
    bad("storage", "must be a PVE storage id");
  if (known(news["mode"]) && !BACKUP_MODES.includes(news["mode"] as never))
    bad("mode", `must be one of ${BACKUP_MODES.join(", ")}`);
  if (known(news["compress"]) && !BACKUP_COMPRESSION.includes(news["compress"] as never))
    bad("compress", `must be one of ${BACKUP_COMPRESSION.join(", ")}`);
  const keep = news["prune-backups"];
  if (
    known(keep) &&
    (typeof keep !== "object" ||
      keep === null ||
      Object.entries(keep).some(
        ([k, v]) => !(KEEP_OPTIONS as readonly string[]).includes(k) || !Number.isInteger(v) || (v as number) < 0,
      ))
  )
    bad("prune-backups", `must map ${KEEP_OPTIONS.join(", ")} to whole numbers`);
  return {
    inputs: { all: true, enabled: true, adopt: false, ...news } as unknown as BackupJobInputs,
    failures,
  };
}

export const backupJobProvider: pulumi.dynamic.ResourceProvider<BackupJobInputs, BackupJobInputs> = {
  async check(_olds, news) {
    return checkBackupJobInputs(news as unknown as Record<string, unknown>);
  },

  async diff(_id, olds, news) {
    const changed = [...FIELDS, "connection" as const].some((f) => JSON.stringify(olds[f]) !== JSON.stringify(news[f]));
    // Another id is another job: delete the old one first, so the two never both run.
    const replaces = olds.jobId === news.jobId ? [] : ["jobId"];
    return { changes: changed || replaces.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    await create(inputs);
    return { id: inputs.jobId, outs: inputs };
  },

  async read(id, props) {
    if (!props?.connection) throw new Error(`backup job ${id}: no connection in the state; cannot read it`);
    const live = (await liveJobs(createPveClient(props.connection))).find((j) => j.id === id);
    if (!live) return {};
    const { id: jobId, ...definition } = live;
    return { id, props: { ...definition, jobId, adopt: props.adopt, connection: props.connection } };
  },

  async update(id, olds, news) {
    const client = createPveClient(news.connection);
    const next = params(definitionOf(news));
    const prev = params(definitionOf(olds));
    const changed = Object.fromEntries(
      Object.entries(next).filter(([k, v]) => v !== undefined && JSON.stringify(v) !== JSON.stringify(prev[k])),
    );
    const removed = Object.keys(next).filter((k) => next[k] === undefined && prev[k] !== undefined);
    if (Object.keys(changed).length > 0 || removed.length > 0)
      await client.put(`/cluster/backup/${encodeURIComponent(id)}`, {
        ...changed,
        ...(removed.length > 0 ? { delete: removed.join(",") } : {}),
      });
    return { outs: news };
  },

  async delete(id, props) {
    try {
      await createPveClient(props.connection).delete(`/cluster/backup/${encodeURIComponent(id)}`);
    } catch (err) {
      // PVE answers a job that is gone with 400 "No such job" on `id` (API2/Backup.pm delete_job).
      if (pveStatus(err) === 400 && /no such job/i.test(pveParamErrors(err)["id"] ?? "")) return;
      throw err;
    }
  },
};
