/**
 * Dynamic provider of `PveStorage` (components/PveStorage.ts): checks that a storage definition of
 * the cluster is what the stack config says, and never writes one. Storage definitions are node-level
 * setup made by hand (ZFS pools, volume groups, directories); writing them needs Datastore.Allocate on
 * `/storage`, which reaches every definition (the DRBD pool's too). The provider's own storage types
 * are not used: their plugin panics (lib/providerFacts.ts, the ID override bug).
 *
 * - create and update: `GET /storage` (it lists what the token may read: Datastore.Audit on
 *   `/storage/<id>`); the definition must exist and match, else the step fails naming every
 *   difference. Nothing is written: this is how the seed's storages are adopted (a dynamic resource
 *   cannot be imported: pulumi/pulumi#16175).
 * - read (refresh): the live definition, so drift shows as a diff; none left: the resource is dropped
 *   and the next `pulumi up` fails on it, naming the storage.
 * - delete: nothing to do (the definition stays; the program stops checking it).
 *
 * Loaded from this file by the dynamic-provider plugin (lib/dynamicProviderLoader.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { createPveClient, type PveConnection } from "./client";
import { UNKNOWN_VALUE } from "../pulumiWire";
import { stackConnection } from "./stackConnection";

/** Storage types the program declares (PVE's plugin type names). */
export const STORAGE_TYPES = ["dir", "zfspool", "lvmthin", "nfs"] as const;

/** The fields of a definition the program states, per type (besides id, type, content, nodes). */
const TYPE_FIELDS: Readonly<Record<(typeof STORAGE_TYPES)[number], readonly string[]>> = {
  dir: ["path", "shared"],
  zfspool: ["pool"],
  lvmthin: ["vgname", "thinpool"],
  nfs: ["server", "export"],
};

/** A storage definition as the program states it (PVE's field names). */
export interface StorageDefinition {
  storage: string;
  type: (typeof STORAGE_TYPES)[number];
  /** Content types, sorted. */
  content: string[];
  /** Nodes it is available on, sorted; absent: every node (storage.cfg then has no `nodes` line). */
  nodes?: string[];
  /** dir: path. */
  path?: string;
  /** dir: shared between nodes. */
  shared?: boolean;
  /** zfspool: the ZFS dataset. */
  pool?: string;
  /** lvmthin: volume group and thin pool. */
  vgname?: string;
  thinpool?: string;
  /** nfs: the server's address and its exported directory. */
  server?: string;
  export?: string;
}

export interface StorageInputs extends StorageDefinition {
  /** API endpoint and token; absent (the program's resources): the stack's (lib/pve/stackConnection.ts). */
  connection?: PveConnection;
}

/** The stack's connection, set when the plugin configures the provider. */
const connection = stackConnection();

const list = (v: unknown): string[] | undefined =>
  typeof v === "string" && v !== ""
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .sort()
    : undefined;
const flag = (v: unknown): boolean | undefined =>
  v === undefined || v === null ? undefined : v === true || v === 1 || v === "1";

/** A live entry of `GET /storage` in the program's shape. */
export function definitionOf(live: Record<string, unknown>): StorageDefinition {
  const type = String(live["type"]) as StorageDefinition["type"];
  const nodes = list(live["nodes"]);
  const def: StorageDefinition = { storage: String(live["storage"]), type, content: list(live["content"]) ?? [] };
  if (nodes) def.nodes = nodes;
  for (const f of TYPE_FIELDS[type] ?? []) {
    // `shared` unset in storage.cfg means not shared.
    const v = f === "shared" ? (flag(live[f]) ?? false) : live[f];
    if (v !== undefined) (def as unknown as Record<string, unknown>)[f] = v;
  }
  return def;
}

/** Every field where the live definition differs from the declared one (empty: they match). */
export function storageDifferences(declared: StorageDefinition, live: StorageDefinition): string[] {
  const show = (v: unknown) => (v === undefined ? "(unset)" : Array.isArray(v) ? v.join(",") : JSON.stringify(v));
  const fields = ["type", "content", "nodes", ...(TYPE_FIELDS[declared.type] ?? [])];
  const out: string[] = [];
  for (const f of fields) {
    const d = (declared as unknown as Record<string, unknown>)[f];
    const l = (live as unknown as Record<string, unknown>)[f];
    if (JSON.stringify(d) !== JSON.stringify(l)) out.push(`${f}: declared ${show(d)}, live ${show(l)}`);
  }
  return out;
}

