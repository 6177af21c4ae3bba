/** The cluster's shape rules, stated once (lib/config/clusterRules.ts), checked directly. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quorumOf, routerRuleProblems } from "../../lib/config/clusterRules";

describe("quorumOf", () => {
  it("is the smallest strict majority of the votes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (nodes) => {
        const q = quorumOf(nodes);
        expect(2 * q).toBeGreaterThan(nodes);
        expect(2 * (q - 1)).toBeLessThanOrEqual(nodes);
      }),
    );
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
  });
});

describe("routerRuleProblems", () => {
  const fields = (g: Parameters<typeof routerRuleProblems>[0]) => routerRuleProblems(g).map((p) => p.field);

  it("the router is privileged and on the WAN; nothing else is either", () => {
    expect(fields({ router: true, privileged: true, networks: ["wan", "lan"] })).toEqual([]);
    expect(fields({ router: false, privileged: false, networks: ["lan"] })).toEqual([]);
    expect(fields({ router: false, networks: ["lan", "dmz"] })).toEqual([]);
    expect(fields({ router: true, privileged: false, networks: ["lan"] })).toEqual(["privileged", "networks"]);
    expect(fields({ router: false, privileged: true, networks: ["wan"] })).toEqual(["networks", "privileged"]);
  });

  it("names the rule broken", () => {
    expect(routerRuleProblems({ router: false, privileged: true, networks: ["lan"] })).toEqual([
      { field: "privileged", message: "only the router container may be privileged" },
    ]);
  });
});
