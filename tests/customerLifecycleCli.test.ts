/** `npm run customer -- suspend|unsuspend|decommission|remove|set-plan`: the CLI face of the shared changes. */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

// A scratch project (its own stack files: `remove` retires IDs in Pulumi.prod.yaml) with the fixtures.
let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "customers-cli-"));
  for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.bench.yaml"]) cpSync(join(ROOT, f), join(root, f));
  dir = join(root, "customers");
  for (const f of ["acme-bakery.yaml", "nordlicht.yaml", "studio-kern.yaml"])
    cpSync(join(FIXTURE_CUSTOMERS, f), join(dir, f));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const cli = (...args: string[]) => {
  const r = spawnSync(
    join(ROOT, "node_modules", ".bin", "tsx"),
    [join(ROOT, "scripts", "customer.ts"), ...args, "--customers", dir],
    { cwd: root, encoding: "utf8" },
  );
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

  it("remove retires the customer's VMID and IP in the stack file; customer add never hands them out again", () => {
    const stack = () => readFileSync(join(root, "Pulumi.prod.yaml"), "utf8");
    const before = stack();
    expect(cli("decommission", "acme-bakery").code).toBe(0);
    const removed = cli("remove", "acme-bakery");
    expect(removed).toMatchObject({ code: 0, out: expect.stringContaining("retired VMID 1000 and IP 192.168.1.100") });
    // The entry is appended; the rest of the stack file, comments included, is unchanged.
    expect(stack()).toContain("    retired:\n      - { vmid: 1000, ip: 192.168.1.100, customer: acme-bakery }\n");
    expect(
      stack().replace("    retired:\n      - { vmid: 1000, ip: 192.168.1.100, customer: acme-bakery }\n", ""),
    ).toBe(before);
    // The lowest free VMID and IP are 1000 and .100 again, but retired: the next ones are taken.
    const added = cli("add", "newcomer", "--domain", "newcomer.nodepoint.eu", "--plan", "basic");
    expect(added).toMatchObject({ code: 0, out: expect.stringContaining("vmid 1003, ip 192.168.1.103") });
    // Deleting the entry is the explicit decision that makes them available again.
    writeFileSync(join(root, "Pulumi.prod.yaml"), before);
    const again = cli("add", "another", "--domain", "another.nodepoint.eu", "--plan", "basic");
    expect(again).toMatchObject({ code: 0, out: expect.stringContaining("vmid 1000, ip 192.168.1.100") });
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
