/** `npm run plan`, the main job, as a user runs it: its printed tree and tables, its errors. */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

const work = mkdtempSync(join(tmpdir(), "plan-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function plan(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/plan.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("npm run plan", () => {
  it("prints every resource under its parent with key figures, and the capacity tables", () => {
    const { code, out } = plan("--customers", FIXTURE_CUSTOMERS);
    expect(code).toBe(0);
    expect(out).toMatch(/^Stack prod: \d+ resources, 0 provider invokes, planned offline in \d+ ms$/m);
    expect(out).toContain(
      "  nodepoint:network:OpenWrtRouter router\n    proxmoxve:index/containerLegacy:ContainerLegacy router-ct-10001  vmid=10001 node=node3 cores=4 mem=512MiB privileged tags=router [protected, import=node3/10001]",
    );
    expect(out).toContain(
      "proxmoxve:index/vmLegacy:VmLegacy ispconfig-vm-100  vmid=100 node=node2 cores=12 mem=65536MiB [protected, import=node2/100]",
    );
    expect(out).toContain(
      "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost nordlicht-proxy  nordlicht.nodepoint.eu -> 192.168.1.101:80 ssl-forced=true",
    );
    // Each figure beside its limit (physical × overcommit): node1 carries the seed's measured 92.8 GB
    // plus the fixtures' 12 GiB; node3 the adopted guests' 18.5 GiB (more than the 13.5 GB measured).
    expect(out).toMatch(
      /^node1\s+3\s+6\s+224 \(56 × 4\)\s+2\.7%\s+92\.8 GiB\s+104\.8 GiB\s+160\.0 GiB \(128\.0 × 1\.25\)\s+65\.5%$/m,
    );
    expect(out).toMatch(
      /^node3\s+4\s+14\s+16 \(4 × 4\)\s+87\.5%\s+13\.5 GiB\s+18\.5 GiB\s+20\.0 GiB \(16\.0 × 1\.25\)\s+92\.5%$/m,
    );
    // seed's 158 GiB + 2 basic customers x 20 GiB + 1 premium x 80 GiB
    expect(out).toMatch(/^global-lvm\s+shared\s+278\.0 GiB\s+1771 GiB \(1771 × 1\)\s+15\.7%$/m);
  });

  it("bad input: exit 1, every problem with file and field, no stack trace", () => {
    const dir = join(work, "bad");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, "shop.yaml"), "domain: shop.example.com\nvmid: 1000\nip: 192.168.1.100\nnode: node1\n");
    const { code, err, out } = plan("--customers", dir);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain(
      "shop.yaml: domain: shop.example.com is not inside any of the stack's Cloudflare zones (nodepoint.eu)",
    );
    expect(err).toContain("Nothing was declared.");
    expect(err).not.toMatch(/\n\s+at /);
  });

  it("an unknown stack names the file and how to choose one", () => {
    const { code, err } = plan("--stack", "nosuch");
    expect(code).toBe(1);
    expect(err).toContain("Pulumi.nosuch.yaml: (file): cannot be read (does the stack exist? use --stack NAME)");
  });
});

