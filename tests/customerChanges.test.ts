/** The pure customer-file changes the CLI and the provisioner share (lib/customers/customerChanges.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import {
  changeCustomerPlan,
  createFromOrder,
  customerFileText,
  decommissionCustomer,
  editCustomerText,
  removeCustomer,
  suspendCustomer,
  unsuspendCustomer,
  type CustomerSet,
} from "../lib/customers/customerChanges";
import { loadCustomerFiles, parseCustomerText, type ParsedCustomerFile } from "../lib/customers/loadCustomers";
import { SLUG_PATTERN, type CustomerFile } from "../lib/customers/schema";
import { FALLBACK_SUBDOMAIN, randomSuffix, SUBDOMAIN_BASE_MAX, subdomainFromEmail } from "../lib/customers/subdomain";
import { validateCustomers } from "../lib/customers/validateCustomers";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

const config = stackConfigOf("prod", ROOT);
const topology = topologyOf(config);
const existing = loadCustomerFiles(FIXTURE_CUSTOMERS, ROOT).files;
const set = (files: readonly ParsedCustomerFile[] = existing): CustomerSet => ({ config, topology, files });
const counter = () => {
  let n = 0;
  return () => `s${String(n++).padStart(3, "0")}`;
};
const withFile = (slug: string, data: Partial<CustomerFile>): ParsedCustomerFile => ({
  slug,
  file: `customers/${slug}.yaml`,
  data: { domain: `${slug}.nodepoint.eu`, vmid: 1500, ip: "192.168.1.150", node: "node1", state: "active", ...data },
});

describe("subdomain from an e-mail (the seed's rule)", () => {
  it.each([
    ["customer@example.com", "customer"],
    ["John.Doe+shop@Example.com", "johndoeshop"],
    ["anna-lena@x.org", "anna-lena"],
    ["-dash-@x.org", "dash"],
    ["jürgen_müller@x.de", "jrgenmller"],
    ["+++@x.org", FALLBACK_SUBDOMAIN],
    ["a@b@c.org", "ab"],
    [`${"x".repeat(80)}@x.org`, "x".repeat(SUBDOMAIN_BASE_MAX)],
  ])("%s -> %s", (email, sub) => {
    expect(subdomainFromEmail(email)).toBe(sub);
  });

  it("always yields a valid slug of at most 40 characters, unchanged when already one", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (local) => {
        const sub = subdomainFromEmail(`${local}@example.org`);
        expect(sub).toMatch(SLUG_PATTERN);
        expect(sub.length).toBeLessThanOrEqual(SUBDOMAIN_BASE_MAX);
        expect(subdomainFromEmail(`${sub}@other.org`)).toBe(sub);
      }),
    );
  });

  it("random suffixes are 4 lower-case letters or digits", () => {
    for (let i = 0; i < 200; i++) expect(randomSuffix()).toMatch(/^[a-z0-9]{4}$/);
  });
});

describe("create from an order", () => {
  it("takes the e-mail's subdomain, customer add's allocation, and records service id and e-mail", () => {
    const r = createFromOrder(
      set(),
      { serviceId: 12345, email: "Customer@Example.com", plan: "standard" },
      { zone: "nodepoint.eu", suffix: counter() },
    );
    expect(r).toEqual({
      ok: true,
      slug: "customer",
      file: "customers/customer.yaml",
      data: {
        domain: "customer.nodepoint.eu",
        plan: "standard",
        vmid: 1003,
        ip: "192.168.1.103",
        node: "node2", // node1 carries the seed's measured 92.8 GB: node2 has more room
        state: "active",
        serviceId: 12345,
        email: "Customer@Example.com",
      },
    });
  });

  it("adds a suffix when the subdomain is taken (slug or domain), and the result validates with everyone", () => {
    const files = [...existing, withFile("shop", { domain: "taken.nodepoint.eu", vmid: 1400, ip: "192.168.1.140" })];
    const bySlug = createFromOrder(
      set(files),
      { serviceId: 1, email: "nordlicht@x.org" },
      { zone: "nodepoint.eu", suffix: counter() },
    );
    expect(bySlug.ok && bySlug.slug).toBe("nordlicht-s000");
    const byDomain = createFromOrder(
      set(files),
      { serviceId: 2, email: "taken@x.org" },
      { zone: "nodepoint.eu", suffix: counter() },
    );
    expect(byDomain.ok && byDomain.slug).toBe("taken-s000");
    const elsewhere = createFromOrder(
      set(),
      { serviceId: 3, email: "other@x.org" },
      { zone: "nodepoint.eu", suffix: counter(), takenElsewhere: new Set(["other.nodepoint.eu"]) },
    );
    expect(elsewhere.ok && elsewhere.slug).toBe("other-s000");
    if (!bySlug.ok) throw new Error("unreachable");
    const all = [...files, { slug: bySlug.slug, file: bySlug.file, data: bySlug.data }];
    expect(validateCustomers(config, topology, all).problems).toEqual([]);
  });

  it("a suffix that collides again is drawn anew", () => {
    const files = [...existing, withFile("ann", {}), withFile("ann-s000", { vmid: 1501, ip: "192.168.1.151" })];
    const r = createFromOrder(
      set(files),
      { serviceId: 9, email: "ann@x.org" },
      { zone: "nodepoint.eu", suffix: counter() },
    );
    expect(r.ok && r.slug).toBe("ann-s001");
  });

  it("refuses a service id that already has a site (conflict) and a zone the stack does not have", () => {
    const files = [...existing, withFile("ann", { serviceId: 7 })];
    const r = createFromOrder(
      set(files),
      { serviceId: 7, email: "x@y.org" },
      { zone: "nodepoint.eu", suffix: counter() },
    );
    expect(r).toMatchObject({ ok: false, reason: "conflict" });
    expect(!r.ok && r.problems[0]?.message).toContain("service 7 already has a site (ann.nodepoint.eu)");
    const z = createFromOrder(set(), { serviceId: 8, email: "x@y.org" }, { zone: "example.org", suffix: counter() });
    expect(z).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("refuses with conflict when the IP pool, the VMID range or the cluster's room runs out", () => {
    const tiny: CustomerSet = {
      config: { ...config, customerPools: { ...config.customerPools, vmids: { first: 1000, last: 1002 } } },
      topology,
      files: existing,
    };
    const r = createFromOrder(tiny, { serviceId: 1, email: "a@b.org" }, { zone: "nodepoint.eu", suffix: counter() });
    expect(r).toMatchObject({ ok: false, reason: "conflict" });
    expect(!r.ok && r.problems.map((p) => p.field)).toContain("vmid");
  });

  it("any sequence of orders gives distinct slugs, VMIDs and IPs that validate together", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom("ann", "nordlicht", "x", "acme-bakery"), fc.string({ maxLength: 12 })), {
          minLength: 1,
          maxLength: 25,
        }),
        (locals) => {
          let files = [...existing];
          locals.forEach((local, i) => {
            const r = createFromOrder(
              set(files),
              { serviceId: 100 + i, email: `${local}@example.org`, plan: "basic" },
              { zone: "nodepoint.eu", suffix: randomSuffix },
            );
            if (!r.ok) throw new Error(JSON.stringify(r.problems));
            files = [...files, { slug: r.slug, file: r.file, data: r.data }];
          });
          expect(new Set(files.map((f) => f.slug)).size).toBe(files.length);
          expect(new Set(files.map((f) => f.data.vmid)).size).toBe(files.length);
          expect(new Set(files.map((f) => f.data.ip)).size).toBe(files.length);
          expect(validateCustomers(config, topology, files).problems).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("state changes", () => {
  const states = ["active", "suspended", "decommissioned"] as const;
  const c = (state: (typeof states)[number], extra: Partial<CustomerFile> = {}) => withFile("ann", { state, ...extra });

  it.each([
    ["suspend", suspendCustomer, { active: "suspended", suspended: undefined, decommissioned: "conflict" }],
    ["unsuspend", unsuspendCustomer, { active: undefined, suspended: "active", decommissioned: "conflict" }],
    [
      "decommission",
      decommissionCustomer,
      { active: "decommissioned", suspended: "decommissioned", decommissioned: undefined },
    ],
  ] as const)("%s: state table (undefined = nothing to do)", (_name, fn, table) => {
    for (const state of states) {
      const r = fn(c(state));
      const expected = table[state];
      if (expected === "conflict") expect(r).toMatchObject({ ok: false, reason: "conflict" });
      else expect(r.ok ? r.data?.state : "refused").toBe(expected);
      if (r.ok && r.data) expect({ ...r.data, state: "x" }).toEqual({ ...c(state).data, state: "x" });
    }
  });

  it("decommission changes only the state; an HA customer's file validates decommissioned as it is", () => {
    const files = [...existing, withFile("ann", { ha: true, plan: "premium" })];
    const r = decommissionCustomer(files.at(-1)!);
    if (!r.ok || !r.data) throw new Error("unreachable");
    expect(r.data).toEqual({ ...files.at(-1)!.data, state: "decommissioned" });
    const after = [...existing, { ...files.at(-1)!, data: r.data }];
    expect(validateCustomers(config, topology, after).problems).toEqual([]);
  });

  it("remove: only a decommissioned customer", () => {
    expect(removeCustomer(c("decommissioned"))).toMatchObject({ ok: true, retire: { customer: "ann" } });
    for (const s of ["active", "suspended"] as const)
      expect(removeCustomer(c(s))).toMatchObject({ ok: false, reason: "conflict" });
  });
});

describe("plan change", () => {
  const ann = (data: Partial<CustomerFile>) => withFile("ann", { plan: "basic", ...data });
  const files = (c: ParsedCustomerFile) => [...existing, c];

  it("moves to a bigger plan and drops size overrides (the new plan's size)", () => {
    const c = ann({ memoryMiB: 3072, cores: 3 });
    const r = changeCustomerPlan(set(files(c)), c, "standard");
    expect(r).toEqual({ ok: true, data: { ...c.data, plan: "standard", memoryMiB: undefined, cores: undefined } });
    expect(r.ok && Object.keys(r.data ?? {})).not.toContain("memoryMiB");
  });

  it("refuses a plan whose disk is smaller than the site's: 20 < 80, 40 < 50 (override)", () => {
    const premium = ann({ plan: "premium" });
    expect(changeCustomerPlan(set(files(premium)), premium, "basic")).toMatchObject({
      ok: false,
      reason: "conflict",
      problems: [{ field: "plan", message: expect.stringContaining("cannot shrink") }],
    });
    const big = ann({ diskGiB: 50 });
    expect(changeCustomerPlan(set(files(big)), big, "standard")).toMatchObject({ ok: false, reason: "conflict" });
  });

  it("same plan without overrides: nothing to do; unknown plan: invalid; decommissioned: conflict", () => {
    const c = ann({});
    expect(changeCustomerPlan(set(files(c)), c, "basic")).toEqual({ ok: true, data: undefined });
    expect(changeCustomerPlan(set(files(c)), c, "gold")).toMatchObject({ ok: false, reason: "invalid" });
    const d = ann({ state: "decommissioned" });
    expect(changeCustomerPlan(set(files(d)), d, "standard")).toMatchObject({ ok: false, reason: "conflict" });
  });

  it("refuses with conflict when the cluster has no room for the bigger plan", () => {
    const huge: CustomerSet = {
      config: { ...config, plans: { ...config.plans, premium: { ...config.plans["premium"]!, diskGiB: 4000 } } },
      topology,
      files: [],
    };
    const c = ann({});
    const r = changeCustomerPlan({ ...huge, files: [...existing, c] }, c, "premium");
    expect(r).toMatchObject({ ok: false, reason: "conflict" });
    expect(!r.ok && r.problems[0]?.message).toContain("capacity");
  });
});

describe("file text", () => {
  it("a new file parses back to its data and points at the schema", () => {
    const data: CustomerFile = {
      domain: "a.nodepoint.eu",
      plan: "basic",
      vmid: 1003,
      ip: "192.168.1.103",
      node: "node1",
      state: "active",
      serviceId: 5,
      email: "a@b.org",
    };
    const text = customerFileText(data, "../schemas/customer.schema.json");
    expect(text.startsWith("# yaml-language-server: $schema=../schemas/customer.schema.json\n")).toBe(true);
    expect(parseCustomerText(text, "a.yaml", "customers/a.yaml").file?.data).toEqual(data);
  });

  it("an edit keeps comments and key order, changes only what changed, removes what went", () => {
    const text =
      "# yaml-language-server: $schema=../schemas/customer.schema.json\n# customer since 2024\ndomain: a.nodepoint.eu # shop\nplan: premium\nvmid: 1003\nip: 192.168.1.103\nnode: node1\nha: true\nstate: active\n";
    const data = parse(text) as CustomerFile;
    const r = decommissionCustomer({ slug: "a", file: "customers/a.yaml", data });
    if (!r.ok || !r.data) throw new Error("unreachable");
    expect(editCustomerText(text, r.data)).toBe(
      "# yaml-language-server: $schema=../schemas/customer.schema.json\n# customer since 2024\ndomain: a.nodepoint.eu # shop\nplan: premium\nvmid: 1003\nip: 192.168.1.103\nnode: node1\nha: true\nstate: decommissioned\n",
    );
    const { ha: _ha, ...withoutHa } = r.data;
    expect(editCustomerText(text, withoutHa)).not.toContain("ha:");
  });
});
