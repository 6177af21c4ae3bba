/**
 * Dynamic provider of `PveBackupJob` (components/PveBackupJob.ts): one scheduled vzdump job of the
 * cluster (`/cluster/backup`, jobs.cfg), managed over the REST API. The provider's own backup-job
 * type is not used: its plugin panics (lib/providerFacts.ts, the ID override bug).
 *
 * A job backs up every guest (of a node), a pool's members, or a VMID list (PVE's precedence: pool,
 * vmid, all; pve-manager PVE/VZDump.pm get_included_guests). Two enabled jobs never back up the same
 * guest: pools are resolved to their members (`GET /pools?poolid=`), and a guest whose node is not
 * known counts on every node.
 *
 * - create, `adopt: true`: the job with this id must exist and match in every field but the guest
 *   selection (each difference is named, as Pulumi refuses an import that differs); it is taken over
 *   (a dynamic resource cannot be imported: pulumi/pulumi#16175), and the one thing written is the
 *   declared selection when it differs (the per-node jobs narrowed to the infrastructure pool, since
 *   customer containers have jobs of their own), refused if another job backs up those guests.
 * - create, otherwise: refused when a job with this id exists (adopt it) or when another job already
 *   backs up some of the same guests (backups would run twice); then `POST /cluster/backup`.
 * - update: `PUT /cluster/backup/{id}` with what changed (`delete` for what is no longer declared);
 *   a new selection is checked against the other jobs first.
 * - read (refresh): the live job; none left: the resource is dropped and the next `up` creates it.
 * - delete: `DELETE /cluster/backup/{id}`; a job already gone is what was wanted. The archives stay.
 *
 * Calls need Sys.Audit (read) and Sys.Modify (write) on `/`, Datastore.Allocate on the target
 * storage, VM.Backup on `/pool/<pool>` for a pool selection (pve-manager PVE/API2/Backup.pm), and
 * Pool.Audit on the pools whose members are compared. Loaded from this file by the dynamic-provider
 * plugin (lib/dynamicProviderLoader.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { createPveClient, pveParamErrors, pveStatus, type PveClient, type PveConnection } from "./client";
import { UNKNOWN_VALUE } from "../pulumiWire";
import { stackConnection } from "./stackConnection";

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
  /** Every guest (of `node`). PVE's precedence: `pool`, then `vmid`, then `all`. */
  all: boolean;
  /** Only the members of this pool (of `node`). */
  pool?: string;
  /** Only these guests: VMIDs ascending, comma-separated. */
  vmid?: string;
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
  /**
   * Take over the existing job with this id instead of creating one: every field must match the live
   * job but the guest selection (`all`, `pool`, `vmid`), which is set to the declared one.
   */
  adopt: boolean;
  /** API endpoint and token; absent (the program's resources): the stack's (lib/pve/stackConnection.ts). */
  connection?: PveConnection;
}

/** The stack's connection, set when the plugin configures the provider. */
const connection = stackConnection();
const clientOf = (inputs: Pick<BackupJobInputs, "connection">): PveClient =>
  createPveClient(connection.use(inputs.connection));

