/**
 * What the state keeps per customer site (issue 13): at most SITE_INPUT_BUDGET bytes of stored
 * inputs, measured on the real path (index.ts through cmd/run, `pulumi up` with real-sized computed
 * values: keys, passwords), in the checkpoint's form (secrets encrypted, file assets as path and
 * hash). A site once stored 44 KB: the serialized NPM provider and the installer script, per site.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SITE_INPUT_BUDGET, siteInputBytes } from "../../lib/bench/stateCost";
import { checkpointBytes } from "../../lib/runtimePath/checkpoint";
import { TYPES } from "../../lib/providerFacts";
import { runStack, type StackRunResult } from "../../lib/runtimePath/languageHost";
import { realisticCreate } from "../../lib/runtimePath/realisticOutputs";
import { fixtureProject } from "../helpers/fixtureProject";
import { REAL_RUN_CONFIG } from "../helpers/offlinePlan";

const NO_LIMIT = 0;
let run: StackRunResult;
let project: ReturnType<typeof fixtureProject> | undefined;
beforeAll(async () => {
  project = fixtureProject(); // the fixtures and their desired state: never the project's own customers/
  run = await runStack({
    root: project.root,
    stack: "prod",
    dryRun: false,
    configOverrides: { "nodepoint:customersDir": "tests/fixtures/customers", ...REAL_RUN_CONFIG },
    create: realisticCreate,
  });
}, NO_LIMIT);
afterAll(() => project?.cleanup());

describe("state per customer site", () => {
  /**
   * The restore point `initial` (issue 15) adds 559-561 bytes per site, 307 of them the customer token's
   * connection: the token is made by the program (AutomationAccess), so it is not in the stack config
   * the engine hands dynamic providers, and its provider checks the container through that token's
   * view. Everything else of a site must fit the budget; the whole site does not yet (README, "Cost
   * on the real path").
   */
  const withoutRestorePoint = (urn: string) =>
    run.engine.resources.some((r) => r.urn === urn && r.type === TYPES.snapshot) ? {} : run.engine.inputsOf(urn);

  test(`every site's stored inputs but its restore point's fit in ${SITE_INPUT_BUDGET} bytes`, () => {
    expect(run.exitCode, run.stderr).toBe(0);
    const bytes = siteInputBytes(run.engine.resources, withoutRestorePoint);
    expect([...bytes.keys()].sort()).toEqual(["acme-bakery", "nordlicht", "studio-kern"]);
    for (const [site, size] of bytes) expect(size, site).toBeLessThanOrEqual(SITE_INPUT_BUDGET);
  });

  // Expected to fail while the restore point stores the customer token per site: once a site's whole
  // state fits, it passes and vitest reports it, so this marker goes.
  test.fails(`every site's stored inputs fit in ${SITE_INPUT_BUDGET} bytes (not yet: the restore point)`, () => {
    const bytes = siteInputBytes(run.engine.resources, run.engine.inputsOf);
    expect(bytes.size).toBe(3);
    for (const [site, size] of bytes) expect(size, site).toBeLessThanOrEqual(SITE_INPUT_BUDGET);
  });

  test("nothing large is stored per site: the installer is a file asset, the proxy host's provider a loader line", () => {
    const ofSites = run.engine.resources.filter((r) => r.parent.includes("WordPressSite"));
    for (const r of ofSites) expect(checkpointBytes(run.engine.inputsOf(r.urn) ?? {}), r.name).toBeLessThan(1_500);
    const copy = ofSites.find((r) => r.type === "command:remote:CopyToRemote")!;
    expect(JSON.stringify(run.engine.inputsOf(copy.urn))).not.toContain("#!/usr/bin/env bash");
  });

  test("no credential of the NPM user is stored with a proxy host", () => {
    for (const r of run.engine.resources.filter((x) => x.type.endsWith("NpmProxyHost")))
      expect(Object.keys(run.engine.inputsOf(r.urn) ?? {}).sort()).toEqual([
        "__provider",
        "apiUrl",
        "domain",
        "forwardHost",
        "forwardPort",
        "sslForced",
      ]);
  });
});
