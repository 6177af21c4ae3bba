import ipaddr from "ipaddr.js";

/** An IPv4 address as an unsigned 32-bit integer, for range arithmetic. */
export function ipToInt(ip: string): number {
  const [a, b, c, d] = ipaddr.IPv4.parse(ip).octets as [number, number, number, number];
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** True when `ip` lies inside `cidr` (e.g. `192.168.1.0/24`). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bits] = ipaddr.IPv4.parseCIDR(cidr);
  return ipaddr.IPv4.parse(ip).match(net, bits);
}

/** Prefix length of a CIDR. */
export function prefixLength(cidr: string): number {
  return ipaddr.IPv4.parseCIDR(cidr)[1];
}

/** Network and broadcast addresses of a CIDR: never assignable to a host. */
export function reservedAddresses(cidr: string): [string, string] {
  const [net, bits] = ipaddr.IPv4.parseCIDR(cidr);
  const base = ipToInt(net.toString()) & (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0);
  const size = 2 ** (32 - bits);
  return [intToIp(base >>> 0), intToIp((base + size - 1) >>> 0)];
}
