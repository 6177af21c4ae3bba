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
