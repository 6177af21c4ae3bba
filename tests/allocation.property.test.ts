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

describe("placement and capacity", () => {
  const pools = [{ id: "drbd", shared: true, nodes: ["a", "b"], capacityGiB: { a: 500, b: 500 }, usedGiB: {} }];
  const node = fc.record({
    cores: fc.integer({ min: 1, max: 64 }),
    memoryMiB: fc.integer({ min: 4096, max: 262144 }),
    memoryUsedMiB: fc.integer({ min: 0, max: 262144 }),
  });
  const overcommit = fc.record({
    cpu: fc.double({ min: 0.5, max: 8, noNaN: true }),
    memory: fc.double({ min: 0.5, max: 2, noNaN: true }),
    storage: fc.constant(1),
  });
  const need = fc.record({
    cores: fc.integer({ min: 1, max: 8 }),
    memoryMiB: fc.integer({ min: 256, max: 16384 }),
    diskGiB: fc.integer({ min: 1, max: 60 }),
  });
  // Guests that ran when the node was measured (adopted), on node a.
  const measuredGuests = fc.array(
    fc.record({ cores: fc.integer({ min: 1, max: 16 }), memoryMiB: fc.integer({ min: 512, max: 65536 }) }),
    {
      maxLength: 3,
    },
  );

  it("placing guests until refused never exceeds any limit (cores, memory with the measured use, disk), and picks the node with most free memory", () => {
    fc.assert(
      fc.property(
        node,
        node,
        overcommit,
        measuredGuests,
        fc.array(need, { maxLength: 60 }),
        (a, b, ratios, adopted, needs) => {
          const nodes = [
            { name: "a", ...a },
            { name: "b", ...b },
          ];
          const placed: GuestAllocation[] = adopted.map((g, i) => ({
            owner: `adopted${i}`,
            node: "a",
            measured: true,
            ...g,
          }));
          const start = capacityReport(nodes, pools, placed, ratios);
          for (const n of needs) {
            const report = capacityReport(nodes, pools, placed, ratios);
            const chosen = placeGuest(report, ["a", "b"], { ...n, storage: "drbd" });
            const fits = (name: string) => {
              const u = report.nodes.find((x) => x.node === name)!;
              const pool = report.pools[0]!;
              return (
                u.coresLimit - u.coresAllocated >= n.cores &&
                u.memoryLimitMiB - u.memoryCommittedMiB >= n.memoryMiB &&
                pool.limitGiB - pool.allocatedGiB >= n.diskGiB
              );
            };
            if (!chosen) {
              expect(fits("a") || fits("b")).toBe(false);
              continue;
            }
            expect(fits(chosen)).toBe(true);
            const free = (name: string) => {
              const u = report.nodes.find((x) => x.node === name)!;
              return u.memoryLimitMiB - u.memoryCommittedMiB;
            };
            for (const other of ["a", "b"]) if (fits(other)) expect(free(chosen)).toBeGreaterThanOrEqual(free(other));
            placed.push({
              owner: `g${placed.length}`,
              node: chosen,
              cores: n.cores,
              memoryMiB: n.memoryMiB,
              disk: { storage: "drbd", sizeGiB: n.diskGiB },
            });
          }
          const final = capacityReport(nodes, pools, placed, ratios);
          for (const u of final.nodes) {
            const before = start.nodes.find((x) => x.node === u.node)!;
            // Whatever was over its limit before placement, placement added nothing to it.
            if (u.coresAllocated > before.coresAllocated) expect(u.coresAllocated).toBeLessThanOrEqual(u.coresLimit);
            if (u.memoryCommittedMiB > before.memoryCommittedMiB)
              expect(u.memoryCommittedMiB).toBeLessThanOrEqual(u.memoryLimitMiB);
          }
          for (const p of final.pools) expect(p.allocatedGiB).toBeLessThanOrEqual(p.limitGiB);
        },
      ),
    );
  });

  it("a node carries the measured use, or what the adopted guests allocate when more, plus the guests declared since", () => {
    fc.assert(
      fc.property(node, measuredGuests, fc.array(need, { maxLength: 10 }), (a, adopted, added) => {
        const guests: GuestAllocation[] = [
          ...adopted.map((g, i) => ({ owner: `adopted${i}`, node: "a", measured: true, ...g })),
          ...added.map((g, i) => ({ owner: `new${i}`, node: "a", cores: g.cores, memoryMiB: g.memoryMiB })),
        ];
        const [u] = capacityReport([{ name: "a", ...a }], [], guests, { cpu: 1, memory: 1, storage: 1 }).nodes;
        const sum = (xs: Array<{ memoryMiB: number }>) => xs.reduce((t, g) => t + g.memoryMiB, 0);
        expect(u!.memoryCommittedMiB).toBe(Math.max(a.memoryUsedMiB, sum(adopted)) + sum(added));
        expect(u!.memoryAllocatedMiB).toBe(sum(adopted) + sum(added));
        expect(u!.coresAllocated).toBe([...adopted, ...added].reduce((t, g) => t + g.cores, 0));
      }),
    );
  });

  it("the seed's cluster: a new customer goes to node2, not to node1 whose measured use (92.8 of 128 GB) leaves less room; CPU fills node2 at 48 vCPUs", () => {
    const seedNodes = [
      { name: "node1", cores: 56, memoryMiB: 131072, memoryUsedMiB: 95027 },
      { name: "node2", cores: 12, memoryMiB: 131072, memoryUsedMiB: 34714 },
    ];
    const drbd = [
      {
        id: "global-lvm",
        shared: true,
        nodes: ["node1", "node2"],
        capacityGiB: { node1: 1771, node2: 1771 },
        usedGiB: { node1: 158, node2: 158 },
      },
    ];
    const vm100: GuestAllocation = {
      owner: "VM 100 ispconfig",
      node: "node2",
      cores: 12,
      memoryMiB: 65536,
      measured: true,
    };
    const ratios = { cpu: 4, memory: 1.25, storage: 1 };
    const basic = { cores: 2, memoryMiB: 2048, diskGiB: 20, storage: "global-lvm" };
    const placed: GuestAllocation[] = [vm100];
    const order: string[] = [];
    for (let i = 0; i < 30; i++) {
      const where = placeGuest(capacityReport(seedNodes, drbd, placed, ratios), ["node1", "node2"], basic);
      order.push(where ?? "-");
      placed.push({
        owner: `c${i}`,
        node: where!,
        cores: 2,
        memoryMiB: 2048,
        disk: { storage: "global-lvm", sizeGiB: 20 },
      });
    }
    // Free memory: node2 160 GiB limit − VM 100's 64 GiB = 96; node1 160 − 92.8 measured = 67.2. node2
    // takes the first 15 alone (96 − 15 × 2 = 66 < 67.2), then the two alternate until node2's 48
    // vCPUs (12 × 4) are allocated: VM 100's 12 + 18 customers of 2. Every later one goes to node1.
    expect(order.slice(0, 15)).toEqual(Array(15).fill("node2"));
    expect(order.filter((n) => n === "node2")).toHaveLength(18);
    expect(order.slice(21)).toEqual(Array(9).fill("node1"));
  });
});
