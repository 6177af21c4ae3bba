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
import { plainWireValue } from "../../lib/runtimePath/dynamicProviderHost";
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
  const haOf = (urn: string) =>
    run.engine.resources.some((r) => r.urn === urn && (r.type === TYPES.haResource || r.type === TYPES.haRule));
  const withoutHa = (urn: string) => (haOf(urn) ? {} : run.engine.inputsOf(urn));
  /** Sites with an HA resource (its parent is the site component, named by the slug). */
  const haSites = () =>
    new Set(run.engine.resources.filter((r) => r.type === TYPES.haResource).map((r) => r.parent.split("::").pop()!));

  test(`a site without HA stores at most ${SITE_INPUT_BUDGET} bytes of inputs, restore point included`, () => {
    expect(run.exitCode, run.stderr).toBe(0);
    const bytes = siteInputBytes(run.engine.resources, run.engine.inputsOf);
    expect([...bytes.keys()].sort()).toEqual(["acme-bakery", "nordlicht", "studio-kern"]);
    expect([...haSites()]).toEqual(["nordlicht"]);
    for (const [site, size] of bytes)
      if (!haSites().has(site)) expect(size, site).toBeLessThanOrEqual(SITE_INPUT_BUDGET);
  });

  test(`every site's stored inputs but its HA resource and rule fit in ${SITE_INPUT_BUDGET} bytes`, () => {
    const bytes = siteInputBytes(run.engine.resources, withoutHa);
    expect(bytes.size).toBe(3);
    for (const [site, size] of bytes) expect(size, site).toBeLessThanOrEqual(SITE_INPUT_BUDGET);
  });

  test(`every site's stored inputs fit in ${SITE_INPUT_BUDGET} bytes, HA site included`, () => {
    const bytes = siteInputBytes(run.engine.resources, run.engine.inputsOf);
    expect(bytes.size).toBe(3);
    for (const [site, size] of bytes) expect(size, site).toBeLessThanOrEqual(SITE_INPUT_BUDGET);
  });

  test("no installer step stores a private key: it logs in through the deploy runner's ssh-agent", () => {
    const steps = run.engine.resources.filter((r) => r.type === TYPES.remoteCopy || r.type === TYPES.remoteCommand);
    expect(steps).toHaveLength(6);
    for (const r of steps) {
      const connection = plainWireValue(run.engine.inputsOf(r.urn)?.["connection"]) as Record<string, unknown>;
      expect(connection, r.name).toMatchObject({ host: expect.stringMatching(/^192\.168\.1\.\d+$/), user: "root" });
      expect(
        Object.keys(connection).filter((k) => /key|password/i.test(k)),
        r.name,
      ).toEqual([]);
      expect(JSON.stringify(run.engine.inputsOf(r.urn)), r.name).not.toContain("PRIVATE KEY");
    }
  });

  test("no PVE token is stored with a restore point: its provider reads the stack's customer token", () => {
    const points = run.engine.resources.filter((r) => r.type === TYPES.snapshot);
    expect(points).toHaveLength(3);
    for (const r of points) expect(Object.keys(run.engine.inputsOf(r.urn) ?? {})).not.toContain("connection");
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