/** Which guests a job backs up. */
const SELECTION = ["all", "pool", "vmid"] as const;
const FIELDS = [
  "schedule",
  "storage",
  "node",
  ...SELECTION,
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

/** A `pve-vmid-list` (`1002,1001` or `1001 1002`) as the program writes it: ascending, comma-separated. */
export function vmidList(text: string): string {
  return [
    ...new Set(
      text
        .split(/[,;\s]+/)
        .filter(Boolean)
        .map(Number),
    ),
  ]
    .sort((a, b) => a - b)
    .join(",");
}

/** A live job of `GET /cluster/backup` in the program's shape (its selection as PVE applies it). */
export function jobOf(live: Record<string, unknown>): BackupJobDefinition {
  const prune = (live["prune-backups"] ?? {}) as Record<string, unknown>;
  const pool = typeof live["pool"] === "string" && live["pool"] !== "" ? live["pool"] : undefined;
  const vmid = typeof live["vmid"] === "string" && live["vmid"] !== "" ? vmidList(live["vmid"]) : undefined;
  const job: BackupJobDefinition = {
    id: String(live["id"]),
    schedule: String(live["schedule"] ?? ""),
    storage: String(live["storage"] ?? "local"),
    // PVE's precedence (pve-manager PVE/VZDump.pm get_included_guests): pool, then vmid, then all.
    all: !pool && !vmid && truthy(live["all"], false),
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
  if (pool) job.pool = pool;
  else if (vmid) job.vmid = vmid;
  if (typeof live["comment"] === "string") job.comment = live["comment"];
  return job;
}

/** Every field of `fields` where `live` differs from `declared` (empty: they match). */
export function jobDifferences(
  declared: BackupJobDefinition,
  live: BackupJobDefinition,
  fields: readonly (typeof FIELDS)[number][] = FIELDS,
): string[] {
  const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));
  return fields
    .filter((f) => JSON.stringify(declared[f]) !== JSON.stringify(live[f]))
    .map((f) => `${f}: declared ${show(declared[f])}, live ${show(live[f])}`);
}

/** A guest a job selects by name, with its node when known. */
export interface SelectedGuest {
  vmid: number;
  node?: string;
}

/** The members of a pool (guests with their node), as `GET /pools?poolid=` lists them. */
export type PoolMembers = (pool: string) => Promise<SelectedGuest[]>;

/** What a job backs up: every guest (of `node`), or the listed guests (of `node`). */
type Coverage = { every: true; node?: string } | { every: false; node?: string; guests: SelectedGuest[] };

async function coverageOf(job: BackupJobDefinition, members: PoolMembers): Promise<Coverage> {
  const node = job.node !== undefined ? { node: job.node } : {};
  if (job.pool) return { every: false, ...node, guests: await members(job.pool) };
  if (job.vmid) return { every: false, ...node, guests: job.vmid.split(",").map((v) => ({ vmid: Number(v) })) };
  return job.all ? { every: true, ...node } : { every: false, ...node, guests: [] };
}

/** Whether a job restricted to `node` (if any) backs up `guest` (a guest whose node is unknown might be there). */
const onNode = (guest: SelectedGuest, node: string | undefined) =>
  node === undefined || guest.node === undefined || guest.node === node;

/**
 * The guests two jobs would both back up: `"all"` when both take every guest of a common node, the
 * VMIDs otherwise (empty: none). A guest whose node is unknown counts wherever it might be.
 */
export async function sharedGuests(
  a: BackupJobDefinition,
  b: BackupJobDefinition,
  members: PoolMembers,
): Promise<"all" | number[]> {
  const [ca, cb] = [await coverageOf(a, members), await coverageOf(b, members)];
  if (ca.every && cb.every) return ca.node === undefined || cb.node === undefined || ca.node === cb.node ? "all" : [];
  const both = (g: SelectedGuest) => onNode(g, ca.node) && onNode(g, cb.node);
  if (ca.every || cb.every) {
    const listed = (ca.every ? cb : ca) as Extract<Coverage, { every: false }>;
    return listed.guests.filter(both).map((g) => g.vmid);
  }
  const inB = new Map(cb.guests.map((g) => [g.vmid, g]));
  return ca.guests
    .filter((g) => inB.has(g.vmid))
    .map((g): SelectedGuest => {
      const node = g.node ?? inB.get(g.vmid)!.node;
      return node === undefined ? { vmid: g.vmid } : { vmid: g.vmid, node };
    })
    .filter(both)
    .map((g) => g.vmid);
}

/** Whether two jobs back up some of the same guests. */
export async function overlaps(a: BackupJobDefinition, b: BackupJobDefinition, members: PoolMembers): Promise<boolean> {
  const shared = await sharedGuests(a, b, members);
  return shared === "all" || shared.length > 0;
}

