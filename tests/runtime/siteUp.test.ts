/**
 * `pulumi up` of the prod stack as far as this machine allows: index.ts through `cmd/run`, the
 * engine creating each resource in the order the program's dependencies allow, the proxy hosts
 * through the dynamic-provider plugin against the fake NPM (which, like Let's Encrypt, fails a
 * certificate for a domain without a DNS record), DNS records that take a while to appear.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROVIDER_LOADER } from "../../lib/npm/providerLoader";
import { echoInputs } from "../../lib/runtimePath/fakeEngine";
import { dynamicResourcesThrough, startDynamicProviderHost } from "../../lib/runtimePath/dynamicProviderHost";
import { runStack, stackConfig, type StackRunResult } from "../../lib/runtimePath/languageHost";
import { fixtureProject } from "../helpers/fixtureProject";
import { ROOT, stackValue, REAL_RUN_CONFIG } from "../helpers/offlinePlan";
import { FakeNpmServer, IDENTITY, SECRET } from "../npm/fakeNpmServer";
import { FakePveServer } from "../pve/fakePveServer";

const NO_LIMIT = 0;
const CUSTOMER_TOKEN = "pulumi-customers@pve!iac";
const CUSTOMER_SECRET = "11111111-2222-4333-8444-555555555555";
/** A proven custom domain of nordlicht's, in the customer's own DNS (no record made by the run). */
const CUSTOM_DOMAIN = "shop.nordlicht-example.com";
/** One fake NPM for the whole run (the tests below look at what the run left in it). */
let fake: FakeNpmServer;
/** The program's own PVE calls (storage checks, backup jobs) go to a fake PVE holding the live cluster. */
let pve: FakePveServer;
/** When each DNS record appeared (ms since the epoch). */
const dnsCreated = new Map<string, number>();
let run: StackRunResult;
let project: ReturnType<typeof fixtureProject> | undefined;

beforeAll(async () => {
  fake = await FakeNpmServer.start({ identity: IDENTITY, secret: SECRET });
  fake.dnsRecords = new Set();
  fake.certbotMs = 100;
  pve = (
    await FakePveServer.start({
      tokens: { "pulumi-infra@pve!iac": "00000000-0000-0000-0000-000000000000", [CUSTOMER_TOKEN]: CUSTOMER_SECRET },
    })
  ).liveCluster();
  const configOverrides = {
    ...REAL_RUN_CONFIG, // a run under the engine refuses the stack file's stand-in IP and zone ID
    "nodepoint:customersDir": "tests/fixtures/customers",
    "nodepoint:npm": JSON.stringify({ ...stackValue<object>("npm"), apiUrl: fake.apiUrl, identity: IDENTITY }),
    "nodepoint:npmPassword": SECRET,
    "nodepoint:proxmox": JSON.stringify({ ...stackValue<object>("proxmox"), endpoint: pve.endpoint }),
    // The customer token, made by hand and adopted: the restore points' provider reads it from here.
    "nodepoint:proxmoxCustomersApiToken": `${CUSTOMER_TOKEN}=${CUSTOMER_SECRET}`,
  };
  // The engine configures the plugin with the stack's whole config (the NPM user is in it).
  const plugin = await startDynamicProviderHost({
    root: ROOT,
    config: stackConfig(ROOT, "prod", configOverrides).config,
  });
  try {
    project = fixtureProject(); // the fixtures and their desired state: never the project's own customers/
    // nordlicht brings a custom domain whose proof was recorded; its DNS (the customer's) already
    // points at the platform, so its certificate can be issued.
    appendFileSync(
      join(project.root, "tests/fixtures/customers/nordlicht.yaml"),
      `customDomains:\n  - { domain: ${CUSTOM_DOMAIN}, proof: ${"ab".repeat(16)}, verifiedAt: "2026-11-29T21:00:00.000Z" }\n`,
    );
    fake.dnsRecords.add(CUSTOM_DOMAIN);
    run = await runStack({
      root: project.root,
      stack: "prod",
      dryRun: false,
      configOverrides,
      create: dynamicResourcesThrough(plugin, async (req) => {
        // Each customer container as PVE then lists it (the restore point `initial` is taken of it with
        // the customer token).
        if (req.type === "proxmoxve:index/containerLegacy:ContainerLegacy" && req.inputs["poolId"] === "customers") {
          const init = req.inputs["initialization"] as { hostname: string };
          pve.addGuest(
            {
              vmid: Number(req.inputs["vmId"]),
              type: "lxc",
              node: String(req.inputs["nodeName"]),
              name: init.hostname,
              status: "running",
            },
            "customers",
          );
        }
        if (req.type === "cloudflare:index/dnsRecord:DnsRecord") {
          // Cloudflare's API is not instant: without an explicit dependency a proxy host would go first.
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          const name = String(req.inputs["name"]).toLowerCase();
          fake.dnsRecords!.add(name);
          dnsCreated.set(name, Date.now());
        }
        return echoInputs(req);
      }),
    });
  } finally {
    await plugin.close();
  }
}, NO_LIMIT);
afterAll(async () => {
  project?.cleanup();
  await fake.close();
  await pve.close();
});

describe("pulumi up through cmd/run with the proxy hosts on the dynamic-provider plugin", () => {
  const domains = () => [...dnsCreated.keys()].sort();

  test("the run succeeds", () => {
    expect(run.exitCode, run.stderr + JSON.stringify(run.engine.logs.filter((l) => l.severity === "error"))).toBe(0);
    expect(domains()).toEqual(["acme-bakery.nodepoint.eu", "nordlicht.nodepoint.eu", "www.studio-kern.nodepoint.eu"]);
  });

  test("every site's domain serves HTTPS, and so does the proven custom domain (no DNS record of the run's)", () => {
    for (const domain of [...domains(), CUSTOM_DOMAIN]) expect(fake.servesHttps(domain), domain).toBe(true);
  });

  test("each certificate was requested after its domain's DNS record existed", () => {
    for (const e of fake.calls("POST", "/nginx/certificates")) {
      const domain = (e.requestBody as { domain_names: string[] }).domain_names[0]!;
      expect(e.started, domain).toBeGreaterThanOrEqual(dnsCreated.get(domain) ?? 0);
    }
  });

  test("certificates were requested one at a time", () => {
    expect(fake.calls("POST", "/nginx/certificates")).toHaveLength(4);
    expect(fake.maxConcurrentCertbot).toBe(1);
  });

  test("each site's restore point initial was taken, with the customer token, once its container existed", () => {
    for (const vmid of [1000, 1001, 1002])
      expect(pve.guests.get(vmid)!.snapshots.has("initial"), `CT ${vmid}`).toBe(true);
    const snapshots = pve.exchanges.filter((e) => e.method === "POST" && e.path.endsWith("/snapshot"));
    expect(snapshots.map((e) => e.status)).toEqual([200, 200, 200]);
    expect(pve.contractProblems()).toEqual([]);
  });

  test("each proxy host's __provider is the loader: small, the same bytes for every site", () => {
    const proxies = run.engine.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost");
    expect(proxies).toHaveLength(4);
    for (const p of proxies) expect(run.engine.inputsOf(p.urn)?.["__provider"]).toBe(PROVIDER_LOADER);
    expect(Buffer.byteLength(PROVIDER_LOADER)).toBeLessThan(1_024);
  });
});
