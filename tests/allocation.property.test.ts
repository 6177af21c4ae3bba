/** Allocation and placement are pure; these properties hold for any pool and any prior allocation. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateIp, allocateVmid } from "../lib/planning/allocation";
import { capacityReport, placeGuest, type GuestAllocation } from "../lib/planning/capacity";
import { intToIp, ipToInt } from "../lib/net/ipv4";

describe("VMID and IP allocation", () => {
  it("allocating one by one never repeats a VMID, stays in range, and takes the lowest free", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 5000 }),
        fc.integer({ min: 0, max: 60 }),
        fc.uniqueArray(fc.integer({ min: 100, max: 5100 }), { maxLength: 40 }),
        (first, width, preUsed) => {
          const range = { first, last: first + width };
          const used = new Set(preUsed);
          for (;;) {
            const v = allocateVmid(range, used);
            if (v === undefined) {
              for (let n = range.first; n <= range.last; n++) expect(used.has(n)).toBe(true);
              return;
            }
            expect(v).toBeGreaterThanOrEqual(range.first);
            expect(v).toBeLessThanOrEqual(range.last);
            expect(used.has(v)).toBe(false);
            for (let n = range.first; n < v; n++) expect(used.has(n)).toBe(true);
            used.add(v);
          }
        },
      ),
    );
  });

  it("IPs: never a used or reserved address, always inside the pool, exhausted only when full", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: ipToInt("10.0.0.0"), max: ipToInt("10.0.255.0") }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 45 }), { maxLength: 15 }),
        (base, width, reservedOffsets) => {
          const pool = { first: intToIp(base), last: intToIp(base + width) };
          const reserved = reservedOffsets.map((o) => intToIp(base + o));
          const used: string[] = [];
          for (;;) {
            const ip = allocateIp(pool, used, reserved);
            if (ip === undefined) {
              expect(used.length + new Set(reserved.filter((r) => ipToInt(r) <= base + width)).size).toBe(width + 1);
              return;
            }
            const n = ipToInt(ip);
            expect(n).toBeGreaterThanOrEqual(base);
            expect(n).toBeLessThanOrEqual(base + width);
            expect(used).not.toContain(ip);
            expect(reserved).not.toContain(ip);
            used.push(ip);
          }
        },
      ),
    );
  });
});

describe("placement", () => {
  const nodes = [
    { name: "a", cores: 56, memoryMiB: 131072 },
    { name: "b", cores: 12, memoryMiB: 65536 },
  ];
  const pools = [{ id: "drbd", shared: true, nodes: ["a", "b"], capacityGiB: { a: 500, b: 500 }, usedGiB: {} }];

  it("placing guests until refused never exceeds capacity × overcommit, and picks the node with most free memory", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ memoryMiB: fc.integer({ min: 256, max: 16384 }), diskGiB: fc.integer({ min: 1, max: 60 }) }),
          { maxLength: 60 },
        ),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (needs, ratio) => {
          const overcommit = { memory: ratio, storage: 1 };
          const placed: GuestAllocation[] = [];
          for (const need of needs) {
            const report = capacityReport(nodes, pools, placed);
            const node = placeGuest(report, ["a", "b"], { ...need, storage: "drbd" }, overcommit);
            if (!node) continue;
            const free = (n: string) => {
              const u = report.nodes.find((x) => x.node === n)!;
              return Math.floor(u.memoryMiB * ratio) - u.memoryAllocatedMiB;
            };
            for (const other of ["a", "b"])
              if (free(other) >= need.memoryMiB) expect(free(node)).toBeGreaterThanOrEqual(free(other));
            placed.push({
              owner: `g${placed.length}`,
              node,
              cores: 1,
              memoryMiB: need.memoryMiB,
              disk: { storage: "drbd", sizeGiB: need.diskGiB },
            });
          }
          const final = capacityReport(nodes, pools, placed);
          for (const n of final.nodes)
            expect(n.memoryAllocatedMiB).toBeLessThanOrEqual(Math.floor(n.memoryMiB * ratio));
          for (const p of final.pools) expect(p.allocatedGiB).toBeLessThanOrEqual(p.capacityGiB);
        },
      ),
    );
  });
});