const selectionText = (j: BackupJobDefinition): string => {
  const where = j.node ? ` of ${j.node}` : "";
  if (j.pool) return `pool ${j.pool}${where}`;
  if (j.vmid) return `guests ${j.vmid}${where}`;
  return j.all ? `all guests${where}` : "no guests";
};

const describeJob = (j: BackupJobDefinition) =>
  `${j.id} (${selectionText(j)} -> ${j.storage} at ${j.schedule}${j.enabled ? "" : ", disabled"})`;

const definitionOf = (inputs: BackupJobInputs): BackupJobDefinition => {
  const { connection: _c, adopt: _a, jobId, ...definition } = inputs;
  return { id: jobId, ...definition };
};

async function liveJobs(client: PveClient): Promise<BackupJobDefinition[]> {
  const all = await client.get<Array<Record<string, unknown>>>("/cluster/backup");
  return all.filter((j) => j["type"] === undefined || j["type"] === "vzdump").map(jobOf);
}

/**
 * Pool members through `GET /pools?poolid=` (pve-manager PVE/API2/Pool.pm index; Pool.Audit on the
 * pool), each pool read once.
 */
function poolMembersOf(client: PveClient): PoolMembers {
  const cache = new Map<string, Promise<SelectedGuest[]>>();
  return (pool) => {
    let known = cache.get(pool);
    if (!known) {
      known = client
        .get<Array<{ members?: Array<Record<string, unknown>> }>>(`/pools?poolid=${encodeURIComponent(pool)}`)
        .then((pools) =>
          (pools[0]?.members ?? [])
            .filter((m) => typeof m["vmid"] === "number")
            .map((m) => ({
              vmid: m["vmid"] as number,
              ...(typeof m["node"] === "string" ? { node: m["node"] } : {}),
            })),
        );
      cache.set(pool, known);
    }
    return known;
  };
}

/** Fails when `job` would back up guests an enabled other job of `jobs` backs up already. */
async function refuseDoubled(
  job: BackupJobDefinition,
  jobs: readonly BackupJobDefinition[],
  members: PoolMembers,
  what: string,
): Promise<void> {
  const doubled: string[] = [];
  for (const other of jobs) {
    if (other.id === job.id || !other.enabled) continue;
    const shared = await sharedGuests(job, other, members);
    if (shared === "all" || shared.length > 0)
      doubled.push(`${describeJob(other)}${shared === "all" ? "" : ` (guests ${shared.join(",")})`}`);
  }
  if (doubled.length > 0)
    throw new Error(
      `backup job ${job.id} ${what} would back up guests that ${doubled.join(" and ")} already back up, so backups would run twice: adopt that job (its id and adopt: true), narrow it (pool), or remove it first`,
    );
}

/** The guest selection as PVE takes it: exactly one of pool, vmid, all (PVE/VZDump.pm verify_vzdump_parameters). */
function selectionParams(job: BackupJobDefinition): Record<string, string | boolean> {
  if (job.pool) return { pool: job.pool };
  if (job.vmid) return { vmid: job.vmid };
  return { all: job.all };
}

/** The parameters of a job for POST/PUT. */
function params(job: BackupJobDefinition): Record<string, string | number | boolean | undefined> {
  return {
    schedule: job.schedule,
    storage: job.storage,
    node: job.node,
    ...selectionParams(job),
    mode: job.mode,
    compress: job.compress,
    "prune-backups": pruneString(job["prune-backups"]),
    enabled: job.enabled,
    comment: job.comment,
  };
}

const selectionOf = (job: BackupJobDefinition) => JSON.stringify(SELECTION.map((f) => job[f] ?? null));

