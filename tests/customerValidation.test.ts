/** Customer files are validated together; each bad input gets a message naming the file and field. */
import { describe, expect, it } from "vitest";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { containerNameProblems, validateCustomers } from "../lib/customers/validateCustomers";
import { domainCases } from "./helpers/customerCases";
import type { Baseline, DeployedSite } from "../lib/customers/baseline";
import { ROOT } from "./helpers/offlinePlan";
import { customerYaml, validateFiles } from "./helpers/validateFiles";

const config = stackConfigOf("prod", ROOT);
const topology = topologyOf(config);
const good = customerYaml;
const check = validateFiles;
const BASE = { "alpha.yaml": good("alpha", 1000, "192.168.1.100") };

/** A committed desired state holding these sites (placement defaults: node1, global-lvm, 20 GiB). */
function deployed(sites: Record<string, Partial<DeployedSite["placement"]> & Partial<DeployedSite>>): Baseline {
  const map = new Map<string, DeployedSite>();
  for (const [slug, s] of Object.entries(sites))
    map.set(slug, {
      slug,
      placement: { vmid: 1000, node: "node1", storage: "global-lvm", diskGiB: 20, ...s.placement, ...pick(s) },
      protect: s.protect ?? true,
      prepared: s.prepared ?? [],
      ha: s.ha ?? false,
    });
  return { file: "desired-state/prod.json", sites: map };
}
const pick = (s: object) =>
  Object.fromEntries(Object.entries(s).filter(([k]) => ["vmid", "node", "storage", "diskGiB"].includes(k)));

