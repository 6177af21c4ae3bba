/**
 * Retired VMIDs and IPs (nodepoint:customerPools.retired, lib/customers/retired.ts): never handed out
 * again by customer add or the provisioner (the same allocation), a file using one is refused, and a
 * removal (or a container replaced under another VMID) must retire its old IDs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { StackConfig } from "../lib/config/schema";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { planNewCustomer } from "../lib/customers/addCustomer";
import { baselineOf } from "../lib/customers/baseline";
import { createFromOrder, removeCustomer } from "../lib/customers/customerChanges";
import { loadCustomerFiles } from "../lib/customers/loadCustomers";
import { retireInStackText } from "../lib/customers/retired";
import { validateCustomers } from "../lib/customers/validateCustomers";
import { planDocument, serializePlan } from "../lib/plan/planJson";
import { FIXTURE_CUSTOMERS, offlinePlan, ROOT, scratchCustomers } from "./helpers/offlinePlan";

const config = stackConfigOf("prod", ROOT);
const topology = topologyOf(config);
const existing = loadCustomerFiles(FIXTURE_CUSTOMERS, ROOT).files;
const retiring = (retired: StackConfig["customerPools"]["retired"]): StackConfig => ({
  ...config,
  customerPools: { ...config.customerPools, retired },
});
const problems = (r: { problems: ReadonlyArray<{ file: string; field: string; message: string }> }) =>
  r.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`);

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

describe("allocation skips retired IDs", () => {
  const retired = retiring([
    { vmid: 1003, ip: "192.168.1.103", customer: "gone" },
    { vmid: 1004, customer: "replaced" },
    { ip: "192.168.1.104", customer: "moved" },
  ]);

  it("customer add takes the lowest VMID and IP that are neither used nor retired", () => {
    const r = planNewCustomer(retired, topology, existing, { slug: "new", domain: "new.nodepoint.eu" }, "x");
    expect(r.ok && [r.file.vmid, r.file.ip]).toEqual([1005, "192.168.1.105"]);
    const free = planNewCustomer(config, topology, existing, { slug: "new", domain: "new.nodepoint.eu" }, "x");
    expect(free.ok && [free.file.vmid, free.file.ip]).toEqual([1003, "192.168.1.103"]);
  });

  it("the provisioner's create (Paymenter's createServer) allocates the same way", () => {
    const r = createFromOrder(
      { config: retired, topology, files: existing },
      { serviceId: 7, email: "someone@example.com" },
      { zone: "nodepoint.eu", suffix: () => "abcd" },
    );
    expect(r.ok && [r.data.vmid, r.data.ip]).toEqual([1005, "192.168.1.105"]);
  });

  it("a customer file that uses a retired VMID or IP is refused, naming the file, the field and the way out", () => {
    const files = existing.map((f) =>
      f.slug === "acme-bakery" ? { ...f, data: { ...f.data, vmid: 1003, ip: "192.168.1.104" } } : f,
    );
    expect(problems(validateCustomers(retired, topology, files, undefined, "Pulumi.prod.yaml"))).toEqual([
      expect.stringMatching(
        /^tests\/fixtures\/customers\/acme-bakery\.yaml: vmid: 1003 is retired \(gone's, nodepoint:customerPools\.retired in Pulumi\.prod\.yaml\): Proxmox keeps its backups under that VMID; to reuse it anyway, delete the entry there$/,
      ),
      expect.stringMatching(
        /^tests\/fixtures\/customers\/acme-bakery\.yaml: ip: 192\.168\.1\.104 is retired \(moved's/,
      ),
    ]);
  });
});

describe("a removal retires its IDs", () => {
  it("removeCustomer gives the entry; the plan refuses a removal whose VMID and IP are not retired", async () => {
    const deployed = planDocument("prod", (await offlinePlan({ desiredState: false })).resources);
    const baseline = baselineOf(serializePlan(deployed), "desired-state/prod.json").baseline!;
    const acme = existing.find((f) => f.slug === "acme-bakery")!;
    const gone = existing.filter((f) => f !== acme);
    expect(problems(validateCustomers(config, topology, gone, baseline, "Pulumi.prod.yaml"))).toEqual([
      'Pulumi.prod.yaml: nodepoint:customerPools.retired: acme-bakery is removed (it is in desired-state/prod.json, its file is gone): retire VMID 1000 and IP 192.168.1.100 so that it is never handed out again (Proxmox keeps its backups under its VMID): add "- { vmid: 1000, ip: 192.168.1.100, customer: acme-bakery }" (npm run customer -- remove does it)',
    ]);
    const decommissioned = { ...acme, data: { ...acme.data, state: "decommissioned" as const } };
    const removal = removeCustomer(decommissioned);
    expect(removal).toEqual({ ok: true, retire: { vmid: 1000, ip: "192.168.1.100", customer: "acme-bakery" } });
    if (!removal.ok) return;
    expect(validateCustomers(retiring([removal.retire]), topology, gone, baseline).problems).toEqual([]);
  });

  it("through the real program: deleting a file without retiring its IDs is refused, with them it plans", async () => {
    const deployed = planDocument("prod", (await offlinePlan({ desiredState: false })).resources);
    const dir = scratchCustomers();
    cleanups.push(dir.cleanup);
    rmSync(join(dir.dir, "studio-kern.yaml"));
    const scratch = mkdtempSync(join(dir.dir, "..", "baseline-"));
    cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
    const path = join(scratch, "prod.json");
    writeFileSync(path, serializePlan(deployed));
    const err = await offlinePlan({ customersDir: dir.dir, desiredState: path }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("Pulumi.prod.yaml: nodepoint:customerPools.retired: studio-kern is removed");
    const pools = { ...config.customerPools, retired: [{ vmid: 1002, ip: "192.168.1.102", customer: "studio-kern" }] };
    const planned = await offlinePlan({ customersDir: dir.dir, desiredState: path, set: { customerPools: pools } });
    expect(planned.resources.some((r) => r.name === "studio-kern-ct")).toBe(false);
  });
});

describe("the stack file edit", () => {
  const text = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");

  it("adds the list under nodepoint:customerPools, then appends to it; nothing else in the file changes", () => {
    const once = retireInStackText(text, { vmid: 1000, ip: "192.168.1.100", customer: "acme-bakery" });
    const twice = retireInStackText(once, { vmid: 1001, customer: "nordlicht" });
    const pools = (parse(twice) as { config: Record<string, { retired: unknown }> }).config["nodepoint:customerPools"]!;
    expect(pools.retired).toEqual([
      { vmid: 1000, ip: "192.168.1.100", customer: "acme-bakery" },
      { vmid: 1001, customer: "nordlicht" },
    ]);
    const added = ["    retired:\n", "      - { vmid: 1000, ip: 192.168.1.100, customer: acme-bakery }\n"];
    expect(twice.replace(added.join(""), "").replace("      - { vmid: 1001, customer: nordlicht }\n", "")).toBe(text);
  });
});
