/**
 * Bad stack config fails before anything is declared, naming the file and the key. The stack-config
 * validator (parseStackConfig, pure) is tested directly on every case it owns; the whole program runs
 * only for what it alone checks (credentials, the infrastructure's capacity with the customers) and
 * for one validator case, to show it stops before declaring anything.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../lib/config/loadStackConfig";
import { readStackFile } from "../lib/config/stackFile";
import { InvalidInputError } from "../lib/errors";
import { offlinePlan, ROOT, stackValue, type TestPlanOptions } from "./helpers/offlinePlan";

const nodes = stackValue<any[]>("nodes");
const storage = stackValue<any[]>("storage");
const guests = stackValue<any[]>("guests");
const pools = stackValue<any>("customerPools");
const ha = stackValue<any>("ha");
const networks = stackValue<any>("networks");
const replaceAt = <T>(list: T[], i: number, patch: Partial<T>) =>
  list.map((x, j) => (j === i ? { ...x, ...patch } : x));

const cases: Array<[string, Parameters<typeof offlinePlan>[0], string]> = [
  [
    "node cores not a number",
    { set: { nodes: replaceAt(nodes, 0, { cores: "many" }) } },
    "nodepoint:nodes[0].cores: Invalid input: expected number, received string",
  ],
  ["node IP malformed", { set: { nodes: replaceAt(nodes, 1, { ip: "192.168.1.300" }) } }, "nodepoint:nodes[1].ip"],
  [
    "duplicate node IP",
    { set: { nodes: replaceAt(nodes, 2, { ip: "192.168.1.10" }) } },
    "nodepoint:nodes[2].ip: 192.168.1.10 is already the address of node1",
  ],
  [
    "node outside the LAN",
    { set: { nodes: replaceAt(nodes, 2, { ip: "10.0.0.5" }) } },
    "nodepoint:nodes[2].ip: 10.0.0.5 is outside the LAN",
  ],
  [
    "two nodes cannot keep quorum",
    { set: { nodes: nodes.slice(0, 2) } },
    "nodepoint:nodes: an HA cluster needs at least 3 nodes",
  ],
  ["unknown node role", { set: { nodes: replaceAt(nodes, 0, { role: "gpu" }) } }, "nodepoint:nodes[0].role"],
  ["unknown key", { set: { nodes: replaceAt(nodes, 0, { ram: 1 } as any) } }, "nodepoint:nodes[0].ram: unknown key"],
  ["unknown top-level key", { set: { "nodepoint:colour": "blue" } }, "nodepoint:colour: unknown key"],
  ["missing section", { omit: ["nodepoint:ingress"] }, "nodepoint:ingress: is required"],
  [
    "storage on an unknown node",
    { set: { storage: replaceAt(storage, 1, { nodes: ["node1", "node9"], capacityGiB: { node1: 1, node9: 1 } }) } },
    'nodepoint:storage[1].nodes[1]: unknown node "node9"',
  ],
  [
    "storage without capacity for a node",
    { set: { storage: replaceAt(storage, 2, { capacityGiB: {} }) } },
    'nodepoint:storage[2].capacityGiB: no capacity given for node "node3"',
  ],
  ["unknown storage type", { set: { storage: replaceAt(storage, 0, { type: "ceph" }) } }, "nodepoint:storage[0].type"],
  ["HA mode does not match PVE 9", { set: { ha: { ...ha, mode: "group" } } }, "nodepoint:ha.mode: PVE 9 uses HA rules"],
  [
    "HA node without the DRBD pool",
    { set: { ha: { ...ha, nodes: { node1: 1, node3: 1 } } } },
    "nodepoint:ha.nodes.node3: HA node node3 does not have the customer storage",
  ],
  [
    "customer IP pool outside the LAN",
    { set: { customerPools: { ...pools, ips: { first: "10.1.1.1", last: "10.1.1.9" } } } },
    "nodepoint:customerPools.ips.first: 10.1.1.1 is outside the LAN",
  ],
  [
    "VMID range reversed",
    { set: { customerPools: { ...pools, vmids: { first: 5000, last: 4000 } } } },
    "nodepoint:customerPools.vmids: first (5000) is above last (4000)",
  ],
  [
    "customer storage unknown",
    { set: { customerPools: { ...pools, storage: "ceph-pool" } } },
    'nodepoint:customerPools.storage: unknown storage "ceph-pool"',
  ],
  [
    "guest on an unknown node",
    { set: { guests: replaceAt(guests, 2, { node: "node7" }) } },
    'nodepoint:guests[2].node: unknown node "node7"',
  ],
  [
    "guest bigger than its node",
    { set: { guests: replaceAt(guests, 2, { cores: 64 }) } },
    "nodepoint:guests[2].cores: 64 cores do not fit on node2",
  ],
  [
    "duplicate guest VMID",
    { set: { guests: replaceAt(guests, 3, { vmid: 100 }) } },
    "nodepoint:guests[3].vmid: VMID 100 is already used by ispconfig",
  ],
  [
    "infra VMID inside the customer range",
    { set: { guests: replaceAt(guests, 1, { vmid: 1500 }) } },
    "nodepoint:guests[1].vmid: VMID 1500 lies inside the customer range",
  ],
  [
    "second privileged container",
    { set: { guests: replaceAt(guests, 1, { privileged: true }) } },
    "nodepoint:guests[1].privileged: only the router container may be privileged",
  ],
  [
    "service container on the WAN",
    { set: { guests: replaceAt(guests, 1, { networks: ["wan", "lan"] }) } },
    "nodepoint:guests[1].networks: only the router container may sit on the WAN",
  ],
  [
    "DMZ gateway outside DMZ",
    { set: { networks: { ...networks, dmz: { ...networks.dmz, gateway: "192.168.1.1" } } } },
    "nodepoint:networks.dmz.gateway: 192.168.1.1 is outside 192.168.2.0/24",
  ],
  [
    "Cloudflare zone ID malformed",
    { set: { cloudflare: { zones: { "nodepoint.eu": "xyz" } } } },
    "nodepoint:cloudflare.zones.nodepoint.eu: must be a 32-hex-digit Cloudflare zone ID",
  ],
  [
    "backup job to a non-backup storage",
    {
      set: {
        backupJobs: [
          { id: "weekly", schedule: "01:00", storage: "local-lvm", node: "node3", keep: { "keep-last": 3 } },
        ],
      },
    },
    'nodepoint:backupJobs[0].storage: storage "local-lvm" does not hold backup content',
  ],
  [
    "infrastructure over capacity",
    { set: { customerPools: { ...pools, overcommit: { cpu: 4, memory: 1.0, storage: 1.0 } } } },
    "Pulumi.prod.yaml: nodepoint:customerPools.overcommit.memory: node3 would carry 18944 MiB of memory, above its capacity × overcommit: 16384 × 1 = 16384 MiB",
  ],
  [
    "infrastructure over its CPU limit",
    { set: { customerPools: { ...pools, overcommit: { cpu: 2, memory: 1.25, storage: 1.0 } } } },
    "Pulumi.prod.yaml: nodepoint:customerPools.overcommit.cpu: node3 would hold 14 cores of CPU, above its capacity × overcommit: 4 × 2 = 8 cores",
  ],
  // Limits Proxmox VE sets, from lib/config/pveBounds.generated.json (generated from the PVE API schema)
  [
    "guest VMID below what PVE accepts",
    { set: { guests: replaceAt(guests, 1, { vmid: 99 }) } },
    "nodepoint:guests[1].vmid: must be at least 100: Proxmox VE refuses less (POST /nodes/{node}/lxc vmid (format pve-vmid))",
  ],
  [
    "guest VMID above what PVE accepts",
    { set: { guests: replaceAt(guests, 2, { vmid: 1_000_000_000 }) } },
    "nodepoint:guests[2].vmid: must be at most 999999999: Proxmox VE refuses more (POST /nodes/{node}/lxc vmid (format pve-vmid))",
  ],
  [
    "container name not a PVE host name",
    { set: { guests: replaceAt(guests, 1, { name: "web_site" }) } },
    "nodepoint:guests[1].name: must be a host name Proxmox VE accepts: dot-separated labels of letters, digits and hyphens, each starting and ending with a letter or digit (POST /nodes/{node}/lxc hostname (format dns-name))",
  ],
  [
    "container name longer than PVE accepts",
    { set: { guests: replaceAt(guests, 1, { name: "w".repeat(256) }) } },
    "nodepoint:guests[1].name: must be a host name of at most 255 characters: Proxmox VE refuses longer ones (POST /nodes/{node}/lxc hostname (format dns-name))",
  ],
  [
    "VM name not a PVE DNS name",
    { set: { guests: replaceAt(guests, 2, { name: "isp..config" }) } },
    "nodepoint:guests[2].name: must be a VM name Proxmox VE accepts: dot-separated labels",
  ],
  [
    "template name not a PVE DNS name",
    { set: { guests: replaceAt(guests, 5, { name: "-ubuntu" }) } },
    "nodepoint:guests[5].name: must be a VM name Proxmox VE accepts",
  ],
  [
    "guest tag PVE refuses",
    { set: { guests: replaceAt(guests, 0, { tags: ["router", "-edge"] }) } },
    "nodepoint:guests[0].tags[1]: must be a tag Proxmox VE accepts: each tag must match [a-z0-9_][a-z0-9_\\-\\+\\.]* (any case) (POST /nodes/{node}/lxc tags (format pve-tag-list))",
  ],
  [
    "guest tag with a space",
    { set: { guests: replaceAt(guests, 2, { tags: ["mail server"] }) } },
    "nodepoint:guests[2].tags[0]: must be a tag Proxmox VE accepts",
  ],
  [
    "container cores above what PVE accepts",
    { set: { guests: replaceAt(guests, 1, { cores: 8193 }) } },
    "nodepoint:guests[1].cores: must be at most 8192: Proxmox VE refuses more (POST /nodes/{node}/lxc cores)",
  ],
  [
    "container memory below what PVE accepts",
    { set: { guests: replaceAt(guests, 1, { memoryMiB: 15 }) } },
    "nodepoint:guests[1].memoryMiB: must be at least 16 MiB: Proxmox VE refuses less (POST /nodes/{node}/lxc memory)",
  ],
  [
    "VM memory below what PVE accepts",
    { set: { guests: replaceAt(guests, 2, { memoryMiB: 8 }) } },
    "nodepoint:guests[2].memoryMiB: must be at least 16 MiB: Proxmox VE refuses less (POST /nodes/{node}/qemu memory)",
  ],
  [
    "VM without cores",
    { set: { guests: replaceAt(guests, 3, { cores: 0 }) } },
    "nodepoint:guests[3].cores: must be at least 1: Proxmox VE refuses less (POST /nodes/{node}/qemu cores)",
  ],
  [
    "customer VMIDs below what PVE accepts",
    { set: { customerPools: { ...pools, vmids: { first: 50, last: 7999 } } } },
    "nodepoint:customerPools.vmids.first: must be at least 100: Proxmox VE refuses less",
  ],
  [
    "customer VMIDs above what PVE accepts",
    { set: { customerPools: { ...pools, vmids: { first: 1000, last: 1_000_000_000 } } } },
    "nodepoint:customerPools.vmids.last: must be at most 999999999: Proxmox VE refuses more",
  ],
  [
    "customer core bound above what PVE accepts",
    { set: { customerPools: { ...pools, bounds: { ...pools.bounds, cores: { first: 1, last: 10_000 } } } } },
    "nodepoint:customerPools.bounds.cores.last: must be at most 8192: Proxmox VE refuses more (POST /nodes/{node}/lxc cores)",
  ],
  [
    "customer memory bound below what PVE accepts",
    { set: { customerPools: { ...pools, bounds: { ...pools.bounds, memoryMiB: { first: 8, last: 16384 } } } } },
    "nodepoint:customerPools.bounds.memoryMiB.first: must be at least 16 MiB: Proxmox VE refuses less (POST /nodes/{node}/lxc memory)",
  ],
  [
    "plan memory below what PVE accepts",
    { set: { plans: { standard: { cores: 2, memoryMiB: 12, diskGiB: 20, ha: false } } } },
    "nodepoint:plans.standard.memoryMiB: must be at least 16 MiB: Proxmox VE refuses less",
  ],
  [
    "HA restarts below what PVE accepts",
    { set: { ha: { ...ha, maxRestart: -1 } } },
    "nodepoint:ha.maxRestart: must be at least 0: Proxmox VE refuses less (POST /cluster/ha/resources max_restart)",
  ],
  [
    "HA relocations below what PVE accepts",
    { set: { ha: { ...ha, maxRelocate: -2 } } },
    "nodepoint:ha.maxRelocate: must be at least 0: Proxmox VE refuses less (POST /cluster/ha/resources max_relocate)",
  ],
  [
    "HA relocations above the project's cap",
    { set: { ha: { ...ha, maxRelocate: 11 } } },
    "nodepoint:ha.maxRelocate: must be at most 10 (this project's cap)",
  ],
  [
    "missing Proxmox token",
    { omit: ["proxmoxve:apiToken"] },
    "proxmoxve:apiToken: is missing (the Proxmox VE API token for infrastructure changes); set it with: pulumi config set --secret proxmoxve:apiToken",
  ],
  ["missing Cloudflare token", { omit: ["cloudflare:apiToken"] }, "cloudflare:apiToken: is missing"],
  ["token in plain text", { plain: ["proxmoxve:apiToken"] }, "proxmoxve:apiToken: is stored in plain text"],
  [
    "token malformed",
    { set: { "proxmoxve:apiToken": "root:password" } },
    "proxmoxve:apiToken: does not look like the Proxmox VE API token",
  ],
  [
    "installer key missing",
    { omit: ["nodepoint:installerSshKey"] },
    "nodepoint:installerSshKey: is missing (the WordPress installer's SSH private key (unencrypted ed25519, OpenSSH format)); set it with: ssh-keygen -t ed25519",
  ],
  [
    "installer key not a private key",
    {
      set: {
        "nodepoint:installerSshKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhsFtuDLm66Hr0UBuuCKB7FosO8HKzBf2vaddDN9OEF",
      },
    },
    "nodepoint:installerSshKey: is not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----); set it with:",
  ],
];

/** Cases only the whole program sees: credentials (the secret config) and capacity (customer validation). */
const PROGRAM_ONLY = new Set([
  "infrastructure over capacity",
  "infrastructure over its CPU limit",
  "missing Proxmox token",
  "missing Cloudflare token",
  "token in plain text",
  "token malformed",
  "installer key missing",
  "installer key not a private key",
]);
/** A validator case the whole program runs too: the program reports it and declares nothing. */
const THROUGH_THE_PROGRAM = "node cores not a number";

