/**
 * The `__provider` text of the project's dynamic resources: small, and loading each provider by name
 * through lib/dynamicProviderBootstrap.cjs, as the dynamic-provider plugin runs it (in the project
 * directory, `require-from-string` then `.handler()`).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { DYNAMIC_PROVIDERS, dynamicProviderLoader, type DynamicProviderName } from "../lib/dynamicProviderLoader";
import { ROOT } from "./helpers/offlinePlan";

/** Runs a loader text as the plugin does: its exports' `handler()`, with the project directory as cwd. */
function runLoader(text: string): unknown {
  const exports: { handler?: () => unknown } = {};
  new Function("exports", "require", text)(exports, createRequire(join(ROOT, "index.ts")));
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    return exports.handler!();
  } finally {
    process.chdir(cwd);
  }
}

describe("dynamic provider loaders", () => {
  test.each(Object.keys(DYNAMIC_PROVIDERS) as DynamicProviderName[])(
    "%s: under 100 bytes, names the provider and loads it",
    (name) => {
      const text = dynamicProviderLoader(name);
      expect(Buffer.byteLength(text)).toBeLessThan(100);
      expect(text).not.toContain(DYNAMIC_PROVIDERS[name].module);
      const provider = runLoader(text) as Record<string, unknown>;
      for (const method of ["check", "create", "read", "delete"])
        expect(typeof provider[method], method).toBe("function");
    },
  );

  test("a name not in the table is an error naming the table", () => {
    const text = dynamicProviderLoader("PveStorage").replace('"PveStorage"', '"PveNothing"');
    expect(() => runLoader(text)).toThrow(
      /PveNothing: no dynamic provider of that name in lib\/dynamicProviderLoader\.ts/,
    );
  });
});