const bad: Array<[string, Record<string, string>, string]> = [
  [
    "slug with capitals",
    { "Shop.yaml": good("shop", 1001, "192.168.1.101") },
    'customers/Shop.yaml: (file name): slug "Shop" must be',
  ],
  [
    "slug with underscore",
    { "my_shop.yaml": good("shop", 1001, "192.168.1.101") },
    "customers/my_shop.yaml: (file name)",
  ],
  ["slug ending in hyphen", { "shop-.yaml": good("shop", 1001, "192.168.1.101") }, "customers/shop-.yaml: (file name)"],
  ["slug too long", { [`${"a".repeat(64)}.yaml`]: good("long", 1001, "192.168.1.101") }, "(file name): slug"],
  ["not YAML", { "b.yaml": "domain: [unclosed" }, "customers/b.yaml: (yaml):"],
  [
    "duplicate key",
    { "b.yaml": "domain: a.nodepoint.eu\ndomain: b.nodepoint.eu\nvmid: 1001\nip: 192.168.1.101\nnode: node1\n" },
    "customers/b.yaml: (yaml): Map keys must be unique",
  ],
  ["a list, not a mapping", { "b.yaml": "- domain: x\n" }, "customers/b.yaml: (document): must be a mapping"],
  [
    "missing domain",
    { "b.yaml": "vmid: 1001\nip: 192.168.1.101\nnode: node1\n" },
    "customers/b.yaml: domain: is required",
  ],
  [
    "missing vmid",
    { "b.yaml": "domain: b.nodepoint.eu\nip: 192.168.1.101\nnode: node1\n" },
    "customers/b.yaml: vmid: is required",
  ],
  [
    "missing ip",
    { "b.yaml": "domain: b.nodepoint.eu\nvmid: 1001\nnode: node1\n" },
    "customers/b.yaml: ip: is required",
  ],
  [
    "missing node",
    { "b.yaml": "domain: b.nodepoint.eu\nvmid: 1001\nip: 192.168.1.101\n" },
    "customers/b.yaml: node: is required",
  ],
  [
    "unknown key",
    { "b.yaml": good("b", 1001, "192.168.1.101", "colour: red\n") },
    "customers/b.yaml: colour: unknown key",
  ],
  [
    "malformed domain",
    { "b.yaml": "domain: not a domain\nvmid: 1001\nip: 192.168.1.101\nnode: node1\n" },
    'customers/b.yaml: domain: "not a domain" contains spaces',
  ],
  ...domainCases.map(([title, domain, message]): [string, Record<string, string>, string] => [
    title,
    { "b.yaml": `domain: ${JSON.stringify(domain)}\nvmid: 1001\nip: 192.168.1.101\nnode: node1\n` },
    `customers/b.yaml: domain: ${message}`,
  ]),
  [
    "domain outside the zones",
    { "b.yaml": "domain: b.example.com\nvmid: 1001\nip: 192.168.1.101\nnode: node1\n" },
    "customers/b.yaml: domain: b.example.com is not inside any of the stack's Cloudflare zones (nodepoint.eu)",
  ],
  [
    "look-alike zone",
    { "b.yaml": "domain: evilnodepoint.eu\nvmid: 1001\nip: 192.168.1.101\nnode: node1\n" },
    "customers/b.yaml: domain: evilnodepoint.eu is not inside",
  ],
  [
    "duplicate domain, other case",
    { ...BASE, "b.yaml": "domain: ALPHA.nodepoint.eu\nvmid: 1001\nip: 192.168.1.101\nnode: node1\n" },
    "customers/b.yaml: domain: ALPHA.nodepoint.eu is already used by customers/alpha.yaml",
  ],
  [
    "unknown plan",
    { "b.yaml": good("b", 1001, "192.168.1.101", "plan: gold\n") },
    'customers/b.yaml: plan: plan "gold" is not defined in the stack config (plans: basic, standard, premium)',
  ],
  [
    "VMID below the range",
    { "b.yaml": good("b", 999, "192.168.1.101") },
    "customers/b.yaml: vmid: 999 is outside the customer range 1000-7999",
  ],
  [
    "VMID above the range",
    { "b.yaml": good("b", 8000, "192.168.1.101") },
    "customers/b.yaml: vmid: 8000 is outside the customer range",
  ],
  [
    "VMID of an infrastructure guest",
    { "b.yaml": good("b", 100, "192.168.1.101") },
    "customers/b.yaml: vmid: 100 belongs to an infrastructure guest",
  ],
  [
    "VMID not an integer",
    { "b.yaml": good("b", 1001.5, "192.168.1.101") },
    "customers/b.yaml: vmid: Invalid input: expected int",
  ],
  [
    "duplicate VMID",
    { ...BASE, "b.yaml": good("b", 1000, "192.168.1.101") },
    "customers/b.yaml: vmid: 1000 is already used by customers/alpha.yaml",
  ],
  ["malformed IP", { "b.yaml": good("b", 1001, "192.168.1.256") }, "customers/b.yaml: ip: Invalid IPv4 address"],
  [
    "IP outside the pool",
    { "b.yaml": good("b", 1001, "192.168.1.250") },
    "customers/b.yaml: ip: 192.168.1.250 is outside the customer pool 192.168.1.100-192.168.1.249",
  ],
  [
    "IP outside the LAN",
    { "b.yaml": good("b", 1001, "10.0.0.5") },
    "customers/b.yaml: ip: 10.0.0.5 is outside the LAN 192.168.1.0/24",
  ],
  [
    "IP of a node",
    { "b.yaml": good("b", 1001, "192.168.1.10") },
    "customers/b.yaml: ip: 192.168.1.10 is a node, gateway or infrastructure address",
  ],
  [
    "IP of the gateway",
    { "b.yaml": good("b", 1001, "192.168.1.1") },
    "customers/b.yaml: ip: 192.168.1.1 is a node, gateway or infrastructure address",
  ],
  [
    "duplicate IP",
    { ...BASE, "b.yaml": good("b", 1001, "192.168.1.100") },
    "customers/b.yaml: ip: 192.168.1.100 is already used by customers/alpha.yaml",
  ],
  [
    "unknown node",
    { "b.yaml": good("b", 1001, "192.168.1.101").replace("node1", "node9") },
    'customers/b.yaml: node: unknown node "node9"',
  ],
  [
    "node without the DRBD pool",
    { "b.yaml": good("b", 1001, "192.168.1.101").replace("node1", "node3") },
    "customers/b.yaml: node: node3 does not have the customer storage global-lvm",
  ],
  [
    "local storage with HA",
    { "b.yaml": good("b", 1001, "192.168.1.101", "ha: true\nstorage: local-zfs\n") },
    'customers/b.yaml: ha: HA needs shared storage; "local-zfs" is local to one node',
  ],
  [
    "storage that holds no root disks",
    { "b.yaml": good("b", 1001, "192.168.1.101", "storage: backup\n") },
    'customers/b.yaml: storage: storage "backup" cannot hold container root disks',
  ],
  [
    "cores above bounds",
    { "b.yaml": good("b", 1001, "192.168.1.101", "cores: 16\n") },
    "customers/b.yaml: cores: 16 is outside the allowed 1-8",
  ],
  [
    "memory below bounds",
    { "b.yaml": good("b", 1001, "192.168.1.101", "memoryMiB: 128\n") },
    "customers/b.yaml: memoryMiB: 128 is outside the allowed 512-16384",
  ],
  [
    "disk above bounds",
    { "b.yaml": good("b", 1001, "192.168.1.101", "diskGiB: 500\n") },
    "customers/b.yaml: diskGiB: 500 is outside the allowed 8-200",
  ],
  [
    "negative disk",
    { "b.yaml": good("b", 1001, "192.168.1.101", "diskGiB: -5\n") },
    "customers/b.yaml: diskGiB: Too small",
  ],
  [
    "unknown state",
    { "b.yaml": good("b", 1001, "192.168.1.101", "state: paused\n") },
    "customers/b.yaml: state: Invalid option",
  ],
  [
    "ha not a boolean",
    { "b.yaml": good("b", 1001, "192.168.1.101", "ha: maybe\n") },
    "customers/b.yaml: ha: Invalid input: expected boolean",
  ],
  // Limits Proxmox VE sets, from lib/config/pveBounds.generated.json (generated from the PVE API schema)
  [
    "VMID below what PVE accepts",
    { "b.yaml": good("b", 99, "192.168.1.101") },
    "customers/b.yaml: vmid: must be at least 100: Proxmox VE refuses less (POST /nodes/{node}/lxc vmid (format pve-vmid))",
  ],
  [
    "VMID above what PVE accepts",
    { "b.yaml": good("b", 1_000_000_000, "192.168.1.101") },
    "customers/b.yaml: vmid: must be at most 999999999: Proxmox VE refuses more (POST /nodes/{node}/lxc vmid (format pve-vmid))",
  ],
  [
    "cores override above what PVE accepts",
    { "b.yaml": good("b", 1001, "192.168.1.101", "cores: 8193\n") },
    "customers/b.yaml: cores: must be at most 8192: Proxmox VE refuses more (POST /nodes/{node}/lxc cores)",
  ],
  [
    "cores override of zero",
    { "b.yaml": good("b", 1001, "192.168.1.101", "cores: 0\n") },
    "customers/b.yaml: cores: must be at least 1: Proxmox VE refuses less (POST /nodes/{node}/lxc cores)",
  ],
  [
    "memory override below what PVE accepts",
    { "b.yaml": good("b", 1001, "192.168.1.101", "memoryMiB: 8\n") },
    "customers/b.yaml: memoryMiB: must be at least 16 MiB: Proxmox VE refuses less (POST /nodes/{node}/lxc memory)",
  ],
  [
    "slug not a PVE host name",
    { "my_shop.yaml": good("shop", 1001, "192.168.1.101") },
    'customers/my_shop.yaml: (file name): slug "my_shop" is the container\'s host name and must be a container host name Proxmox VE accepts: dot-separated labels of letters, digits and hyphens, each starting and ending with a letter or digit (POST /nodes/{node}/lxc hostname (format dns-name))',
  ],
  [
    "slug with an empty label",
    { "shop..x.yaml": good("shop", 1001, "192.168.1.101") },
    'customers/shop..x.yaml: (file name): slug "shop..x" is the container\'s host name and must be a container host name Proxmox VE accepts',
  ],
  [
    "slug PVE refuses as a host name (customer containers carry no tags, so only the host name counts)",
    { "shöp.yaml": good("shop", 1001, "192.168.1.101") },
    'customers/shöp.yaml: (file name): slug "shöp" is the container\'s host name and must be a container host name Proxmox VE accepts',
  ],
  [
    "unknown confirmReplace field",
    { "b.yaml": good("b", 1001, "192.168.1.101", "confirmReplace: [domain]\n") },
    "customers/b.yaml: confirmReplace[0]: Invalid option",
  ],
];

