/** Every generated file is current: `npm run generate -- --check`, as CI runs it, and what it covers. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artefacts, deployedStacks } from "../lib/generate";
import { stackConfigOf } from "../lib/config/stacks";
import { defaultPolicyConfig, policyConfigOf } from "../policy/config";
import { ROOT } from "./helpers/offlinePlan";

describe("npm run generate -- --check", () => {
  it("passes: every generated file equals a fresh derivation (fix: npm run generate, commit the result)", () => {
    // The one test that plans the project's own customer files (desired-state/<stack>.json).
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/generate.ts"), "--check"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("covers the validation bounds, the customer schema, and per deployed stack its policy config and desired state", () => {
    const stacks = deployedStacks(ROOT);
    expect(stacks).toContain("prod");
    expect(stacks).not.toContain("bench"); // fictional: nodepoint:deploy: false
    expect(artefacts(ROOT).map((a) => a.file)).toEqual([
      "lib/config/pveBounds.generated.json",
      "schemas/customer.schema.json",
      ...stacks.flatMap((s) => [`policy/config.${s}.json`, `desired-state/${s}.json`]),
    ]);
  });

  it("the policy pack's defaults are the prod stack's own figures", () => {
    const prod = stackConfigOf("prod", ROOT);
    expect(defaultPolicyConfig()).toEqual(policyConfigOf(prod));
    expect(JSON.parse(readFileSync(join(ROOT, "policy/config.prod.json"), "utf8"))).toMatchObject({
      "customer-container-isolation": { storage: prod.customerPools.storage },
      "ha-resource-limits": { maxRestart: prod.ha.maxRestart, maxRelocate: prod.ha.maxRelocate },
    });
  });
});