/** The prod stack file's flat config with a case's changes, as offlinePlan applies them. */
function flatConfig(options: TestPlanOptions = {}): Record<string, string> {
  const { config } = readStackFile(join(ROOT, "Pulumi.prod.yaml"), "Pulumi.prod.yaml");
  for (const [key, value] of Object.entries(options.set ?? {}))
    config[key.includes(":") ? key : `nodepoint:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  for (const key of options.omit ?? []) delete config[key];
  return config;
}

describe("stack config errors, found by the validator", () => {
  it("the prod stack file passes", () => {
    expect(() => parseStackConfig(flatConfig(), "Pulumi.prod.yaml")).not.toThrow();
  });

  it.each(cases.filter(([title]) => !PROGRAM_ONLY.has(title)))("%s", (_title, options, expected) => {
    let err: unknown;
    try {
      parseStackConfig(flatConfig(options), "Pulumi.prod.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toContain(`Pulumi.prod.yaml: ${expected.replace(/^Pulumi\.prod\.yaml: /, "")}`);
  });
});

describe("stack config errors, as the whole program reports them", () => {
  const programCases = cases.filter(([title]) => PROGRAM_ONLY.has(title) || title === THROUGH_THE_PROGRAM);
  it("runs the program for the cases only it checks, and one more", () => {
    expect(programCases.map(([title]) => title).sort()).toEqual([...PROGRAM_ONLY, THROUGH_THE_PROGRAM].sort());
  });

  it.each(programCases)("%s", async (_title, options, expected) => {
    const err = await offlinePlan(options).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The program is re-evaluated per run, so its error class is a fresh copy: compare by name.
    expect((err as Error).name).toBe("InvalidInputError");
    const message = (err as Error).message;
    expect(message).toContain(`Pulumi.prod.yaml: ${expected.replace(/^Pulumi\.prod\.yaml: /, "")}`);
    expect(message).toContain("Nothing was declared.");
  });
});
