/**
 * Dynamic provider of `PveSnapshot` (components/PveSnapshot.ts): the restore point `initial` of a
 * customer's container, taken once WordPress is installed (the seed's platform does the same), with
 * the customer token. The provider's own types have no snapshot resource.
 *
 * - create: the container must be the customer's (lib/pve/containers.ts: listed to the customer token,
 *   host name = slug); a snapshot of that name already there is kept (adopted, nothing written),
 *   otherwise `POST /nodes/{node}/lxc/{vmid}/snapshot` and the task is waited for: PVE's failure
 *   (the container locked by a backup, storage without snapshots) fails the step with PVE's words.
 * - read (refresh): the container gone: the resource goes too (its snapshots went with it). The
 *   snapshot gone but the container there (deleted by hand): the resource stays as it is; taking a new
 *   `initial` then would record a later state under the install's name.
 * - update: nothing to write (only the description's wording changed).
 * - delete: nothing: a restore point is deleted only by a person, as a customer operation
 *   (`customer delete-snapshot`), and goes with its container.
 *
 * Calls: VM.Audit (list, read) and VM.Snapshot (create) on the container, which the customer token
 * holds through the customer pool; the task's status is readable by its owner. The token comes from
 * the stack config (`nodepoint:proxmoxCustomersApiToken`, lib/pve/stackConnection.ts), so it is not
 * stored with every site's restore point.
 */
import type * as pulumi from "@pulumi/pulumi";
import { UNKNOWN_VALUE } from "../pulumiWire";
import { createPveClient, type PveConnection } from "./client";
import { PVE_CONFIG, stackConnection } from "./stackConnection";
import { containerPath, containerSnapshots, customerContainer, listedGuest } from "./containers";
import { waitForTask } from "./tasks";

export interface SnapshotInputs {
  /** The customer (the container's host name). */
  slug: string;
  vmid: number;
  /** The snapshot's name (`pve-configid`, at most 40 characters). */
  snapname: string;
  description: string;
  /** API endpoint and token; absent (the program's resources): the stack's customer token. */
  connection?: PveConnection;
}

export interface SnapshotOutputs extends SnapshotInputs {
  /** When PVE took it (Unix seconds). */
  snaptime?: number;
}

/** Snapshots of a container with WordPress take seconds; a busy DRBD node may take minutes. */
const SNAPSHOT_TIMEOUT_MS = 15 * 60_000;

/** Validates raw inputs. */
export function checkSnapshotInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult<SnapshotInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const known = (v: unknown) => v !== UNKNOWN_VALUE;
  const name = news["snapname"];
  if (known(name) && (typeof name !== "string" || !/^[a-z][a-z0-9_-]+$/i.test(name) || name.length > 40))
    failures.push({
      property: "snapname",
      reason: "must be a PVE snapshot name (a letter, then letters, digits, - and _; at most 40)",
    });
  if (known(name) && (name === "current" || name === "vzdump"))
    failures.push({ property: "snapname", reason: `"${String(name)}" is reserved by PVE` });
  const vmid = news["vmid"];
  if (known(vmid) && (!Number.isInteger(vmid) || (vmid as number) < 100))
    failures.push({ property: "vmid", reason: "must be a VMID" });
  if (known(news["slug"]) && typeof news["slug"] !== "string")
    failures.push({ property: "slug", reason: "must be the customer's slug" });
  return { inputs: news as unknown as SnapshotInputs, failures };
}

const connection = stackConnection(PVE_CONFIG.customerToken);

async function take(inputs: SnapshotInputs): Promise<number | undefined> {
  const client = createPveClient(connection.use(inputs.connection));
  const ct = await customerContainer(client, { slug: inputs.slug, vmid: inputs.vmid });
  const existing = (await containerSnapshots(client, ct.node, inputs.vmid)).find((s) => s.name === inputs.snapname);
  if (existing) return existing.snaptime;
  const upid = await client.post<string>(`${containerPath(ct.node, inputs.vmid)}/snapshot`, {
    snapname: inputs.snapname,
    description: inputs.description,
  });
  await waitForTask(client, upid, `snapshot ${inputs.snapname} of CT ${inputs.vmid}`, {
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
  });
  return (await containerSnapshots(client, ct.node, inputs.vmid)).find((s) => s.name === inputs.snapname)?.snaptime;
}

export const snapshotProvider: pulumi.dynamic.ResourceProvider<SnapshotInputs, SnapshotOutputs> = {
  async configure(req) {
    connection.configure(req.config);
  },

  async check(_olds, news) {
    return checkSnapshotInputs(news as unknown as Record<string, unknown>);
  },

  async diff(_id, olds, news) {
    // Another container or another name is another snapshot; the old one stays (delete writes nothing).
    const replaces = (["vmid", "snapname", "slug"] as const).filter((k) => olds[k] !== news[k]);
    const changed =
      replaces.length > 0 ||
      olds.description !== news.description ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const snaptime = await take(inputs);
    return {
      id: `${inputs.vmid}/${inputs.snapname}`,
      outs: { ...inputs, ...(snaptime !== undefined ? { snaptime } : {}) },
    };
  },

  async read(id, props) {
    if (!props) throw new Error(`snapshot ${id}: nothing in the state; cannot read it`);
    const client = createPveClient(connection.use(props.connection));
    const listed = await listedGuest(client, props.vmid);
    if (!listed) return {};
    const live = (await containerSnapshots(client, listed.node, props.vmid)).find((s) => s.name === props.snapname);
    const { snaptime: _gone, ...rest } = props;
    return { id, props: live?.snaptime !== undefined ? { ...rest, snaptime: live.snaptime } : rest };
  },

  async update(_id, olds, news) {
    return { outs: { ...news, ...(olds.snaptime !== undefined ? { snaptime: olds.snaptime } : {}) } };
  },

  async delete() {
    // A restore point is removed by a person (`customer delete-snapshot`) or with its container.
  },
};
