/** `npm run customer -- suspend|unsuspend|decommission|remove|set-plan`: the CLI face of the shared changes. */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "customers-cli-"));
  for (const f of ["acme-bakery.yaml", "nordlicht.yaml", "studio-kern.yaml"])
    cpSync(join(FIXTURE_CUSTOMERS, f), join(dir, f));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => {
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), ["scripts/customer.ts", ...args, "--customers", dir], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout + r.stderr };
};
const text = (slug: string) => readFileSync(join(dir, `${slug}.yaml`), "utf8");

describe("customer lifecycle commands", () => {
  it("suspend writes state: suspended and keeps the rest; again: nothing to change; unsuspend reverts", () => {
    const before = text("nordlicht");
    const r = cli("suspend", "nordlicht");
    expect(r.code).toBe(0);
    expect(text("nordlicht")).toBe(before.replace("state: active", "state: suspended"));
    expect(cli("suspend", "nordlicht")).toMatchObject({ code: 0, out: expect.stringContaining("nothing to change") });
    expect(cli("unsuspend", "nordlicht").code).toBe(0);
    expect(text("nordlicht")).toBe(before);
  });

  it("remove refuses a live customer; decommission then remove deletes the file", () => {
    const r = cli("remove", "acme-bakery");
    expect(r.code).toBe(1);
    expect(r.out).toContain("decommission it first");
    expect(existsSync(join(dir, "acme-bakery.yaml"))).toBe(true);
    expect(cli("decommission", "acme-bakery").code).toBe(0);
    expect(text("acme-bakery")).toContain("state: decommissioned");
    expect(cli("remove", "acme-bakery").code).toBe(0);
    expect(existsSync(join(dir, "acme-bakery.yaml"))).toBe(false);
  });

  it("set-plan: a bigger plan is written, a shrinking disk is refused with nothing written", () => {
    expect(cli("set-plan", "acme-bakery", "--plan", "standard").code).toBe(0);
    expect(text("acme-bakery")).toContain("plan: standard");
    const before = text("nordlicht");
    const r = cli("set-plan", "nordlicht", "--plan", "basic");
    expect(r.code).toBe(1);
    expect(r.out).toContain("cannot shrink");
    expect(text("nordlicht")).toBe(before);
  });
});
