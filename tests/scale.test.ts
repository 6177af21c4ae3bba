/**
 * Scale properties that must hold at any size (npm run bench measures the costs): customers never
 * depend on each other, so the graph's depth does not grow with N; no provider invokes at all; the
 * resources per customer are constant. Runs the bench stack (21 nodes, two zones) at two sizes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { graphDepth } from "../lib/bench/graph";
import { BENCH_CLUSTER, writeBenchCustomers } from "../lib/bench/generateCustomers";
import { SITES_PER_TURN } from "../lib/declareInTurns";
import { offlinePlan } from "./helpers/offlinePlan";

const work = mkdtempSync(join(tmpdir(), "scale-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function planWith(n: number) {
  const dir = join(work, `c${n}`);
  writeBenchCustomers(dir, n, BENCH_CLUSTER);
  return offlinePlan({ stack: "bench", customersDir: dir });
}

describe("scale", () => {
  it("depth constant, zero invokes, constant resources per customer (bench stack, 10 vs 40 customers)", async () => {
    const small = await planWith(10);
    const large = await planWith(40);
    expect(small.invokes).toBe(0);
    expect(large.invokes).toBe(0);
    expect(graphDepth(large.resources)).toBe(graphDepth(small.resources));
    // 30 more customers, every fifth premium (HA resource): the same count per five customers
    const perFive = (large.resources.length - small.resources.length) / 6;
    expect(Number.isInteger(perFive)).toBe(true);
    const sites = large.resources.filter((r) => r.type === "nodepoint:customers:WordPressSite");
    expect(sites).toHaveLength(40);
    // no customer resource depends on another customer's resources
    const owner = (urn: string) => /WordPressSite(?:\$[^:]+:[^:]+:[^:]+)*::(site-\d+)/.exec(urn)?.[1];
    let checked = 0;
    for (const r of large.resources) {
      const me = owner(r.urn) ?? (r.parent ? owner(r.parent) : undefined);
      if (!me) continue;
      for (const dep of r.options.dependsOn) {
        const other = owner(dep);
        if (other) {
          checked++;
          expect(other, `${r.name} depends on ${dep}`).toBe(me);
        }
      }
    }
    expect(checked).toBeGreaterThan(40); // each site's own HA resource, firewall, proxy, installer wait on its container
  });

  it(`sites are declared ${SITES_PER_TURN} per turn: the first ones are registered before the later ones exist`, async () => {
    const n = 2 * SITES_PER_TURN + 50;
    const plan = await planWith(n);
    // The plan records registrations in the order the monitor received them.
    const firstContainer = plan.resources.findIndex((r) => r.name === "site-00001-ct");
    const sitesBefore = plan.resources
      .slice(0, firstContainer)
      .filter((r) => r.type === "nodepoint:customers:WordPressSite").length;
    expect(firstContainer).toBeGreaterThan(0);
    expect(sitesBefore).toBeLessThanOrEqual(SITES_PER_TURN);
    // Every site is there all the same, with its stack output.
    expect(plan.resources.filter((r) => r.type === "nodepoint:customers:WordPressSite")).toHaveLength(n);
    expect(Object.keys(plan.outputs["sitesBySlug"] as object)).toHaveLength(n);
  });
});