async function create(inputs: BackupJobInputs): Promise<void> {
  const client = clientOf(inputs);
  const declared = definitionOf(inputs);
  const jobs = await liveJobs(client);
  const members = poolMembersOf(client);
  const same = jobs.find((j) => j.id === declared.id);
  if (inputs.adopt) {
    if (!same)
      throw new Error(
        `backup job ${declared.id} is marked adopt but the cluster has no job with that id; its jobs: ${jobs.map(describeJob).join("; ") || "none"}. Set the id of the job to adopt (pvesh get /cluster/backup), or drop adopt to create it`,
      );
    const diffs = jobDifferences(
      declared,
      same,
      FIELDS.filter((f) => !(SELECTION as readonly string[]).includes(f)),
    );
    if (diffs.length > 0)
      throw new Error(
        `backup job ${declared.id} on the cluster differs from nodepoint:backupJobs: ${diffs.join("; ")}. Adopting writes nothing but the guest selection: correct the stack config to what the cluster has, then change it in a later run`,
      );
    if (selectionOf(declared) === selectionOf(same)) return;
    // The one change adopting makes: the declared guest selection (e.g. only the infrastructure pool,
    // as customer containers have jobs of their own). Never onto guests another job backs up.
    await refuseDoubled(
      declared,
      jobs,
      members,
      `(selecting ${selectionText(declared)} instead of ${selectionText(same)})`,
    );
    await client.put(`/cluster/backup/${encodeURIComponent(declared.id)}`, selectionParams(declared));
    return;
  }
  if (same)
    throw new Error(`backup job ${declared.id} exists already: set adopt: true to take it over (${describeJob(same)})`);
  await refuseDoubled(declared, jobs, members, `(${selectionText(declared)})`);
  await client.post("/cluster/backup", { id: declared.id, ...params(declared) });
}

/** Validates and normalizes raw inputs. */
export function checkBackupJobInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult<BackupJobInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const known = (v: unknown) => v !== UNKNOWN_VALUE;
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
  const [pool, vmid] = [news["pool"], news["vmid"]];
  if (known(pool) && pool !== undefined && (typeof pool !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(pool)))
    bad("pool", "must be a PVE pool id");
  if (known(vmid) && vmid !== undefined && (typeof vmid !== "string" || !/^\d+(,\d+)*$/.test(vmid)))
    bad("vmid", "must be VMIDs separated by commas");
  if (known(pool) && known(vmid) && pool !== undefined && vmid !== undefined)
    bad("vmid", "a job selects a pool or a VMID list, not both (PVE refuses it)");
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
  const inputs: Record<string, unknown> = { enabled: true, adopt: false, ...news };
  if (typeof vmid === "string" && known(vmid)) inputs["vmid"] = vmidList(vmid);
  // Every guest unless a pool or a VMID list narrows the selection.
  if (known(pool) && known(vmid)) inputs["all"] = pool === undefined && vmid === undefined;
  return { inputs: inputs as unknown as BackupJobInputs, failures };
}

export const backupJobProvider: pulumi.dynamic.ResourceProvider<BackupJobInputs, BackupJobInputs> = {
  async configure(req) {
    connection.configure(req.config);
  },

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
    if (!props) throw new Error(`backup job ${id}: cannot read without prior state`);
    const live = (await liveJobs(clientOf(props))).find((j) => j.id === id);
    if (!live) return {};
    const { id: jobId, ...definition } = live;
    const named = props.connection ? { connection: props.connection } : {};
    return { id, props: { ...definition, jobId, adopt: props.adopt, ...named } };
  },

  async update(id, olds, news) {
    const client = clientOf(news);
    const [declared, before] = [definitionOf(news), definitionOf(olds)];
    if (selectionOf(declared) !== selectionOf(before) || declared.node !== before.node || !before.enabled)
      await refuseDoubled(declared, await liveJobs(client), poolMembersOf(client), `(${selectionText(declared)})`);
    const next = params(declared);
    const prev = params(before);
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
      await clientOf(props).delete(`/cluster/backup/${encodeURIComponent(id)}`);
    } catch (err) {
      // PVE answers a job that is gone with 400 "No such job" on `id` (API2/Backup.pm delete_job).
      if (pveStatus(err) === 400 && /no such job/i.test(pveParamErrors(err)["id"] ?? "")) return;
      throw err;
    }
  },
};
