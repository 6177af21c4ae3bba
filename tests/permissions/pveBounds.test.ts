/**
 * (e) The bounds equal what the schema says. The schema is read here independently of
 * lib/permissions/pveApiSchema.ts: plain JSON, walked by hand.
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  HA_LIMITS,
  ID_FORMATS,
  namedFormat,
  QEMU_CORES,
  QEMU_MEMORY_MIB,
  QEMU_NAME,
  LXC_CORES,
  LXC_CPULIMIT,
  LXC_DESCRIPTION_MAX_LENGTH,
  LXC_FIREWALL,
  LXC_HOSTNAME,
  LXC_MEMORY_MIB,
  LXC_NET,
  LXC_OSTYPES,
  LXC_PASSWORD_MIN_LENGTH,
  LXC_SWAP_MIB,
  perlPatternToRegExp,
  TAGS,
  VMID,
} from "../../lib/permissions/pveBounds";

type Node = {
  path: string;
  info?: Record<string, { parameters?: { properties?: Record<string, Record<string, unknown>> } }>;
  children?: Node[];
};
const tree = JSON.parse(
  readFileSync(path.resolve(__dirname, "..", "..", "contracts", "proxmox-ve", "api-schema.json"), "utf8"),
) as Node[];

function find(nodes: Node[], p: string): Node | undefined {
  for (const n of nodes) {
    if (n.path === p) return n;
    const hit = find(n.children ?? [], p);
    if (hit) return hit;
  }
  return undefined;
}

function props(method: string, p: string): Record<string, Record<string, unknown>> {
  const properties = find(tree, p)?.info?.[method]?.parameters?.properties;
  if (!properties) throw new Error(`no ${method} ${p}`);
  return properties;
}

const lxc = props("POST", "/nodes/{node}/lxc");
const sub = (param: Record<string, unknown> | undefined, name: string) =>
  (param?.["format"] as Record<string, Record<string, unknown>>)[name];

describe("container create parameters", () => {
  test("vmid: pve-vmid, 100..999999999", () => {
    expect(lxc["vmid"]).toMatchObject({ format: "pve-vmid", minimum: 100, maximum: 999999999 });
    expect(VMID).toEqual({ format: "pve-vmid", min: 100, max: 999999999 });
  });

  test("hostname: dns-name, 255 characters", () => {
    expect(LXC_HOSTNAME).toEqual({ format: lxc["hostname"]?.["format"], maxLength: lxc["hostname"]?.["maxLength"] });
    expect(LXC_HOSTNAME).toEqual({ format: "dns-name", maxLength: 255 });
  });

  test("memory (min 16, no max), swap (min 0), cores (1..8192), cpulimit (0..8192)", () => {
    expect(LXC_MEMORY_MIB).toEqual({ min: lxc["memory"]?.["minimum"], max: undefined });
    expect(LXC_MEMORY_MIB.min).toBe(16);
    expect(LXC_SWAP_MIB).toEqual({ min: 0, max: undefined });
    expect(LXC_CORES).toEqual({ min: lxc["cores"]?.["minimum"], max: lxc["cores"]?.["maximum"] });
    expect(LXC_CORES).toEqual({ min: 1, max: 8192 });
    expect(LXC_CPULIMIT).toEqual({ min: 0, max: 8192 });
  });

  test("description, password, ostype", () => {
    expect(LXC_DESCRIPTION_MAX_LENGTH).toBe(lxc["description"]?.["maxLength"]);
    expect(LXC_PASSWORD_MIN_LENGTH).toBe(lxc["password"]?.["minLength"]);
    expect(LXC_OSTYPES).toEqual(lxc["ostype"]?.["enum"]);
    expect(LXC_OSTYPES).toContain("ubuntu");
  });

  test("net[n]: bridge and name patterns, VLAN tag, MTU", () => {
    const net = lxc["net[n]"];
    expect(LXC_NET.bridgePattern.source).toBe(`^(?:${String(sub(net, "bridge")?.["pattern"])})$`);
    expect(LXC_NET.vlanTag).toEqual({ min: sub(net, "tag")?.["minimum"], max: sub(net, "tag")?.["maximum"] });
    expect(LXC_NET.vlanTag).toEqual({ min: 1, max: 4094 });
    expect(LXC_NET.mtu).toEqual({ min: 64, max: 65535 });
    expect(LXC_NET.bridgePattern.test("vmbr0")).toBe(true);
    expect(LXC_NET.bridgePattern.test("vmbr0;rm")).toBe(false);
    expect(LXC_NET.namePattern.test("eth0")).toBe(true);
  });
});

describe("VM create parameters", () => {
  const qemu = props("POST", "/nodes/{node}/qemu");
  test("name: dns-name without a length limit; cores (1..N); memory.current (16..N)", () => {
    expect(QEMU_NAME).toEqual({ format: qemu["name"]?.["format"], maxLength: qemu["name"]?.["maxLength"] });
    expect(QEMU_NAME).toEqual({ format: "dns-name", maxLength: undefined });
    expect(QEMU_CORES).toEqual({ min: qemu["cores"]?.["minimum"], max: qemu["cores"]?.["maximum"] });
    expect(QEMU_CORES).toEqual({ min: 1, max: undefined });
    expect(QEMU_MEMORY_MIB).toEqual({ min: sub(qemu["memory"], "current")?.["minimum"], max: undefined });
    expect(QEMU_MEMORY_MIB.min).toBe(16);
  });
});

describe("named formats (regexes from pve-common, looked up by the schema's format name)", () => {
  test("dns-name: dot-separated labels of letters, digits and hyphens (pve_verify_dns_name)", () => {
    const { pattern } = namedFormat("dns-name");
    for (const ok of ["web", "Web-01", "ns1.nodepoint.eu", "a", "1"]) expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ["", "-web", "web-", "web_site", "a..b", ".a", "a.", "a b"])
      expect(pattern.test(bad), bad).toBe(false);
  });

  test("an unknown format is an error, not a silent pass", () => {
    expect(() => namedFormat("pve-vmid-list")).toThrow(/no regex known for the PVE format 'pve-vmid-list'/);
  });
});

describe("tags", () => {
  test("format pve-tag-list; one tag as the datacenter options state it", () => {
    expect(TAGS.format).toBe(lxc["tags"]?.["format"]);
    expect(TAGS.format).toBe("pve-tag-list");
    const options = props("PUT", "/cluster/options");
    const allowList = String(sub(options["user-tag-access"], "user-allow-list")?.["pattern"]);
    const registered = String(options["registered-tags"]?.["pattern"]);
    const oneTag = "[a-z0-9_][a-z0-9_\\-\\+\\.]*";
    expect(allowList).toContain(`(?^i:${oneTag})`);
    expect(registered).toContain(`(?^i:${oneTag})`);
    expect(TAGS.tagPattern.source).toBe(`^(?:${oneTag})$`);
    expect(TAGS.tagPattern.flags).toBe("i");
    expect(TAGS.userAllowDefault).toBe(sub(options["user-tag-access"], "user-allow")?.["default"]);
  });

  test("the pattern accepts and rejects what PVE does", () => {
    for (const ok of ["customer-acme", "premium", "Router", "a", "_x", "v1.2+b"])
      expect(TAGS.tagPattern.test(ok), ok).toBe(true);
    for (const bad of ["", "-lead", ".lead", "a b", "a,b", "a;b", "ümlaut"])
      expect(TAGS.tagPattern.test(bad), bad).toBe(false);
  });
});

describe("HA resources, firewall, IDs", () => {
  test("HA resource parameters", () => {
    const ha = props("POST", "/cluster/ha/resources");
    expect(HA_LIMITS).toEqual({
      maxRestart: { min: ha["max_restart"]?.["minimum"], max: ha["max_restart"]?.["maximum"] },
      maxRelocate: { min: ha["max_relocate"]?.["minimum"], max: ha["max_relocate"]?.["maximum"] },
    });
    expect(HA_LIMITS).toEqual({ maxRestart: { min: 0, max: undefined }, maxRelocate: { min: 0, max: undefined } });
  });

  test("container firewall", () => {
    const opts = props("PUT", "/nodes/{node}/lxc/{vmid}/firewall/options");
    const rules = props("POST", "/nodes/{node}/lxc/{vmid}/firewall/rules");
    expect(LXC_FIREWALL.policies).toEqual(opts["policy_in"]?.["enum"]);
    expect(LXC_FIREWALL.ruleTypes).toEqual(rules["type"]?.["enum"]);
    expect(LXC_FIREWALL.actionLength).toEqual({
      min: rules["action"]?.["minLength"],
      max: rules["action"]?.["maxLength"],
    });
    expect(LXC_FIREWALL.actionPattern.test("ACCEPT")).toBe(true);
    expect(LXC_FIREWALL.actionPattern.test("1bad")).toBe(false);
  });

  test("pool and storage ID formats", () => {
    expect(ID_FORMATS).toEqual({
      pool: props("POST", "/pools")["poolid"]?.["format"],
      storage: props("POST", "/storage")["storage"]?.["format"],
    });
  });
});

describe("Perl pattern translation", () => {
  test("anchors the whole value and translates (?^:) groups", () => {
    expect(perlPatternToRegExp("(?^:\\d+(?:;\\d+)*)").test("1;2")).toBe(true);
    expect(perlPatternToRegExp("(?^:\\d+(?:;\\d+)*)").test("1;x")).toBe(false);
    expect(perlPatternToRegExp("(?^i:[a-z]+)").test("ABC")).toBe(true);
    expect(() => perlPatternToRegExp("x(?^i:[a-z]+)")).toThrow(/inner flags/);
  });
});
