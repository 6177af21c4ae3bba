/**
 * The customer sites under `pulumi up` (index.ts through cmd/run against the fake engine):
 * at most SITES_IN_FLIGHT of them declared and not yet answered (lib/declareInTurns.ts), every
 * site declared all the same when the engine refuses their registrations, and a refusal reported
 * without the SDK's per-promise stack traces (off once the inputs are valid, index.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BENCH_CLUSTER, benchUnderTheEngine, writeBenchCustomers } from "../../lib/bench/generateCustomers";
import { SITES_IN_FLIGHT } from "../../lib/declareInTurns";
import { TYPES } from "../../lib/providerFacts";
import type { ResourceHandler } from "../../lib/runtimePath/fakeEngine";
import { runStack } from "../../lib/runtimePath/languageHost";
import { realisticCreate } from "../../lib/runtimePath/realisticOutputs";
import { fixtureProject } from "../helpers/fixtureProject";

const NO_LIMIT = 0;
const SITES = 2 * SITES_IN_FLIGHT + 10;
let project: ReturnType<typeof fixtureProject> | undefined;
let customersDir: string;
beforeAll(() => {
  project = fixtureProject();
  customersDir = join(mkdtempSync(join(tmpdir(), "pacing-")), "customers");
  writeBenchCustomers(customersDir, SITES, BENCH_CLUSTER);
});
afterAll(() => {
  project?.cleanup();
  rmSync(join(customersDir, ".."), { recursive: true, force: true });
});

const upWith = (create: ResourceHandler) =>
  runStack({
    root: project!.root,
    stack: "bench",
    dryRun: false,
    configOverrides: { ...benchUnderTheEngine(), "nodepoint:customersDir": customersDir },
    create,
  });

/** The site a customer resource belongs to (`site-00001`), from its URN. */
const siteOf = (urn: string) => /::(site-\d{5})/.exec(urn)?.[1];

describe("customer sites under pulumi up", () => {
  test(
    `at most ${SITES_IN_FLIGHT} sites have registrations the engine has not answered, and every site is declared`,
    async () => {
      // Each site's registrations as the engine sees them: a site is open from its first
      // registration to the answer to its last. Containers take a moment to create, as on PVE.
      const open = new Map<string, number>();
      let mostOpen = 0;
      const create: ResourceHandler = async (req) => {
        const site = siteOf(req.urn);
        if (site) open.set(site, (open.get(site) ?? 0) + 1);
        mostOpen = Math.max(mostOpen, open.size);
        try {
          if (req.type === TYPES.container) await new Promise((r) => setTimeout(r, 100));
          return await realisticCreate(req);
        } finally {
          if (site) {
            const left = open.get(site)! - 1;
            if (left === 0) open.delete(site);
            else open.set(site, left);
          }
        }
      };
      const run = await upWith(create);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.engine.resources.filter((r) => r.type === TYPES.container && siteOf(r.urn))).toHaveLength(SITES);
      expect(mostOpen).toBeGreaterThan(1);
      expect(mostOpen).toBeLessThanOrEqual(SITES_IN_FLIGHT);
    },
    NO_LIMIT,
  );

  test(
    "the engine refusing every customer container: every site is still declared, and the run fails",
    async () => {
      const create: ResourceHandler = async (req) => {
        if (req.type === TYPES.container && siteOf(req.urn))
          throw new Error(`403 Permission check failed (${req.name})`);
        return realisticCreate(req);
      };
      const run = await upWith(create);
      expect(run.exitCode).not.toBe(0);
      const errors = run.engine.logs.filter((l) => l.severity === "error").map((l) => l.message);
      expect(errors.join("\n")).toContain("403 Permission check failed");
      const containers = run.engine.resources.filter((r) => r.type === TYPES.container && siteOf(r.urn));
      expect(new Set(containers.map((r) => siteOf(r.urn))).size).toBe(SITES);
    },
    NO_LIMIT,
  );

  test(
    "a refused infrastructure registration is reported as its message, without the SDK's stack frames",
    async () => {
      // With frames (taken where the resource was declared), the SDK's report of the error
      // (cmd/run/error.js, util.inspect under ts-node) took 8-9 s of garbage collection, three times.
      const create: ResourceHandler = async (req) => {
        if (req.name === "router-ct-100") throw new Error("403 Permission check failed (router-ct-100)");
        return realisticCreate(req);
      };
      const run = await upWith(create);
      expect(run.exitCode).not.toBe(0);
      const reports = run.engine.logs.filter((l) => l.severity === "error" && l.message.includes("router-ct-100"));
      expect(reports.length).toBeGreaterThan(0);
      for (const report of reports) expect(report.message).not.toMatch(/\n\s+at /);
    },
    NO_LIMIT,
  );
});
