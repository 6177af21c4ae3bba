/**
 * `npm run customer` as support staff use it: help, usage errors (exit 2 with the usage), and
 * `add` never writing a file the plan then refuses.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { loadCustomerFiles } from "../lib/customers/loadCustomers";
import { validateCustomers } from "../lib/customers/validateCustomers";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "customer-cli-"));
  cpSync(FIXTURE_CUSTOMERS, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/customer.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const files = () => readdirSync(dir).sort();

describe("npm run customer: command line", () => {
  it.each([["--help"], ["add", "-h"]])("%s prints the usage, exit 0", (...args) => {
    const r = cli(...args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage:\n {2}npm run customer -- add <slug> --domain <domain>/);
    expect(r.err).toBe("");
  });

  it.each([
    [[], "which command?"],
    [["frobnicate", "x"], 'unknown command "frobnicate"'],
    [["add", "x"], "add needs --domain <domain>"],
    [["add", "x", "--domain", "x.nodepoint.eu", "--plan", "gold"], "--plan gold: not a plan of stack prod"],
    [["add", "x", "--domian", "x.nodepoint.eu"], "Unknown option '--domian'"],
  ])("usage error %j: exit 2, what is wrong, then the usage; nothing written", (args, message) => {
    const before = files();
    const r = cli(...args, "--customers", dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`customer: ${message}`);
    expect(r.err).toContain("usage:\n  npm run customer -- add");
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(files()).toEqual(before);
  });
});

describe("npm run customer -- add", () => {
  // Every case of tests/helpers/customerCases.ts goes through planNewCustomer in customerAdd.test.ts;
  // here two of them through the command a person types.
  it.each([
    ["bäckerei.nodepoint.eu", "write its ASCII (punycode) form xn--bckerei-5wa.nodepoint.eu"],
    ["ns1.nodepoint.eu", "is reserved: a nameserver of the zone (ISPConfig, VM 100"],
  ])("refuses %j, naming the file and field, and writes nothing (exit 1)", (domain, message) => {
    const before = files();
    const r = cli("add", "shop", "--domain", domain, "--customers", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`shop\\.yaml: domain: .*${message.replace(/[.*()]/g, "\\$&")}`));
    expect(r.err).toContain("nothing written");
    expect(files()).toEqual(before);
  });

  it("refuses a slug that already has a file under another extension", () => {
    writeFileSync(join(dir, "shop.yml"), "domain: shop.nodepoint.eu\nvmid: 1003\nip: 192.168.1.103\nnode: node2\n");
    const r = cli("add", "shop", "--domain", "other.nodepoint.eu", "--customers", dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('customer "shop" already exists');
    expect(existsSync(join(dir, "shop.yaml"))).toBe(false);
  });

  it("writes a file the plan's loader and validation accept, on the node with most room (node2)", () => {
    const r = cli("add", "kaffeebar", "--domain", "Kaffeebar.nodepoint.eu", "--customers", dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("vmid 1003, ip 192.168.1.103, node node2, plan basic");
    const config = stackConfigOf("prod", ROOT);
    const loaded = loadCustomerFiles(dir, ROOT);
    expect(loaded.problems).toEqual([]);
    expect(validateCustomers(config, topologyOf(config), loaded.files).problems).toEqual([]);
    expect(loaded.files.find((f) => f.slug === "kaffeebar")?.data.domain).toBe("kaffeebar.nodepoint.eu");
  });
});

describe("npm run customer -- show", () => {
  it("finds a customer as the plan does (a .yml file too), the plan's default filled in", () => {
    writeFileSync(
      join(dir, "teestube.yml"),
      "domain: teestube.nodepoint.eu\nvmid: 1003\nip: 192.168.1.103\nnode: node2\n",
    );
    const r = cli("show", "teestube", "--customers", dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("customer:       teestube (basic, active)");
    expect(r.out).toContain("container:      CT 1003 on node2, 192.168.1.103");
  });
});
