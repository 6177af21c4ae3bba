/** The plan JSON: complete, deterministic, and free of secrets; customers never disturb each other. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planDocument, serializePlan } from "../lib/plan/planJson";
import type { RecordedResource } from "../lib/plan/offlineRuntime";
import { byName, FIXTURE_CUSTOMERS, offlinePlan, scratchCustomers } from "./helpers/offlinePlan";

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));
const json = async (opts: Parameters<typeof offlinePlan>[0] = {}) =>
  serializePlan(planDocument("prod", (await offlinePlan(opts)).resources));

describe("plan JSON", () => {
  it("has the documented shape", async () => {
    const doc = JSON.parse(await json()) as { stack: string; resources: RecordedResource[] };
    expect(doc.stack).toBe("prod");
    for (const r of doc.resources) {
      expect(Object.keys(r)).toEqual(["custom", "inputs", "name", "options", "parent", "provider", "type", "urn"]);
      // `aliases` only where a resource has any (a rename's former URN).
      expect(Object.keys(r.options).filter((k) => k !== "aliases")).toEqual([
        "deleteBeforeReplace",
        "deletedWith",
        "dependsOn",
        "ignoreChanges",
        "import",
        "protect",
        "replaceOnChanges",
        "replaceWith",
        "retainOnDelete",
      ]);
    }
    const urns = doc.resources.map((r) => r.urn);
    expect(urns).toEqual([...urns].sort());
  });

  it("is byte-identical for the same input, whatever the order customer files are written in", async () => {
    const a = await json();
    expect(await json()).toBe(a);
    // The same customer files, written in reverse order into a fresh directory.
    const names = readdirSync(FIXTURE_CUSTOMERS).filter((n) => n.endsWith(".yaml"));
    const reversed = scratchCustomers(
      Object.fromEntries([...names].reverse().map((n) => [n, readFileSync(join(FIXTURE_CUSTOMERS, n), "utf8")])),
    );
    cleanups.push(reversed.cleanup);
    expect(await json({ customersDir: reversed.dir })).toBe(a);
  });

  it("holds no secret: tokens and generated passwords appear only as [secret]", async () => {
    const token = "leak-check@pve!probe=11111111-2222-3333-4444-555555555555";
    const text = await json({ set: { "proxmoxve:apiToken": token, "cloudflare:apiToken": "cf-leak-check-token" } });
    expect(text).not.toContain("leak-check");
    expect(text).not.toMatch(/x{16}/); // the mock's generated passwords
    const doc = JSON.parse(text) as { resources: RecordedResource[] };
    expect((byName(doc.resources, "nordlicht-ct").inputs as any).initialization.userAccount.password).toBe("[secret]");
  });
});

describe("customers never disturb each other", () => {
  const ofCustomer = (doc: { resources: RecordedResource[] }, slug: string) =>
    doc.resources.filter(
      (r) =>
        r.urn.includes(`WordPressSite::${slug}`) ||
        r.urn.endsWith(`WordPressSite::${slug}`) ||
        r.parent.endsWith(`WordPressSite::${slug}`),
    );

  it("adding and removing a customer file leaves every other customer's URNs and inputs unchanged", async () => {
    const before = JSON.parse(await json()) as { resources: RecordedResource[] };
    const added = scratchCustomers();
    cleanups.push(added.cleanup);
    const { writeFileSync, rmSync } = await import("node:fs");
    writeFileSync(
      join(added.dir, "aaa-first.yaml"),
      "domain: aaa.nodepoint.eu\nvmid: 1003\nip: 192.168.1.103\nnode: node2\nplan: premium\n",
    );
    rmSync(join(added.dir, "studio-kern.yaml"));
    const after = JSON.parse(await json({ customersDir: added.dir })) as { resources: RecordedResource[] };
    for (const slug of ["acme-bakery", "nordlicht"]) {
      expect(ofCustomer(after, slug)).toEqual(ofCustomer(before, slug));
      expect(ofCustomer(after, slug).length).toBeGreaterThan(3);
    }
    expect(ofCustomer(after, "aaa-first").length).toBeGreaterThan(3);
  });

  it("the test fixtures are three customers, one premium with HA (what the other tests assume)", () => {
    const files = readdirSync(FIXTURE_CUSTOMERS).map((n) => readFileSync(join(FIXTURE_CUSTOMERS, n), "utf8"));
    expect(files).toHaveLength(3);
    expect(files.filter((f) => f.includes("plan: premium"))).toHaveLength(1);
  });
});

describe("lifecycle", () => {
  const withState = async (state: string) => {
    const dir = scratchCustomers();
    cleanups.push(dir.cleanup);
    const { readFileSync: read, writeFileSync } = await import("node:fs");
    const path = join(dir.dir, "nordlicht.yaml");
    writeFileSync(path, read(path, "utf8").replace("state: active", `state: ${state}`));
    return (await offlinePlan({ customersDir: dir.dir })).resources;
  };

  it("active: running, protected, HA started, DNS present", async () => {
    const r = (await offlinePlan()).resources;
    expect(byName(r, "nordlicht-ct").inputs).toMatchObject({
      started: true,
      startOnBoot: true,
      protection: true,
      unprivileged: true,
    });
    expect(byName(r, "nordlicht-ct").options.protect).toBe(true);
    expect(byName(r, "nordlicht-ct").options.ignoreChanges).toEqual([
      "operatingSystem",
      "initialization.userAccount",
      "features",
    ]);
    // No tags: PVE would refuse the customer token's create (tags are checked on /vms/<vmid> alone).
    expect(byName(r, "nordlicht-ct").inputs["tags"]).toBeUndefined();
    expect(byName(r, "nordlicht-ha").inputs).toMatchObject({
      resourceId: "ct:1001",
      state: "started",
      maxRestart: 3,
      maxRelocate: 2,
    });
    expect(byName(r, "nordlicht-dns").inputs).toMatchObject({
      name: "nordlicht.nodepoint.eu",
      type: "A",
      content: "203.0.113.10",
    });
  });

  it("suspended: container stopped, HA told to keep it stopped, still protected, DNS kept", async () => {
    const r = await withState("suspended");
    expect(byName(r, "nordlicht-ct").inputs).toMatchObject({ started: false, protection: true });
    expect(byName(r, "nordlicht-ct").options.protect).toBe(true);
    expect(byName(r, "nordlicht-ha").inputs["state"]).toBe("stopped");
    expect(r.some((x) => x.name === "nordlicht-dns")).toBe(true);
  });

  it("decommissioned: stopped, protection lifted, HA and DNS removed", async () => {
    const r = await withState("decommissioned");
    expect(byName(r, "nordlicht-ct").inputs).toMatchObject({ started: false, protection: false });
    expect(byName(r, "nordlicht-ct").options.protect).toBe(false);
    expect(r.some((x) => x.name === "nordlicht-ha" || x.name === "nordlicht-dns")).toBe(false);
    expect(r.some((x) => x.type.endsWith("Harule"))).toBe(false);
  });
});