describe("customer validation: each bad input, its message", () => {
  it("has at least 30 cases", () => expect(bad.length).toBeGreaterThanOrEqual(30));
  it.each(bad)("%s", (_title, files, expected) => {
    const { problems } = check(files);
    expect(problems.join("\n")).toContain(expected);
  });

  it("lists every problem at once, across files", () => {
    const { problems } = check({
      "a.yaml": good("a", 99, "192.168.1.1"),
      "b.yaml": good("b", 9000, "10.0.0.1", "cores: 99\n"),
    });
    expect(problems.length).toBeGreaterThanOrEqual(5);
    expect(problems.some((p) => p.startsWith("customers/a.yaml: vmid"))).toBe(true);
    expect(problems.some((p) => p.startsWith("customers/b.yaml: cores"))).toBe(true);
  });

  const onNode = (n: number, node: string, extra = "") => {
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++)
      files[`c${String(i).padStart(2, "0")}.yaml`] = good(`c${i}`, 1000 + i, `192.168.1.${100 + i}`, extra).replace(
        "node1",
        node,
      );
    return files;
  };

  it("capacity, memory: node2 carries VM 100's 64 GiB (more than the 33.9 GB measured); the customer that tips it over is named", () => {
    // 128 GiB × 1.25 = 160 GiB: 64 + 6 × 16 fits, the 7th does not
    const files = onNode(7, "node2", "memoryMiB: 16384\n");
    expect(check(files).problems).toEqual([
      "customers/c06.yaml: node: node2 would carry 180224 MiB of memory, above its capacity × overcommit: 131072 × 1.25 = 163840 MiB",
    ]);
    delete files["c06.yaml"];
    expect(check(files).problems).toEqual([]);
  });

  it("capacity, memory: node1 carries the seed's measured 92.8 GB before any customer", () => {
    // 160 GiB − 92.8 GiB leaves room for 4 customers of 16 GiB, not 10
    const files = onNode(5, "node1", "memoryMiB: 16384\n");
    expect(check(files).problems).toEqual([
      "customers/c04.yaml: node: node1 would carry 176947 MiB of memory, above its capacity × overcommit: 131072 × 1.25 = 163840 MiB",
    ]);
    delete files["c04.yaml"];
    expect(check(files).problems).toEqual([]);
  });

  it("capacity, CPU: node2's 12 cores × 4 hold VM 100's 12 vCPUs and 18 customers of 2, not a 19th", () => {
    const files = onNode(19, "node2");
    expect(check(files).problems).toEqual([
      "customers/c18.yaml: node: node2 would hold 50 cores of CPU, above its capacity × overcommit: 12 × 4 = 48 cores",
    ]);
    delete files["c18.yaml"];
    expect(check(files).problems).toEqual([]);
  });

  it("a change that replaces the container is refused unless the file confirms it", () => {
    const moved = { "b.yaml": good("b", 1001, "192.168.1.101").replace("node1", "node2") };
    const previous = deployed({ b: { vmid: 1001 } });
    expect(check(moved, previous).problems.join("\n")).toContain(
      "customers/b.yaml: node: changes from node1 to node2, which replaces the container and destroys the site's data",
    );
    const confirmed = { "b.yaml": `${moved["b.yaml"]}confirmReplace: [node]\n` };
    expect(check(confirmed, previous).problems).toEqual([]);
  });

  it("PVE's name limits hold for files that never went through parsing too (npm run customer -- add)", () => {
    const data = {
      domain: "b.nodepoint.eu",
      plan: "standard" as const,
      vmid: 1001,
      ip: "192.168.1.101",
      node: "node1",
      state: "active" as const,
    };
    const v = validateCustomers(config, topology, [{ slug: "b_b", file: "customers/b_b.yaml", data }]);
    expect(v.customers).toEqual([]);
    expect(v.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`)).toEqual([
      expect.stringMatching(
        /^customers\/b_b\.yaml: \(file name\): slug "b_b" is the container's host name and must be a container host name Proxmox VE accepts/,
      ),
    ]);
  });

  it.each([
    ["a valid slug", "shop", []],
    ["a slug refused as host name", "shöp", ['(file name): slug "shöp" is the container\'s host name and must be']],
    ["a slug longer than a host name may be", "a".repeat(256), ['(file name): slug "aaaa']],
  ] as Array<[string, string, string[]]>)("container names: %s", (_title, slug, expected) => {
    // Customer containers carry no tags (README, "Access"): the slug is checked as the host name only.
    const got = containerNameProblems(slug).map((p) => `${p.field}: ${p.message}`);
    expect(got).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(got[i]).toContain(e));
  });

  it("resolves defaults: the stack's default plan, premium gets HA, sizes and quotas from the plan", () => {
    const { customers, problems } = check({
      "p.yaml": good("p", 1001, "192.168.1.101", "plan: premium\n"),
      "s.yaml": good("s", 1002, "192.168.1.102", "memoryMiB: 4096\n"),
      "t.yaml": good("t", 1003, "192.168.1.103", "plan: standard\nserviceId: 42\nemail: owner@example.org\n"),
    });
    expect(problems).toEqual([]);
    expect(
      customers.map((c) => [c.slug, c.plan, c.ha, c.cores, c.memoryMiB, c.diskGiB, c.storage, c.zone, c.quotas]),
    ).toEqual([
      ["p", "premium", true, 2, 8192, 80, "global-lvm", "nodepoint.eu", { backups: 5, customDomains: 10 }],
      ["s", "basic", false, 2, 4096, 20, "global-lvm", "nodepoint.eu", { backups: 2, customDomains: 3 }],
      ["t", "standard", false, 2, 4096, 40, "global-lvm", "nodepoint.eu", { backups: 3, customDomains: 5 }],
    ]);
    expect(customers[2]).toMatchObject({ serviceId: 42, email: "owner@example.org" });
  });

  it("a Paymenter service id belongs to one customer", () => {
    const { problems } = check({
      "a.yaml": good("a", 1001, "192.168.1.101", "serviceId: 7\n"),
      "b.yaml": good("b", 1002, "192.168.1.102", "serviceId: 7\n"),
    });
    expect(problems).toEqual(["customers/b.yaml: serviceId: 7 is already the service of customers/a.yaml"]);
  });
});
