/** The SDK floor's grouping (lib/bench/sdkFloor.ts): what one component declared, in order. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupsByParent } from "../lib/bench/sdkFloor";

const record = fc.record({
  type: fc.constantFrom(
    "proxmoxve:index/containerLegacy:ContainerLegacy",
    "random:index/randomPassword:RandomPassword",
  ),
  name: fc.string({ minLength: 1, maxLength: 6 }),
  parent: fc.constantFrom("", "urn:a", "urn:b", "urn:c"),
  custom: fc.boolean(),
  inputs: fc.constant({}),
});

describe("groupsByParent", () => {
  it("partitions the custom resources by parent, each group in record order, groups by first appearance", () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), (records) => {
        const groups = groupsByParent(records);
        const customs = records.filter((r) => r.custom);
        expect(groups.flat()).toHaveLength(customs.length);
        for (const group of groups) {
          expect(group.length).toBeGreaterThan(0);
          expect(new Set(group.map((r) => r.parent)).size).toBe(1);
          expect(group).toEqual(customs.filter((r) => r.parent === group[0]!.parent));
        }
        expect(groups.map((g) => g[0]!.parent)).toEqual([...new Set(customs.map((r) => r.parent))]);
      }),
    );
  });

  it("drops components: only custom resources are registered", () => {
    const site = { type: "nodepoint:customers:WordPressSite", name: "s", parent: "", custom: false, inputs: {} };
    const ct = { ...site, type: "proxmoxve:index/containerLegacy:ContainerLegacy", parent: "urn:s", custom: true };
    expect(groupsByParent([site, ct])).toEqual([[ct]]);
  });
});
