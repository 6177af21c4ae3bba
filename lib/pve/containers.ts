/**
 * One customer's container through the PVE API, with the customer token: where it runs now, whether
 * it really is that customer's, and its snapshots. Used by the `initial` restore point
 * (lib/pve/snapshotProvider.ts) and the customer operations (lib/operations/).
 *
 * Which container is the customer's: the one `GET /cluster/resources?type=vm` lists with the VMID of
 * the customer file, an LXC container (not a template) whose host name is the customer's slug. The
 * customer token sees only guests it has VM.Audit on, i.e. the members of the customer pool
 * (pve-manager PVE/API2/Cluster.pm resources; the `pool` field itself is left out without
 * Pool.Audit), so a VMID of an infrastructure guest is not even listed; and since every customer
 * container is in that pool, the host name tells one customer's from another's (a stale or edited
 * VMID in a file points at someone else's). The listing also gives the node it runs on now (HA may
 * have moved it), which is where every call about it must go (`proxyto => 'node'`).
 */
import type { PveClient } from "./client";

/** A guest as /cluster/resources lists it. */
export interface ListedGuest {
  vmid: number;
  type: string;
  node: string;
  /** Host name (container) or VM name. */
  name?: string;
  status: string;
  template: boolean;
  /** Set when the guest is an HA resource. */
  hastate?: string;
  /** A config lock (`backup`, `snapshot`, `rollback`, ...). */
  lock?: string;
}

/** A snapshot of a container (not the `current` pseudo-entry PVE lists with them). */
export interface ContainerSnapshot {
  name: string;
  description: string;
  /** Creation time (Unix seconds), when PVE gives one. */
  snaptime?: number;
  parent?: string;
  /** Set while a snapshot is being made or removed (`prepare`, `delete`). */
  snapstate?: string;
}

/** The API path of a container. */
export const containerPath = (node: string, vmid: number): string => `/nodes/${encodeURIComponent(node)}/lxc/${vmid}`;

/** The guest with `vmid` as the token sees it, or undefined when it sees none. */
export async function listedGuest(client: PveClient, vmid: number): Promise<ListedGuest | undefined> {
  const all = await client.get<Array<Record<string, unknown>>>("/cluster/resources?type=vm");
  const raw = all.find((g) => Number(g["vmid"]) === vmid);
  if (!raw) return undefined;
  return {
    vmid,
    type: String(raw["type"]),
    node: String(raw["node"]),
    ...(typeof raw["name"] === "string" ? { name: raw["name"] } : {}),
    status: String(raw["status"] ?? "unknown"),
    template: raw["template"] === 1 || raw["template"] === true || raw["template"] === "1",
    ...(typeof raw["hastate"] === "string" ? { hastate: raw["hastate"] } : {}),
    ...(typeof raw["lock"] === "string" && raw["lock"] !== "" ? { lock: raw["lock"] } : {}),
  };
}

/** Why `listed` is not the container of customer `slug` with `vmid` (undefined: it is). Pure. */
export function notTheCustomersContainer(
  customer: { slug: string; vmid: number },
  listed: ListedGuest | undefined,
): string | undefined {
  const { slug, vmid } = customer;
  if (!listed)
    return `CT ${vmid} is not a customer container the customer token can see (it is in no customer pool, or it does not exist)`;
  if (listed.type !== "lxc") return `VMID ${vmid} is a ${listed.type === "qemu" ? "VM" : listed.type}, not a container`;
  if (listed.template) return `CT ${vmid} is a template, not a customer's container`;
  if (listed.name !== slug)
    return `CT ${vmid} is ${listed.name ? `"${listed.name}"` : "unnamed"}, not ${slug}'s container (its host name is the customer's slug)`;
  return undefined;
}

/** The customer's container as listed now; throws (naming why) when the VMID is not that customer's. */
export async function customerContainer(
  client: PveClient,
  customer: { slug: string; vmid: number },
): Promise<ListedGuest> {
  const listed = await listedGuest(client, customer.vmid);
  const refusal = notTheCustomersContainer(customer, listed);
  if (refusal) throw Object.assign(new Error(`${refusal}: refused`), { refused: true });
  return listed!;
}

/** The container's snapshots, oldest first (`current`, PVE's "you are here" entry, left out). */
export async function containerSnapshots(client: PveClient, node: string, vmid: number): Promise<ContainerSnapshot[]> {
  const all = await client.get<Array<Record<string, unknown>>>(`${containerPath(node, vmid)}/snapshot`);
  return all
    .filter((s) => s["name"] !== "current")
    .map((s) => ({
      name: String(s["name"]),
      description: String(s["description"] ?? ""),
      ...(typeof s["snaptime"] === "number" && s["snaptime"] > 0 ? { snaptime: s["snaptime"] } : {}),
      ...(typeof s["parent"] === "string" ? { parent: s["parent"] } : {}),
      ...(typeof s["snapstate"] === "string" ? { snapstate: s["snapstate"] } : {}),
    }))
    .sort((a, b) => (a.snaptime ?? 0) - (b.snaptime ?? 0) || a.name.localeCompare(b.name));
}

/** The container's power state now (`running` or `stopped`). */
export async function containerStatus(client: PveClient, node: string, vmid: number): Promise<string> {
  const s = await client.get<{ status: string }>(`${containerPath(node, vmid)}/status/current`);
  return s.status;
}
