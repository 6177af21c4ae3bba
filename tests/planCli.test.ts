/** `npm run plan`, the main job, as a user runs it: its printed tree and tables, its errors. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
      "  nodepoint:network:OpenWrtRouter router\n    proxmoxve:index/containerLegacy:ContainerLegacy ct-10001-openwrt  vmid=10001 node=node3 cores=4 mem=512MiB privileged tags=router [protected, import=node3/10001]",
    );
    expect(out).toContain(
      "proxmoxve:index/vmLegacy:VmLegacy vm-100-ispconfig  vmid=100 node=node2 cores=12 mem=65536MiB [protected, import=node2/100]",
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

  it("--json writes the same bytes as the committed desired state", () => {
    const file = join(work, "plan.json");
    expect(plan("--json", file).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(readFileSync(join(ROOT, "desired-state/prod.json"), "utf8"));
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
