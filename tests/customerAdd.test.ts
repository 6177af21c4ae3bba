/** `npm run customer -- add` decides allocation and placement purely, and refuses clearly. */
import { describe, expect, it } from "vitest";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { planNewCustomer } from "../lib/customers/addCustomer";
import { loadCustomerFiles, type ParsedCustomerFile } from "../lib/customers/loadCustomers";
import fc from "fast-check";
import { stringify } from "yaml";
import { validateCustomers } from "../lib/customers/validateCustomers";
import { parseCustomerText } from "../lib/customers/loadCustomers";
import { domainCases } from "./helpers/customerCases";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

const config = stackConfigOf("prod", ROOT);
const topology = topologyOf(config);
const existing = loadCustomerFiles(FIXTURE_CUSTOMERS, ROOT).files;

describe("customer add", () => {
  it("takes the lowest free VMID and IP and the DRBD node with the most free memory (node2: node1 carries the seed's measured 92.8 GB)", () => {
    const r = planNewCustomer(
      config,
      topology,
      existing,
      { slug: "new", domain: "New.nodepoint.eu", plan: "standard" },
      "customers/new.yaml",
    );
    expect(r).toEqual({
      ok: true,
      file: {
        domain: "new.nodepoint.eu",
        plan: "standard",
        vmid: 1003,
        ip: "192.168.1.103",
        node: "node2",
        state: "active",
      },
    });
  });

  it("fills gaps: a freed VMID and IP are reused lowest first", () => {
    const without = existing.filter((c) => c.slug !== "acme-bakery");
    const r = planNewCustomer(
      config,
      topology,
      without,
      { slug: "new", domain: "new.nodepoint.eu", plan: "premium" },
      "customers/new.yaml",
    );
    expect(r.ok && [r.file.vmid, r.file.ip]).toEqual([1000, "192.168.1.100"]);
  });

  it.each([
    [
      "existing slug",
      { slug: "nordlicht", domain: "x.nodepoint.eu" },
      'customers/new.yaml: (file name): customer "nordlicht" already exists',
    ],
    [
      "taken domain",
      { slug: "new", domain: "NORDLICHT.nodepoint.eu" },
      "customers/new.yaml: domain: nordlicht.nodepoint.eu is already used by tests/fixtures/customers/nordlicht.yaml",
    ],
    [
      "foreign domain",
      { slug: "new", domain: "shop.example.org" },
      "customers/new.yaml: domain: shop.example.org is not inside",
    ],
    ["bad slug", { slug: "New Shop", domain: "x.nodepoint.eu" }, '(file name): slug "New Shop"'],
    [
      "node without DRBD",
      { slug: "new", domain: "x.nodepoint.eu", node: "node3" },
      "customers/new.yaml: node: node3 does not have the customer storage",
    ],
  ])("refuses: %s", (_t, req, expected) => {
    const r = planNewCustomer(config, topology, existing, { plan: "standard", ...req }, "customers/new.yaml");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`).join("\n")).toContain(expected);
  });

  it("refuses when the VMID range or IP pool is exhausted, or no node has room", () => {
    const tiny = { ...config, customerPools: { ...config.customerPools, vmids: { first: 1000, last: 1002 } } };
    const r1 = planNewCustomer(
      tiny,
      topology,
      existing,
      { slug: "new", domain: "x.nodepoint.eu", plan: "standard" },
      "customers/new.yaml",
    );
    expect(!r1.ok && r1.problems[0]?.message).toBe("the customer VMID range 1000-1002 is exhausted");
    const fewIps = {
      ...config,
      customerPools: { ...config.customerPools, ips: { first: "192.168.1.100", last: "192.168.1.102" } },
    };
    const r2 = planNewCustomer(
      fewIps,
      topology,
      existing,
      { slug: "new", domain: "x.nodepoint.eu", plan: "standard" },
      "customers/new.yaml",
    );
    expect(!r2.ok && r2.problems[0]?.message).toBe("the customer IP pool 192.168.1.100-192.168.1.102 is exhausted");
    const huge = {
      ...config,
      plans: {
        ...config.plans,
        standard: { cores: 2, memoryMiB: 200_000, diskGiB: 20, ha: false, backups: 3, customDomains: 5 },
      },
    };
    const r3 = planNewCustomer(
      huge,
      topology,
      [] as ParsedCustomerFile[],
      { slug: "new", domain: "x.nodepoint.eu", plan: "standard" },
      "customers/new.yaml",
    );
    expect(!r3.ok && r3.problems[0]?.message).toMatch(
      /^no customer node \(node1, node2\) has room for 2 cores, 200000 MiB/,
    );
  });

  it.each(domainCases)("refuses what the plan refuses: %s", (_t, domain, message) => {
    const r = planNewCustomer(config, topology, existing, { slug: "new", domain }, "customers/new.yaml");
    expect(r.ok).toBe(false);
    if (!r.ok)
      // add writes the domain lower-cased: the same message, in lower case
      expect(
        r.problems
          .map((p) => `${p.file}: ${p.field}: ${p.message}`)
          .join("\n")
          .toLowerCase(),
      ).toContain(`customers/new.yaml: domain: ${message}`.toLowerCase());
  });

  it("whatever it accepts, the plan accepts: the file's YAML text parsed back and validated with every customer", () => {
    const label = fc.stringMatching(/^[a-zA-Z0-9äöü*_ .-]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 3 }),
        fc.constantFrom("nodepoint.eu", "NodePoint.EU", "nodepoint.eu.", "example.org", ""),
        fc.stringMatching(/^[a-z0-9-]{1,12}$/),
        fc.constantFrom(undefined, "basic", "premium"),
        (labels, zone, slug, plan) => {
          const domain = [...labels, zone].filter((l) => l !== "").join(".");
          const r = planNewCustomer(
            config,
            topology,
            existing,
            { slug, domain, ...(plan ? { plan } : {}) },
            `customers/${slug}.yaml`,
          );
          if (!r.ok) return;
          const read = parseCustomerText(stringify(r.file), `${slug}.yaml`, `customers/${slug}.yaml`);
          expect(read.problems).toEqual([]);
          expect(read.file?.data).toEqual(r.file);
          expect(validateCustomers(config, topology, [...existing, read.file!]).problems).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accepts a deeper name under a reserved one (the customer's own), and an ASCII (punycode) name", () => {
    for (const domain of ["www.shop.nodepoint.eu", "xn--bckerei-5wa.nodepoint.eu", "mail-shop.nodepoint.eu"]) {
      const r = planNewCustomer(config, topology, existing, { slug: "new", domain }, "customers/new.yaml");
      expect(r.ok, domain).toBe(true);
    }
  });
});
