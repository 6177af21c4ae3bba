/**
 * Pure capacity accounting: what the declared guests allocate per node (cores, memory) and per
 * storage pool, against physical capacity. Drives the plan's capacity table, the capacity check of
 * validation and the placement of new customers. No I/O.
 */

/** What one guest allocates. */
export interface GuestAllocation {
  /** Who allocates it, for messages (e.g. `CT 10001 openwrt`, `customers/acme.yaml`). */
  owner: string;
  node: string;
  cores: number;
  memoryMiB: number;
  /** Root disk, when its size is known. */
  disk?: { storage: string; sizeGiB: number };
}

export interface NodeCapacity {
  name: string;
  cores: number;
  memoryMiB: number;
}

export interface PoolCapacity {
  id: string;
  /** A shared pool (DRBD) is one pool seen from several nodes: counted once. */
  shared: boolean;
  nodes: readonly string[];
  capacityGiB: Readonly<Record<string, number>>;
  /** Space already used by things not declared here. */
  usedGiB: Readonly<Record<string, number>>;
}

export interface NodeUsage {
  node: string;
  guests: number;
  coresAllocated: number;
  cores: number;
  memoryAllocatedMiB: number;
  memoryMiB: number;
}

export interface PoolUsage {
  pool: string;
  /** The node, or `shared` for a shared pool. */
  scope: string;
  allocatedGiB: number;
  capacityGiB: number;
}

export interface CapacityReport {
  nodes: NodeUsage[];
  pools: PoolUsage[];
}

export interface Overcommit {
  memory: number;
  storage: number;
}

const SHARED = "shared";

export function capacityReport(
  nodes: readonly NodeCapacity[],
  pools: readonly PoolCapacity[],
  guests: readonly GuestAllocation[],
): CapacityReport {
  const nodeUsage = new Map<string, NodeUsage>(
    nodes.map((n) => [
      n.name,
      { node: n.name, guests: 0, coresAllocated: 0, cores: n.cores, memoryAllocatedMiB: 0, memoryMiB: n.memoryMiB },
    ]),
  );
  const poolUsage = new Map<string, PoolUsage>();
  for (const p of pools) {
    if (p.shared) {
      const first = p.nodes[0] ?? "";
      poolUsage.set(`${p.id}@${SHARED}`, {
        pool: p.id,
        scope: SHARED,
        allocatedGiB: p.usedGiB[first] ?? 0,
        capacityGiB: p.capacityGiB[first] ?? 0,
      });
    } else {
      for (const n of p.nodes)
        poolUsage.set(`${p.id}@${n}`, {
          pool: p.id,
          scope: n,
          allocatedGiB: p.usedGiB[n] ?? 0,
          capacityGiB: p.capacityGiB[n] ?? 0,
        });
    }
  }
  for (const g of guests) {
    const usage = nodeUsage.get(g.node);
    if (usage) {
      usage.guests++;
      usage.coresAllocated += g.cores;
      usage.memoryAllocatedMiB += g.memoryMiB;
    }
    if (g.disk) {
      const pool = poolUsage.get(`${g.disk.storage}@${SHARED}`) ?? poolUsage.get(`${g.disk.storage}@${g.node}`);
      if (pool) pool.allocatedGiB += g.disk.sizeGiB;
    }
  }
  return { nodes: [...nodeUsage.values()], pools: [...poolUsage.values()] };
}

/** One allocation above capacity × overcommit. */
export interface CapacityExcess {
  kind: "memory" | "storage";
  /** Node name, or `pool@scope`. */
  where: string;
  allocated: number;
  limit: number;
  unit: "MiB" | "GiB";
}

export function capacityExcesses(report: CapacityReport, overcommit: Overcommit): CapacityExcess[] {
  const out: CapacityExcess[] = [];
  for (const n of report.nodes) {
    const limit = Math.floor(n.memoryMiB * overcommit.memory);
    if (n.memoryAllocatedMiB > limit)
      out.push({ kind: "memory", where: n.node, allocated: n.memoryAllocatedMiB, limit, unit: "MiB" });
  }
  for (const p of report.pools) {
    const limit = Math.floor(p.capacityGiB * overcommit.storage);
    if (p.allocatedGiB > limit)
      out.push({
        kind: "storage",
        where: `${p.pool}@${p.scope}`,
        allocated: round(p.allocatedGiB),
        limit,
        unit: "GiB",
      });
  }
  return out;
}

/**
 * Placement of a new customer: among `candidates`, the node with the most free memory after
 * current allocations on which the new guest still fits (memory and its disk's pool, within the
 * overcommit ratios). Ties go to the earlier candidate. Undefined when no node has room.
 */
export function placeGuest(
  report: CapacityReport,
  candidates: readonly string[],
  need: { memoryMiB: number; diskGiB: number; storage: string },
  overcommit: Overcommit,
): string | undefined {
  let best: { node: string; free: number } | undefined;
  for (const node of candidates) {
    const usage = report.nodes.find((n) => n.node === node);
    if (!usage) continue;
    const free = Math.floor(usage.memoryMiB * overcommit.memory) - usage.memoryAllocatedMiB;
    if (free < need.memoryMiB) continue;
    const pool = report.pools.find((p) => p.pool === need.storage && (p.scope === SHARED || p.scope === node));
    if (!pool || Math.floor(pool.capacityGiB * overcommit.storage) - pool.allocatedGiB < need.diskGiB) continue;
    if (!best || free > best.free) best = { node, free };
  }
  return best?.node;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