const declaredOf = (inputs: StorageInputs): StorageDefinition => {
  const { connection: _connection, ...definition } = inputs;
  return definition;
};

/** The live definition of `id`, or undefined when the token sees none. */
async function liveDefinition(named: PveConnection | undefined, id: string): Promise<StorageDefinition | undefined> {
  const all = await createPveClient(connection.use(named)).get<Array<Record<string, unknown>>>("/storage");
  const found = all.find((s) => s["storage"] === id);
  return found ? definitionOf(found) : undefined;
}

/** Fails unless the cluster's definition of the storage is the declared one. */
async function verify(inputs: StorageInputs): Promise<void> {
  const live = await liveDefinition(inputs.connection, inputs.storage);
  if (!live)
    throw new Error(
      `storage ${inputs.storage} is not defined on the cluster (or the infrastructure token lacks Datastore.Audit on /storage/${inputs.storage}). The program checks storage definitions and does not write them: define it (pvesm add ${inputs.type} ${inputs.storage} ...) or correct nodepoint:storage`,
    );
  const diffs = storageDifferences(declaredOf(inputs), live);
  if (diffs.length > 0)
    throw new Error(
      `storage ${inputs.storage} on the cluster differs from nodepoint:storage: ${diffs.join("; ")}. The program checks storage definitions and does not write them: correct the stack config to what the cluster has, or change the definition by hand (pvesm set ${inputs.storage} ...)`,
    );
}

/** Validates and normalizes raw inputs (sorted lists, no empty node list). */
export function checkStorageInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult<StorageInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const inputs: Record<string, unknown> = { ...news };
  const known = (v: unknown) => v !== UNKNOWN_VALUE;
  const id = news["storage"];
  if (known(id) && (typeof id !== "string" || !/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(id)))
    failures.push({ property: "storage", reason: "must be a PVE storage id (pve-storage-id)" });
  const type = news["type"];
  if (known(type) && !STORAGE_TYPES.includes(type as never))
    failures.push({ property: "type", reason: `must be one of ${STORAGE_TYPES.join(", ")}` });
  for (const key of ["content", "nodes"] as const) {
    const v = news[key];
    if (v === undefined || !known(v)) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string") || (key === "content" && v.length === 0))
      failures.push({ property: key, reason: "must be a non-empty list of names" });
    else inputs[key] = [...(v as string[])].sort();
  }
  const named = news["connection"] as Record<string, unknown> | undefined;
  if (named !== undefined && known(named) && (!named || typeof named["endpoint"] !== "string"))
    failures.push({ property: "connection", reason: "must give the API endpoint and token" });
  return { inputs: inputs as unknown as StorageInputs, failures };
}

export const storageProvider: pulumi.dynamic.ResourceProvider<StorageInputs, StorageInputs> = {
  async configure(req) {
    connection.configure(req.config);
  },

  async check(_olds, news) {
    return checkStorageInputs(news as unknown as Record<string, unknown>);
  },

  async diff(_id, olds, news) {
    const same = (k: keyof StorageInputs) => JSON.stringify(olds[k]) === JSON.stringify(news[k]);
    const keys = Object.keys({ ...olds, ...news }) as Array<keyof StorageInputs>;
    const changed = keys.filter((k) => k !== "connection" && !same(k));
    // Another id is another storage: the old resource lets go of it, the new one checks it.
    const replaces = same("storage") ? [] : ["storage"];
    return { changes: changed.length > 0 || !same("connection"), replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    await verify(inputs);
    return { id: inputs.storage, outs: inputs };
  },

  async read(id, props) {
    if (!props) throw new Error(`storage ${id}: cannot read without prior state`);
    const live = await liveDefinition(props.connection, id);
    if (!live) return {};
    return { id, props: { ...live, ...(props.connection ? { connection: props.connection } : {}) } };
  },

  async update(_id, _olds, news) {
    await verify(news);
    return { outs: news };
  },

  async delete() {
    // The definition stays in storage.cfg: the program only stops checking it.
  },
};
