/**
 * Customers share no mutable resource: adding one (a premium customer with HA, to 30 others) changes no
 * existing resource's inputs or options, checked on plan JSON. Where a resource several sites depend
 * on does change (an IP set of the isolation), the diff names it.
 */
import { afterAll, describe, expect, it } from "vitest";
import { diffPlans } from "../lib/plan/diff";
import { planDocument, type PlanDocument } from "../lib/plan/planJson";
import { byName, offlinePlan, scratchCustomers } from "./helpers/offlinePlan";

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

/** Customer `i` (1-based): premium (HA) every fifth, basic otherwise; nodes alternate (within capacity). */
function customerFile(i: number): [string, string] {
  const slug = `c${String(i).padStart(2, "0")}`;
  const plan = i % 5 === 0 ? "premium" : "basic";
  const text = `domain: ${slug}.nodepoint.eu\nplan: ${plan}\nvmid: ${1000 + i}\nip: 192.168.1.${100 + i}\nnode: node${(i % 2) + 1}\nstate: active\n`;
  return [`${slug}.yaml`, text];
}

const PREMIUM: [string, string] = [
  "zz-premium.yaml",
  "domain: zz-premium.nodepoint.eu\nplan: premium\nvmid: 1031\nip: 192.168.1.131\nnode: node1\nstate: active\n",
];

async function planOf(count: number, extra: Array<[string, string]> = []): Promise<PlanDocument> {
  const files = Object.fromEntries([...Array.from({ length: count }, (_, k) => customerFile(k + 1)), ...extra]);
  const dir = scratchCustomers(files);
  cleanups.push(dir.cleanup);
  return planDocument("prod", (await offlinePlan({ customersDir: dir.dir })).resources);
}

describe("customers never touch each other", () => {
  it("adding a premium customer to 30 others changes no existing resource's inputs or options", async () => {
    const before = await planOf(30);
    const after = await planOf(30, [PREMIUM]);
    expect(before.resources.filter((r) => r.type.endsWith("Haresource"))).toHaveLength(6);
    const now = new Map(after.resources.map((r) => [r.urn, r]));
    for (const r of before.resources) {
      const same = now.get(r.urn);
      expect(same, r.urn).toBeDefined();
      expect(same!.inputs, r.urn).toEqual(r.inputs);
      expect(same!.options, r.urn).toEqual(r.options);
    }
    const d = diffPlans(before, after);
    expect(d.changed).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.warnings).toEqual([]);
    // Everything added is the new customer's own: its site, container, HA resource and HA rule.
    for (const r of d.added) expect(r.urn, r.urn).toMatch(/WordPressSite(\$[^:]+:[^:]+:[^:]+)?::zz-premium/);
    expect(byName(d.added, "zz-premium-ha-rule", "Harule").inputs).toMatchObject({
      rule: "rule-1031",
      resources: ["ct:1031"],
    });
    expect(byName(d.added, "zz-premium-ha", "Haresource").inputs["resourceId"]).toBe("ct:1031");
  });

  it("a change to a resource several sites depend on is named as shared in the diff", async () => {
    const before = await planOf(3);
    const after = JSON.parse(JSON.stringify(before)) as PlanDocument;
    const proxy = after.resources.find((r) => r.name === "customer-isolation-nodepoint-proxy")!;
    proxy.inputs["cidrs"] = [{ name: "192.168.1.250" }];
    const d = diffPlans(before, after);
    expect(d.warnings).toEqual([
      expect.stringMatching(
        /^REPLACES customer-isolation-nodepoint-proxy \(IpsetLegacy\): cidrs.*Steps, in order: 1\. delete customer-isolation-nodepoint-proxy \(IpsetLegacy\); 2\. create customer-isolation-nodepoint-proxy \(IpsetLegacy\)\.$/,
      ),
      "SHARED customer-isolation-nodepoint-proxy (IpsetLegacy): 3 customer sites depend on it; this change reaches every one of them.",
    ]);
  });
});
