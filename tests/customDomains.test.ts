/**
 * Custom domains (lib/customers/customDomains.ts): within the plan's quota (refused over it, naming the
 * file and field), served by a proxy host only once their ownership is proven by a DNS TXT record,
 * which `customer verify-domain` checks against a real resolver (pointed at a fake DNS server) and
 * records in the file.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { changeCustomerPlan } from "../lib/customers/customerChanges";
import { judgeDomainProof, proofRecord, servedDomains } from "../lib/customers/customDomains";
import { parseCustomerText } from "../lib/customers/loadCustomers";
import { TYPES } from "../lib/providerFacts";
import { runDomainCommand } from "../scripts/customerDomains";
import { FakeDnsServer } from "./dns/fakeDnsServer";
import { FIXTURE_CUSTOMERS, offlinePlan, ROOT } from "./helpers/offlinePlan";
import { customerYaml, validateFiles } from "./helpers/validateFiles";

const config = stackConfigOf("prod", ROOT);
const PUBLIC_IP = config.ingress.publicIp;
const PROOF = "0123456789abcdef0123456789abcdef";
const site = customerYaml;
const check = (files: Record<string, string>) => validateFiles(files);
const domainsYaml = (...domains: Array<string | [string, string]>) =>
  `customDomains:\n${domains
    .map((d) =>
      typeof d === "string"
        ? `  - { domain: ${d}, proof: ${PROOF} }`
        : `  - { domain: ${d[0]}, proof: ${PROOF}, verifiedAt: "${d[1]}" }`,
    )
    .join("\n")}\n`;

describe("the customer file's customDomains", () => {
  it("within the plan's quota; over it refused naming the file and the field", () => {
    const three = check({
      "alpha.yaml": site(
        "alpha",
        1000,
        "192.168.1.100",
        domainsYaml("a.example.com", "b.example.com", "c.example.com"),
      ),
    });
    expect(three.problems).toEqual([]);
    expect(three.customers[0]!.customDomains).toEqual([
      { domain: "a.example.com", verified: false },
      { domain: "b.example.com", verified: false },
      { domain: "c.example.com", verified: false },
    ]);
    const four = check({
      "alpha.yaml": site(
        "alpha",
        1000,
        "192.168.1.100",
        domainsYaml("a.example.com", "b.example.com", "c.example.com", "d.example.com"),
      ),
    });
    expect(four.problems).toEqual([
      "customers/alpha.yaml: customDomains: 4 custom domains, but the basic plan allows 3 (nodepoint:plans.basic.customDomains): remove one, or move to a bigger plan",
    ]);
    // The premium plan allows 10.
    const premium = check({
      "alpha.yaml": site(
        "alpha",
        1000,
        "192.168.1.100",
        `plan: premium\n${domainsYaml(...Array.from({ length: 10 }, (_, i) => `d${i}.example.com`))}`,
      ),
    });
    expect(premium.problems).toEqual([]);
  });

  it("refuses a platform zone's name (the site's own domain among them), a domain twice or another customer's, a bad proof or date", () => {
    const { problems } = check({
      "alpha.yaml": site(
        "alpha",
        1000,
        "192.168.1.100",
        domainsYaml("shop.nodepoint.eu", "a.example.com", "A.example.com"),
      ),
      "beta.yaml": site("beta", 1001, "192.168.1.101", `plan: premium\n${domainsYaml("a.example.com")}`),
      "gamma.yaml": site(
        "gamma",
        1002,
        "192.168.1.102",
        "customDomains:\n  - { domain: x.example.com, proof: guess, verifiedAt: yesterday }\n  - { domain: bad_name.example.com, proof: " +
          PROOF +
          " }\n",
      ),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "customers/alpha.yaml: customDomains[0].domain: shop.nodepoint.eu is inside the platform's zone nodepoint.eu: a custom domain is the customer's own (a name in nodepoint.eu is a site's domain)",
        "customers/alpha.yaml: customDomains[2].domain: A.example.com is listed twice (also customDomains[1])",
        "customers/beta.yaml: customDomains[0].domain: a.example.com is already used by customers/alpha.yaml",
      ]),
    );
    expect(
      problems.filter((p) => p.startsWith("customers/gamma.yaml")).map((p) => p.split(": ").slice(0, 2).join(": ")),
    ).toEqual([
      "customers/gamma.yaml: customDomains[0].proof",
      "customers/gamma.yaml: customDomains[0].verifiedAt",
      "customers/gamma.yaml: customDomains[1].domain",
    ]);
  });
});

describe("a plan change and the quota", () => {
  it("moving to a plan that allows fewer custom domains than the file lists is refused, naming customDomains", () => {
    const text = site(
      "alpha",
      1000,
      "192.168.1.100",
      `plan: standard\n${domainsYaml("a.example.com", "b.example.com", "c.example.com", "d.example.com")}`,
    );
    const parsed = parseCustomerText(text, "alpha.yaml", "customers/alpha.yaml").file!;
    const change = changeCustomerPlan({ config, topology: topologyOf(config), files: [parsed] }, parsed, "premium");
    expect(change.ok).toBe(true);
    // standard (40 GiB) to basic would shrink the disk; a site sized like basic shows the quota alone.
    const small = parseCustomerText(
      text.replace("plan: standard", "plan: standard\ndiskGiB: 20"),
      "alpha.yaml",
      "customers/alpha.yaml",
    ).file!;
    const refused = changeCustomerPlan({ config, topology: topologyOf(config), files: [small] }, small, "basic");
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.problems).toEqual([
      {
        file: "customers/alpha.yaml",
        field: "customDomains",
        message:
          "4 custom domains, but the basic plan allows 3 (nodepoint:plans.basic.customDomains): remove one, or move to a bigger plan",
      },
    ]);
  });
});

describe("the ownership proof", () => {
  const answers = (proofTxt: string[], addresses: string[]) => ({ proofTxt, addresses });
  const record = proofRecord("Shop.Example.com", PROOF);

  it("is a TXT record under the domain with the file's token", () => {
    expect(record).toEqual({
      name: "_nodepoint-verification.shop.example.com",
      value: `nodepoint-verification=${PROOF}`,
    });
  });

  it("needs the TXT record with this token, and the domain pointing at the public ingress", () => {
    expect(
      judgeDomainProof("shop.example.com", PROOF, answers([record.value, "v=spf1 -all"], [PUBLIC_IP]), PUBLIC_IP),
    ).toEqual({ ok: true });
    expect(judgeDomainProof("shop.example.com", PROOF, answers([], []), PUBLIC_IP)).toEqual({
      ok: false,
      missing: [
        `no TXT record at ${record.name}: publish ${record.name} TXT "${record.value}"`,
        `shop.example.com has no A record: point it at ${PUBLIC_IP} (A record, or a CNAME to the site's domain)`,
      ],
    });
    const other = judgeDomainProof(
      "shop.example.com",
      PROOF,
      answers(["nodepoint-verification=ffff"], ["198.51.100.7"]),
      PUBLIC_IP,
    );
    expect(other).toEqual({
      ok: false,
      missing: [
        `the TXT records at ${record.name} ("nodepoint-verification=ffff") do not hold "${record.value}"`,
        `shop.example.com points at 198.51.100.7, not at the platform's ${PUBLIC_IP}`,
      ],
    });
  });
});

describe("the names a site answers on (the provisioner's GET /status domains)", () => {
  it("its domain, then its proven custom domains; an unproven one is not served", () => {
    expect(servedDomains({ domain: "Shop.nodepoint.eu" })).toEqual(["shop.nodepoint.eu"]);
    expect(
      servedDomains({
        domain: "shop.nodepoint.eu",
        customDomains: [
          { domain: "Pending.example.com", proof: PROOF },
          { domain: "WWW.example.com", proof: PROOF, verifiedAt: "2026-11-29T21:00:00.000Z" },
        ],
      }),
    ).toEqual(["shop.nodepoint.eu", "www.example.com"]);
  });
});

describe("a proxy host only for a proven domain", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "custom-domains-plan-"));
    cpSync(FIXTURE_CUSTOMERS, dir, { recursive: true });
    const file = join(dir, "acme-bakery.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8") +
        domainsYaml(["shop.acme-example.com", "2026-11-29T21:00:00.000Z"], "pending.acme-example.com"),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the plan serves the proven domain through NPM with its own certificate, the unproven one not at all, and writes no DNS for either", async () => {
    const plan = await offlinePlan({ customersDir: dir });
    const hosts = plan.resources.filter((r) => r.type === TYPES.npmProxyHost);
    const custom = hosts.filter((h) => !String(h.inputs["domain"]).endsWith(".nodepoint.eu"));
    expect(custom.map((h) => [h.name, h.inputs["domain"], h.inputs["forwardHost"], h.inputs["sslForced"]])).toEqual([
      ["acme-bakery-domain-shop.acme-example.com", "shop.acme-example.com", "192.168.1.100", true],
    ]);
    expect(JSON.stringify(plan.resources)).not.toContain("pending.acme-example.com");
    const dns = plan.resources.filter((r) => r.type === TYPES.dnsRecord).map((r) => String(r.inputs["name"]));
    expect(dns.some((n) => n.includes("acme-example.com"))).toBe(false);
    // The fixtures without custom domains plan as before.
    expect(hosts).toHaveLength(4);
  });
});

describe("customer add-domain / verify-domain / remove-domain", () => {
  let dns: FakeDnsServer;
  let dir: string;
  let out: string[];
  let err: string[];
  beforeAll(async () => {
    dns = await FakeDnsServer.start();
  });
  afterAll(() => dns.close());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "custom-domains-cli-"));
    cpSync(FIXTURE_CUSTOMERS, dir, { recursive: true });
    dns.records.a.clear();
    dns.records.txt.clear();
    dns.failing = false;
    out = [];
    err = [];
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = () => join(dir, "studio-kern.yaml");
  const entries = () =>
    (parse(readFileSync(file(), "utf8")) as { customDomains?: Array<Record<string, string>> }).customDomains;
  const cli = (...args: string[]) =>
    runDomainCommand([...args, "--customers", relative(ROOT, dir)], ROOT, () => new Date("2026-11-29T22:00:00Z"));

  it("adds unproven with a token, verifies against DNS, records the proof; the file's comments are kept", async () => {
    const before = readFileSync(file(), "utf8");
    expect(await cli("add-domain", "studio-kern", "Shop.Kern-Example.com")).toBe(0);
    const [entry] = entries()!;
    expect(entry).toEqual({ domain: "shop.kern-example.com", proof: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(readFileSync(file(), "utf8").startsWith(before.trimEnd().split("\n")[0]!)).toBe(true);
    const record = proofRecord("shop.kern-example.com", entry!.proof!);
    expect(out.join("\n")).toContain(`${record.name}. TXT "${record.value}"`);
    expect(out.join("\n")).toContain(`shop.kern-example.com. A ${PUBLIC_IP}`);

    const verify = () => cli("verify-domain", "studio-kern", "shop.kern-example.com", "--dns-server", dns.address);
    // Nothing published yet: refused, nothing written.
    expect(await verify()).toBe(1);
    expect(err.join("\n")).toContain(`no TXT record at ${record.name}`);
    expect(entries()![0]!["verifiedAt"]).toBeUndefined();
    // The proof, but the domain not pointing at the platform: still refused.
    dns.records.txt.set(record.name, ["google-site-verification=abc", record.value]);
    dns.records.a.set("shop.kern-example.com", ["198.51.100.7"]);
    err.length = 0;
    expect(await verify()).toBe(1);
    expect(err.join("\n")).toContain(
      `shop.kern-example.com points at 198.51.100.7, not at the platform's ${PUBLIC_IP}`,
    );
    expect(err.join("\n")).not.toContain("no TXT record");
    // Both: proven and recorded.
    dns.records.a.set("shop.kern-example.com", [PUBLIC_IP]);
    expect(await verify()).toBe(0);
    expect(entries()![0]).toMatchObject({ domain: "shop.kern-example.com", verifiedAt: "2026-11-29T22:00:00.000Z" });
    expect(dns.queries).toContain(`TXT ${record.name}`);

    expect(await cli("domains", "studio-kern")).toBe(0);
    expect(out.join("\n")).toContain("shop.kern-example.com");
    expect(await cli("remove-domain", "studio-kern", "shop.kern-example.com")).toBe(0);
    expect(entries()).toBeUndefined();
  });

  it("over the plan's quota is refused naming the file and field, nothing written", async () => {
    for (const d of ["a.kern-example.com", "b.kern-example.com", "c.kern-example.com"])
      expect(await cli("add-domain", "studio-kern", d)).toBe(0);
    const before = readFileSync(file(), "utf8");
    expect(await cli("add-domain", "studio-kern", "d.kern-example.com")).toBe(1);
    expect(err.join("\n")).toContain(
      `${relative(ROOT, file())}: customDomains: 4 custom domains, but the basic plan allows 3 (nodepoint:plans.basic.customDomains)`,
    );
    expect(readFileSync(file(), "utf8")).toBe(before);
  });

  it("refuses another customer's domain, a platform zone's name, an unlisted domain; a failing resolver is an error, not a missing record", async () => {
    expect(await cli("add-domain", "studio-kern", "acme-bakery.nodepoint.eu")).toBe(1);
    expect(await cli("add-domain", "studio-kern", "shop.nodepoint.eu")).toBe(1);
    expect(err.join("\n")).toContain("is inside the platform's zone nodepoint.eu");
    expect(await cli("verify-domain", "studio-kern", "nope.example.com", "--dns-server", dns.address)).toBe(1);
    expect(err.join("\n")).toContain("nope.example.com is not listed: add it first (customer add-domain)");
    expect(await cli("add-domain", "studio-kern", "shop.kern-example.com")).toBe(0);
    dns.failing = true;
    await expect(
      cli("verify-domain", "studio-kern", "shop.kern-example.com", "--dns-server", dns.address),
    ).rejects.toThrow(/DNS lookup of (TXT|A) .* failed \(ESERVFAIL\)/);
    expect(entries()![0]!["verifiedAt"]).toBeUndefined();
  });
});
