/**
 * The deploy's scope (lib/plan/deployTargets.ts): one customer's change targets that customer's
 * resources, as many at 10 sites as at 40 (the bench shows 10 and 1,000); a shared change, a change
 * of anything but customers, or no deployed desired state deploys the whole stack.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { BENCH_CLUSTER, writeBenchCustomers } from "../lib/bench/generateCustomers";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { deployScope } from "../lib/plan/deployTargets";
import type { RecordedResource } from "../lib/plan/offlineRuntime";
import { offlinePlan } from "./helpers/offlinePlan";

const scratch = mkdtempSync(join(tmpdir(), "deploy-scope-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CUSTOMER_PUSH = ["customers/bench/site-00002.yaml", "desired-state/bench.json"];

/** The bench stack's plan of `n` generated customers, `edit` applied to their files first. */
async function planOf(n: number, edit: (dir: string) => void = () => {}): Promise<RecordedResource[]> {
  const dir = mkdtempSync(join(scratch, `customers-${n}-`));
  writeBenchCustomers(dir, n, BENCH_CLUSTER);
  edit(dir);
  return (await offlinePlan({ stack: "bench", customersDir: dir })).resources;
}

const upgrade = (dir: string) => {
  const file = join(dir, "site-00002.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace("plan: standard", "plan: premium"));
};
const remove = (dir: string) => rmSync(join(dir, "site-00002.yaml"));

describe("a push that changes customers only", () => {
  test("one customer's change targets that customer's resources, as many at 10 sites as at 40", async () => {
    const sizes: number[] = [];
    for (const n of [10, 40]) {
      const scope = deployScope(await planOf(n), await planOf(n, upgrade), CUSTOMER_PUSH);
      expect(scope.mode, JSON.stringify(scope)).toBe("targeted");
      if (scope.mode !== "targeted") return;
      expect(scope.customers).toEqual(["site-00002"]);
      expect(scope.targets.every((urn) => urn.includes("site-00002"))).toBe(true);
      expect(scope.targets.some((urn) => urn.endsWith(`${COMPONENT_TYPES.wordPressSite}::site-00002`))).toBe(true);
      sizes.push(scope.targets.length);
    }
    expect(sizes[0]).toBeGreaterThan(5);
    expect(sizes[1]).toBe(sizes[0]);
  });

  test("a removed customer's resources are targeted (the targeted update deletes them); an added one's too", async () => {
    const [all, without] = [await planOf(10), await planOf(10, remove)];
    const removed = deployScope(all, without, CUSTOMER_PUSH);
    const added = deployScope(without, all, CUSTOMER_PUSH);
    const ofSite = all
      .filter((r) => r.urn.includes("site-00002"))
      .map((r) => r.urn)
      .sort();
    expect(removed).toEqual({ mode: "targeted", customers: ["site-00002"], targets: ofSite });
    expect(added).toEqual({ mode: "targeted", customers: ["site-00002"], targets: ofSite });
  });

  test("nothing changed: nothing targeted", async () => {
    const plan = await planOf(10);
    expect(deployScope(plan, plan, CUSTOMER_PUSH)).toEqual({ mode: "targeted", customers: [], targets: [] });
  });
});

describe("the whole stack", () => {
  test("when a shared resource changes, naming it", async () => {
    const before = await planOf(10);
    const after = before.map((r) =>
      r.parent.includes(COMPONENT_TYPES.wordPressSite) || r.type === COMPONENT_TYPES.wordPressSite
        ? r
        : { ...r, inputs: { ...r.inputs, comment: "changed" } },
    );
    const scope = deployScope(before, after, CUSTOMER_PUSH);
    expect(scope.mode).toBe("full");
    expect(scope.mode === "full" && scope.reason).toMatch(/^shared resources change: urn:pulumi:bench::/);
  });

  test("when the push changes anything but customers and their desired state, or there is no desired state before", async () => {
    const [before, after] = [await planOf(10), await planOf(10, upgrade)];
    expect(deployScope(before, after, [...CUSTOMER_PUSH, "lib/npm/proxyHostProvider.ts"])).toEqual({
      mode: "full",
      reason: "the push changes more than customers and their desired state: lib/npm/proxyHostProvider.ts",
    });
    expect(deployScope(undefined, after, CUSTOMER_PUSH)).toEqual({
      mode: "full",
      reason: "no deployed desired state to compare with",
    });
  });
});
