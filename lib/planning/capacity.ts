/**
 * Pure capacity accounting: what each node and storage pool carries (what was measured on the live
 * cluster, plus the guests declared here), against its limit (physical capacity × the overcommit
 * ratio of that resource). Drives the plan's capacity table, the capacity check of validation and
 * the placement of new customers. No I/O.
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
  /**
   * The guest ran when the node's memory use was measured (an adopted guest of the seed): its use
   * is part of the measured figure, so it is not added on top of it.
   */
  measured?: boolean;
}

export interface NodeCapacity {
  name: string;
  cores: number;
  memoryMiB: number;
  /** Memory the node was measured using (the seed's node table); 0 when unknown. */
  memoryUsedMiB?: number;
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

/** Allowed allocation as a multiple of physical capacity, per resource. */
export interface Overcommit {
  cpu: number;
  memory: number;
  storage: number;
}

export interface NodeUsage {
  node: string;
  /** Declared guests on the node. */
  guests: number;
  /** Cores the declared guests allocate. */
  coresAllocated: number;
  /** Physical cores. */
  cores: number;
  /** Most cores the guests may allocate: physical × `overcommit.cpu`. */
  coresLimit: number;
  /** Memory the declared guests allocate. */
  memoryAllocatedMiB: number;
  /** Memory the node was measured using. */
  memoryMeasuredMiB: number;
  /**
   * What the node carries: the measured use, or what the guests that ran then allocate when that
   * is more, plus every guest declared since. This is what the limit is checked against.
   */
  memoryCommittedMiB: number;
  /** Physical memory. */
  memoryMiB: number;
  /** Most memory the node may carry: physical × `overcommit.memory`. */
  memoryLimitMiB: number;
}

export interface PoolUsage {
  pool: string;
  /** The node, or `shared` for a shared pool. */
  scope: string;
  /** Used space the seed reports plus the declared disks. */
  allocatedGiB: number;
  capacityGiB: number;
  /** Most space the disks may take: capacity × `overcommit.storage`. */
  limitGiB: number;
}

export interface CapacityReport {
  /** The ratios the limits were computed with. */
  overcommit: Overcommit;
  nodes: NodeUsage[];
  pools: PoolUsage[];
}

const SHARED = "shared";

export function capacityReport(
  nodes: readonly NodeCapacity[],
  pools: readonly PoolCapacity[],
  guests: readonly GuestAllocation[],
  overcommit: Overcommit,
): CapacityReport {
  const nodeUsage = new Map(
    nodes.map((n) => {
      const onNode = guests.filter((g) => g.node === n.name);
      const sum = (list: readonly GuestAllocation[], pick: (g: GuestAllocation) => number) =>
        list.reduce((total, g) => total + pick(g), 0);
      const measuredGuests = sum(
        onNode.filter((g) => g.measured),
        (g) => g.memoryMiB,
      );
      const memoryMeasuredMiB = n.memoryUsedMiB ?? 0;
      const usage: NodeUsage = {
        node: n.name,
        guests: onNode.length,
        coresAllocated: sum(onNode, (g) => g.cores),
        cores: n.cores,
        coresLimit: Math.floor(n.cores * overcommit.cpu),
        memoryAllocatedMiB: sum(onNode, (g) => g.memoryMiB),
        memoryMeasuredMiB,
        memoryCommittedMiB:
          Math.max(memoryMeasuredMiB, measuredGuests) +
          sum(
            onNode.filter((g) => !g.measured),
            (g) => g.memoryMiB,
          ),
        memoryMiB: n.memoryMiB,
        memoryLimitMiB: Math.floor(n.memoryMiB * overcommit.memory),
      };
      return [n.name, usage] as const;
    }),
  );
  const poolUsage = new Map<string, PoolUsage>();
  const addPool = (key: string, pool: string, scope: string, usedGiB: number, capacityGiB: number) =>
    poolUsage.set(key, {
      pool,
      scope,
      allocatedGiB: usedGiB,
      capacityGiB,
      limitGiB: Math.floor(capacityGiB * overcommit.storage),
    });
  for (const p of pools) {
    if (p.shared) {
      const first = p.nodes[0] ?? "";
      addPool(`${p.id}@${SHARED}`, p.id, SHARED, p.usedGiB[first] ?? 0, p.capacityGiB[first] ?? 0);
    } else {
      for (const n of p.nodes) addPool(`${p.id}@${n}`, p.id, n, p.usedGiB[n] ?? 0, p.capacityGiB[n] ?? 0);
    }
  }
  for (const g of guests) {
    if (!g.disk) continue;
    const pool = poolUsage.get(`${g.disk.storage}@${SHARED}`) ?? poolUsage.get(`${g.disk.storage}@${g.node}`);
    if (pool) pool.allocatedGiB = round(pool.allocatedGiB + g.disk.sizeGiB);
  }
  return { overcommit, nodes: [...nodeUsage.values()], pools: [...poolUsage.values()] };
}

/** One figure above its limit. */
export interface CapacityExcess {
  kind: "cpu" | "memory" | "storage";
  /** Node name, or `pool@scope`. */
  where: string;
  allocated: number;
  /** Physical capacity, and the ratio that makes the limit. */
  capacity: number;
  ratio: number;
  limit: number;
  unit: "cores" | "MiB" | "GiB";
}

export function capacityExcesses(report: CapacityReport): CapacityExcess[] {
  const { cpu, memory, storage } = report.overcommit;
  const out: CapacityExcess[] = [];
  for (const n of report.nodes) {
    if (n.coresAllocated > n.coresLimit)
      out.push({
        kind: "cpu",
        where: n.node,
        allocated: n.coresAllocated,
        capacity: n.cores,
        ratio: cpu,
        limit: n.coresLimit,
        unit: "cores",
      });
    if (n.memoryCommittedMiB > n.memoryLimitMiB)
      out.push({
        kind: "memory",
        where: n.node,
        allocated: n.memoryCommittedMiB,
        capacity: n.memoryMiB,
        ratio: memory,
        limit: n.memoryLimitMiB,
        unit: "MiB",
      });
  }
  for (const p of report.pools) {
    if (p.allocatedGiB > p.limitGiB)
      out.push({
        kind: "storage",
        where: `${p.pool}@${p.scope}`,
        allocated: p.allocatedGiB,
        capacity: p.capacityGiB,
        ratio: storage,
        limit: p.limitGiB,
        unit: "GiB",
      });
  }
  return out;
}

/** What a new guest needs. */
export interface GuestNeed {
  cores: number;
  memoryMiB: number;
  diskGiB: number;
  /** The pool its root disk goes to. */
  storage: string;
}

/** Free room on a node for cores and memory (limit − what it carries), and in its pool for `storage`. */
export function freeRoom(
  report: CapacityReport,
  node: string,
  storage: string,
): { cores: number; memoryMiB: number; diskGiB: number } | undefined {
  const usage = report.nodes.find((n) => n.node === node);
  const pool = report.pools.find((p) => p.pool === storage && (p.scope === SHARED || p.scope === node));
  if (!usage || !pool) return undefined;
  return {
    cores: usage.coresLimit - usage.coresAllocated,
    memoryMiB: usage.memoryLimitMiB - usage.memoryCommittedMiB,
    diskGiB: pool.limitGiB - pool.allocatedGiB,
  };
}

/**
 * Placement of a new customer: among `candidates`, the node with the most free memory (its limit
 * minus what it carries, measured use included) on which the new guest fits in cores, memory and
 * its disk's pool. Ties go to the earlier candidate. Undefined when no node has room.
 */
export function placeGuest(report: CapacityReport, candidates: readonly string[], need: GuestNeed): string | undefined {
  let best: { node: string; free: number } | undefined;
  for (const node of candidates) {
    const free = freeRoom(report, node, need.storage);
    if (!free || free.cores < need.cores || free.memoryMiB < need.memoryMiB || free.diskGiB < need.diskGiB) continue;
    if (!best || free.memoryMiB > best.free) best = { node, free: free.memoryMiB };
  }
  return best?.node;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
