import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { intToIp, ipToInt } from "../net/ipv4";

export interface BenchClusterShape {
  /** Zones customers are spread over. */
  zones: readonly string[];
  /** Nodes with the customer storage, round-robin. */
  nodes: readonly string[];
  vmidFirst: number;
  ipFirst: string;
}

/** The bench stack's cluster (Pulumi.bench.yaml): its zones, its 20 nodes with the DRBD pool, its pools' first IDs. */
export const BENCH_CLUSTER: BenchClusterShape = {
  zones: ["bench-one.example", "bench-two.example"],
  nodes: Array.from({ length: 20 }, (_, i) => `bnode${String(i + 1).padStart(2, "0")}`),
  vmidFirst: 1000,
  ipFirst: "10.20.1.0",
};

/** Writes `n` valid customer files (every fifth premium with HA) into `dir`. */
export function writeBenchCustomers(dir: string, n: number, shape: BenchClusterShape): void {
  mkdirSync(dir, { recursive: true });
  const ip0 = ipToInt(shape.ipFirst);
  for (let i = 0; i < n; i++) {
    const slug = `site-${String(i + 1).padStart(5, "0")}`;
    const zone = shape.zones[i % shape.zones.length]!;
    const node = shape.nodes[i % shape.nodes.length]!;
    const plan = i % 5 === 4 ? "premium" : "standard";
    writeFileSync(
      join(dir, `${slug}.yaml`),
      `domain: ${slug}.${zone}\nplan: ${plan}\nvmid: ${shape.vmidFirst + i}\nip: ${intToIp(ip0 + i)}\nnode: ${node}\n`,
    );
  }
}

/**
 * A fictional stack is refused under the engine (lib/config/realRun.ts): for measuring the program
 * only, it is run as if deployable, with a public address and random-looking zone IDs. Nothing is
 * contacted: the engine is the fake one.
 */
export function benchUnderTheEngine(): Record<string, string> {
  const zoneId = (seed: number) =>
    Array.from({ length: 32 }, (_, i) => ((seed * 7 + i * 11) % 16).toString(16)).join("");
  return {
    "nodepoint:deploy": "true",
    "nodepoint:ingress": JSON.stringify({ publicIp: "203.0.114.20" }),
    "nodepoint:cloudflare": JSON.stringify({
      zones: { [BENCH_CLUSTER.zones[0]!]: zoneId(3), [BENCH_CLUSTER.zones[1]!]: zoneId(5) },
      proxied: true,
    }),
  };
}
