/** The vendored contracts are unchanged copies of the workplace's shared ones (when those are present). */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTRACTS_DIR } from "../lib/contracts";
import { ROOT } from "./helpers/offlinePlan";

const SHARED = resolve(ROOT, "..", "shared", "contracts");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe("vendored contracts", () => {
  it.skipIf(!existsSync(SHARED))("equal ../shared/contracts file for file (re-copy, then npm run generate)", () => {
    const shared = files(SHARED)
      .map((f) => relative(SHARED, f))
      .sort();
    const vendored = files(CONTRACTS_DIR)
      .map((f) => relative(CONTRACTS_DIR, f))
      .filter((f) => f !== "README.md")
      .sort();
    expect(vendored).toEqual(shared);
    for (const f of shared)
      expect(readFileSync(join(CONTRACTS_DIR, f), "utf8"), f).toBe(readFileSync(join(SHARED, f), "utf8"));
  });

  it("are in the repository, so tests run on any checkout", () => {
    expect(existsSync(join(CONTRACTS_DIR, "proxmox-ve", "api-schema.json"))).toBe(true);
    expect(existsSync(join(CONTRACTS_DIR, "nginx-proxy-manager", "swagger.json"))).toBe(true);
  });
});