describe("npm run plan: command line", () => {
  it.each([["--help"], ["-h"], ["--diff", "--help"]])("%s prints the usage and exits 0 without planning", (...args) => {
    const { code, out, err } = plan(...args);
    expect(code).toBe(0);
    expect(out).toMatch(/^usage: npm run plan -- /);
    expect(out).toContain("--fail-on KINDS");
    expect(err).toBe("");
  });

  it.each([
    [["--frobnicate"], "Unknown option '--frobnicate'"],
    [["extra"], "unexpected argument extra"],
    [["--diff", "a", "b"], "unexpected argument b"],
    [["--json", "x.json", "--diff"], "choose one of --json, --diff"],
    [["--fail-on", "replace"], "--fail-on needs --diff"],
    [
      ["--diff", "--fail-on", "explode"],
      "--fail-on takes a comma-separated list of add, change, replace, delete (not: explode)",
    ],
    [["--diff", "no-such-ref-1f2e3d"], "--diff no-such-ref-1f2e3d: not a commit, branch or tag of this repository"],
  ])("usage error %j: exit 2, what is wrong, then the usage; no stack trace, no 'plan failed'", (args, message) => {
    const { code, out, err } = plan(...args);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toContain(`plan: ${message}`);
    expect(err).toContain("usage: npm run plan -- ");
    expect(err).not.toContain("plan failed");
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe("npm run plan -- --diff", () => {
  // A baseline of the fixtures in which nordlicht's container was on node2 (so it moves: a
  // replacement), then the fixtures changed: kaffeebar added, studio-kern decommissioned (its DNS
  // record, proxy host and installer deleted).
  const baseline = join(work, "baseline.json");
  const fixturesPlan = join(work, "fixtures.json");
  const changed = join(work, "changed");
  const setUp = () => {
    expect(plan("--customers", FIXTURE_CUSTOMERS, "--json", fixturesPlan).code).toBe(0);
    const doc = JSON.parse(readFileSync(fixturesPlan, "utf8")) as { resources: Array<{ name: string; inputs: any }> };
    doc.resources.find((r) => r.name === "nordlicht-ct")!.inputs.nodeName = "node2";
    writeFileSync(baseline, JSON.stringify(doc));
    mkdirSync(changed, { recursive: true });
    for (const f of readdirSync(FIXTURE_CUSTOMERS)) cpSync(join(FIXTURE_CUSTOMERS, f), join(changed, f));
    const edit = (name: string, from: string, to: string) =>
      writeFileSync(join(changed, name), readFileSync(join(changed, name), "utf8").replace(from, to));
    edit("studio-kern.yaml", "state: active", "state: decommissioned");
    writeFileSync(
      join(changed, "kaffeebar.yaml"),
      "domain: kaffeebar.nodepoint.eu\nvmid: 1003\nip: 192.168.1.103\nnode: node2\n",
    );
  };
  let outcome: ReturnType<typeof plan>;
  it("groups changes by customer, headed by VMID, IP, node and domain (before → after)", () => {
    setUp();
    outcome = plan("--customers", changed, "--diff", baseline);
    expect(outcome.code).toBe(0); // no --fail-on: informative only
    const out = outcome.out;
    expect(out).toContain(
      "#### Customer `kaffeebar`: CT 1003, 192.168.1.103, node2, kaffeebar.nodepoint.eu (new customer)",
    );
    expect(out).toContain("#### Customer `nordlicht`: CT 1001, 192.168.1.101, node2 → node1, nordlicht.nodepoint.eu");
    expect(out).toContain("#### Customer `studio-kern`: CT 1002, 192.168.1.102, node1, www.studio-kern.nodepoint.eu");
    expect(out).not.toContain("#### Customer `acme-bakery`"); // unchanged customers are not listed
    // every line under its customer's heading
    const section = (slug: string) => out.slice(out.indexOf(`#### Customer \`${slug}\``)).split("\n#### ")[0]!;
    expect(section("kaffeebar")).toContain(
      "- **add** `ContainerLegacy` kaffeebar-ct: vmid=1003 node=node2 cores=2 mem=2048MiB disk=global-lvm:20GiB unprivileged ip=192.168.1.103/24 [protected]",
    );
    expect(section("kaffeebar")).toContain(
      "- **add** `DnsRecord` kaffeebar-dns: kaffeebar.nodepoint.eu A 203.0.113.10",
    );
    expect(section("nordlicht")).toContain(
      '- **change** `ContainerLegacy` nordlicht-ct (replace)\n  - `nodeName`: "node2" -> "node1"',
    );
    expect(section("studio-kern")).toContain(
      "- **remove** `DnsRecord` studio-kern-dns: www.studio-kern.nodepoint.eu A 203.0.113.10",
    );
    // a protection change shows its value before and after
    expect(section("studio-kern")).toContain("  - option `protect`: true -> false");
    expect(out).toContain(":warning: REPLACES nordlicht-ct (ContainerLegacy)");
  });

  it.each([
    ["replace,delete", 3, ["replace: nordlicht-ct (ContainerLegacy)", "delete: studio-kern-dns (DnsRecord)"]],
    ["add", 3, ["add: kaffeebar-ct (ContainerLegacy)"]],
  ])(
    "--fail-on %s gates CI: exit %i, each refused change listed in the summary and on stderr",
    (kinds, code, findings) => {
      if (!outcome) setUp();
      const r = plan("--customers", changed, "--diff", baseline, "--fail-on", kinds);
      expect(r.code).toBe(code);
      expect(r.out).toContain(`**Refused by \`--fail-on ${kinds}\`**`);
      for (const f of findings) {
        expect(r.out).toContain(`- ${f}`);
        expect(r.err).toContain(f);
      }
    },
  );

  it.each([
    ["not JSON", "{ not json", "(json): is not valid JSON"],
    ["not a plan document", '{"stack": "prod"}', "resources: is required (not a plan document"],
  ])("a desired state to compare with that is %s is an error naming it, never a diff", (_what, text, problem) => {
    const file = join(work, "corrupt.json");
    writeFileSync(file, text);
    const r = plan("--customers", FIXTURE_CUSTOMERS, "--diff", file, "--fail-on", "replace,delete");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: ${problem}`);
    expect(r.out).toBe("");
  });

  it("--fail-on passes (exit 0) when the diff holds no change of those kinds", () => {
    if (!outcome) setUp();
    const r = plan("--customers", FIXTURE_CUSTOMERS, "--diff", fixturesPlan, "--fail-on", "replace,delete");
    expect(r.code).toBe(0);
    expect(r.out).toContain("no changes");
  });
});
