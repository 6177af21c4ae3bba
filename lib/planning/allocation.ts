/**
 * Pure allocation of customer VMIDs and LAN addresses. No I/O; property-tested in
 * tests/allocation.property.test.ts ("never a used value, always in range, lowest first").
 */
import { intToIp, ipToInt } from "../net/ipv4";

export interface IntRange {
  first: number;
  last: number;
}

/** The lowest integer in `range` not in `used`, or undefined when the range is exhausted. */
export function lowestFree(range: IntRange, used: ReadonlySet<number>): number | undefined {
  for (let n = range.first; n <= range.last; n++) if (!used.has(n)) return n;
  return undefined;
}

/** The lowest free VMID in the customer range; infrastructure VMIDs count as used. */
export function allocateVmid(range: IntRange, used: Iterable<number>): number | undefined {
  return lowestFree(range, new Set(used));
}

/**
 * The lowest free address in `[first, last]`. `used` holds customer addresses already taken;
 * `reserved` the node, gateway and infrastructure addresses that are never handed out.
 */
export function allocateIp(
  pool: { first: string; last: string },
  used: Iterable<string>,
  reserved: Iterable<string>,
): string | undefined {
  const taken = new Set<number>();
  for (const ip of used) taken.add(ipToInt(ip));
  for (const ip of reserved) taken.add(ipToInt(ip));
  const n = lowestFree({ first: ipToInt(pool.first), last: ipToInt(pool.last) }, taken);
  return n === undefined ? undefined : intToIp(n);
}
