/**
 * Facts stated once (issue 16): each of these is spelled in its home module only; everywhere else
 * imports it. A second spelling would drift from the first unnoticed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as wire from "../lib/pulumiWire";
import { ROOT } from "./helpers/offlinePlan";

/** The program's, the tools' and the policy pack's TypeScript sources (not tests, not dependencies). */
function sources(dir: string = ROOT): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (["node_modules", "tests", ".git", "contracts"].includes(entry) || entry.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return entry.endsWith(".ts") ? [relative(ROOT, path)] : [];
  });
}

const FACTS: Array<{ fact: string; pattern: RegExp; home: string }> = [
  { fact: "component type tokens", pattern: /["'`]nodepoint:[a-z]+:[A-Z]\w*["'`]/, home: "lib/componentTypes.ts" },
  { fact: "the stack file name", pattern: /Pulumi\.\$\{/, home: "lib/config/stackFile.ts" },
  { fact: "the desired-state path", pattern: /desired-state\/\$\{/, home: "lib/config/stackFile.ts" },
  { fact: "the unknown-value sentinel", pattern: /04da6b54-80e4-46f7-96ec-b56ff0331ba9/, home: "lib/pulumiWire.ts" },
  { fact: "the secret signature", pattern: /1b47061264138c4ac30d75fd1eb44270/, home: "lib/pulumiWire.ts" },
  { fact: "sorted-key JSON", pattern: /Object\.keys\([^)]*\)\.sort\(\)/, home: "lib/plan/planJson.ts" },
  { fact: "the quorum formula", pattern: /Math\.floor\([^)]*\/ 2\) \+ 1/, home: "lib/config/clusterRules.ts" },
];

describe("one home per fact", () => {
  const files = sources();
  it("finds the sources", () => {
    expect(files).toContain("index.ts");
    expect(files).toContain("policy/policies.ts");
  });

  it.each(FACTS)("$fact: spelled in $home only", ({ pattern, home }) => {
    const spelled = files.filter((f) => pattern.test(readFileSync(join(ROOT, f), "utf8")));
    expect(spelled).toEqual([home]);
  });
});

describe("lib/pulumiWire.ts", () => {
  it("states the SDK's own wire constants", () => {
    expect({ ...wire }).toEqual({
      UNKNOWN_VALUE: pulumi.runtime.unknownValue,
      SIG_KEY: pulumi.runtime.specialSigKey,
      SECRET_SIG: pulumi.runtime.specialSecretSig,
      OUTPUT_VALUE_SIG: pulumi.runtime.specialOutputValueSig,
      RESOURCE_REF_SIG: pulumi.runtime.specialResourceSig,
      ASSET_SIG: pulumi.runtime.specialAssetSig,
      ARCHIVE_SIG: pulumi.runtime.specialArchiveSig,
    });
  });
});
