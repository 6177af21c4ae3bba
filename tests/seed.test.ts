/** Every item of the seed (shared/seed/proxmox-cluster.md) is declared with the seed's figures. */
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { FACTS } from "../lib/providerFacts";
import { byName, offlinePlan } from "./helpers/offlinePlan";

let plan: OfflineRunResult;
beforeAll(async () => {
  plan = await offlinePlan();
});
const res = (name: string, type?: string): RecordedResource => byName(plan.resources, name, type);
const inputs = (name: string, type?: string) => res(name, type).inputs as Record<string, any>;

describe("guests with the seed's figures", () => {
  it.each([
    // name, vmid, node, cores, memory MiB
    ["ispconfig-vm-100", 100, "node2", 12, 65536],
    ["paymenter-vm-107", 107, "node3", 4, 8192],
    ["nginx-proxy-manager-vm-201", 201, "node3", 2, 8192],
  ])("VM %s: vmid %i on %s, %i vCPU, %i MiB", (name, vmid, node, cores, memory) => {
    const vm = res(name, "VmLegacy");
    expect(vm.type).toBe("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vm.inputs).toMatchObject({
      vmId: vmid,
      nodeName: node,
      cpu: { cores },
      memory: { dedicated: memory },
      started: true,
    });
    // The importer reads `migrate` back as false: an adopted VM leaves it unset (lib/providerFacts.ts).
    expect(vm.inputs["migrate"]).toBeUndefined();
    expect(vm.options).toMatchObject({ protect: true, import: `${node}/${vmid}` });
    expect(vm.options.ignoreChanges).toEqual(
      expect.arrayContaining(["disks", "clone", "networkDevices[*].macAddress"]),
    );
  });

  it("CT 10001 is the OpenWrt router: privileged, 4 cores, 512 MB, tag router, WAN PPPoE VLAN 1203 + LAN + DMZ", () => {
    const ct = res("router-ct-10001", "ContainerLegacy");
    expect(ct.inputs).toMatchObject({
      vmId: 10001,
      nodeName: "node3",
      unprivileged: false,
      cpu: { cores: 4 },
      memory: { dedicated: 512 },
      tags: ["router"],
    });
    expect(ct.inputs["networkInterfaces"]).toEqual([
      { name: "eth0", bridge: "vmbr2", vlanId: 1203, firewall: false },
      { name: "eth1", bridge: "vmbr0", firewall: false },
      { name: "eth2", bridge: "vmbr1", firewall: false },
    ]);
    expect(ct.options).toMatchObject({ protect: true, import: "node3/10001" });
    expect(ct.parent).toContain("nodepoint:network:OpenWrtRouter::router");
    const others = plan.resources.filter(
      (r) => r.type.endsWith("ContainerLegacy") && r.inputs["unprivileged"] === false,
    );
    expect(others.map((r) => r.name)).toEqual(["router-ct-10001"]);
  });

  it("CT 102 is the website container on node3: 4 cores, 2 GB; privileged or not is not guessed", () => {
    expect(inputs("website-ct-102", "ContainerLegacy")).toMatchObject({
      vmId: 102,
      nodeName: "node3",
      cpu: { cores: 4 },
      memory: { dedicated: 2048 },
    });
    // The seed does not say; `unprivileged` forces replacement, so it is left as it is.
    expect(inputs("website-ct-102")["unprivileged"]).toBeUndefined();
    expect(res("website-ct-102").options).toMatchObject({ protect: true, import: "node3/102" });
    expect(res("website-ct-102").options.ignoreChanges).toContain("unprivileged");
  });

  it.each([
    ["templates-vm-8000-ubuntu-24-cloud", 8000, "node2", "image-ubuntu-24-cloud"],
    ["templates-vm-9000-ubuntu-template", 9000, "node3", "image-ubuntu-template"],
  ])("template %s: vmid %i on %s, adopted as it is (no image to download)", (name, vmid, node, image) => {
    const t = res(name, "VmLegacy");
    expect(t.inputs).toMatchObject({ vmId: vmid, nodeName: node, template: true, started: false });
    expect(t.options).toMatchObject({ protect: true, import: `${node}/${vmid}` });
    // Figures the seed does not state are left as they are.
    expect(t.options.ignoreChanges).toEqual(expect.arrayContaining(["cpu", "memory", "networkDevices"]));
    expect(plan.resources.some((r) => r.name === image)).toBe(false);
  });

  it("the Ubuntu 24.04 LXC template is on each customer node: adopted where the live platform has it, downloaded elsewhere", () => {
    for (const node of ["node1", "node2"]) {
      expect(inputs(`templates-lxc-template-${node}`, "File")).toMatchObject({
        nodeName: node,
        datastoreId: "local",
        contentType: "vztmpl",
        fileName: "ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        overwrite: false,
        overwriteUnmanaged: false,
      });
    }
    expect(res("templates-lxc-template-node2").options.import).toBe(
      "node2/local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
    );
    expect(res("templates-lxc-template-node1").options.import).toBeNull();
  });
});

describe("nodes, storage, backups, HA", () => {
  it("nodes: the three of the seed; their notes are left alone (none configured)", () => {
    expect(plan.resources.some((r) => r.type === "proxmoxve:node/config:Config")).toBe(false);
    expect(plan.outputs["clusterInfo"]).toEqual({ name: "cluster0", nodes: ["node1", "node2", "node3"], quorum: 2 });
  });

  it("storage: local-zfs on node1+node2, local-lvm thin on node3, /var/lib/vz and /backup/vzdump everywhere, checked as the cluster has them; DRBD referenced, not checked", () => {
    expect(inputs("storage-local-zfs", "PveStorage")).toMatchObject({
      storage: "local-zfs",
      type: "zfspool",
      pool: "rpool/data",
      nodes: ["node1", "node2"],
    });
    expect(inputs("storage-local-lvm", "PveStorage")).toMatchObject({
      storage: "local-lvm",
      type: "lvmthin",
      nodes: ["node3"],
      vgname: "pve",
      thinpool: "data",
    });
    // On every node: storage.cfg has no nodes line, so none is declared.
    expect(inputs("storage-local", "PveStorage")).toMatchObject({ type: "dir", path: "/var/lib/vz", shared: false });
    expect(inputs("storage-local", "PveStorage")["nodes"]).toBeUndefined();
    expect(inputs("storage-backup", "PveStorage")).toMatchObject({ path: "/backup/vzdump", content: ["backup"] });
    expect(plan.resources.some((r) => r.name === "global-lvm")).toBe(false);
    for (const id of ["local-zfs", "local-lvm", "local", "backup"])
      expect(res(`storage-${id}`).options).toMatchObject({ protect: true });
  });

  it("capacity: node and pool figures are the seed's", () => {
    const capacity = plan.outputs["capacity"] as { nodes: any[]; pools: any[] };
    expect(capacity.nodes.map((n) => [n.node, n.cores, n.memoryMiB])).toEqual([
      ["node1", 56, 131072],
      ["node2", 12, 131072],
      ["node3", 4, 16384],
    ]);
    expect(capacity.pools.find((p) => p.pool === "global-lvm")).toMatchObject({ scope: "shared", capacityGiB: 1771 });
    expect(capacity.pools.find((p) => p.pool === "backup" && p.scope === "node3")).toMatchObject({ capacityGiB: 4608 });
    // node3 carries CT 10001 + CT 102 + VM 107 + VM 201
    expect(capacity.nodes.find((n) => n.node === "node3")).toMatchObject({
      guests: 4,
      memoryAllocatedMiB: 512 + 2048 + 8192 + 8192,
    });
  });

  it("a backup job writes node3's guests to node3's backup pool; the cluster's jobs are adopted", () => {
    expect(inputs("backups-nightly-node3", "PveBackupJob")).toMatchObject({
      jobId: "nightly-node3",
      node: "node3",
      storage: "backup",
      // Narrowed on adoption to the infrastructure guests: customer containers have jobs of their own.
      pool: "infrastructure",
      mode: "snapshot",
      adopt: true,
    });
  });

  it("customer containers are backed up to node3's 4.5 TB pool, reached from node1 and node2 over NFS", () => {
    expect(inputs("storage-node3-backup", "PveStorage")).toMatchObject({
      type: "nfs",
      server: "192.168.1.5",
      nodes: ["node1", "node2"],
      content: ["backup"],
    });
    expect(inputs("nordlicht-backup", "PveBackupJob")).toMatchObject({ storage: "node3-backup", vmid: "1001" });
  });

  it("HA (PVE 9): each HA resource has its own node-affinity rule rule-<vmid> keeping it on node1/node2 (seed platform)", () => {
    const rule = res("nordlicht-ha-rule", "Harule");
    expect(rule.inputs).toMatchObject({
      rule: "rule-1001",
      type: "node-affinity",
      nodes: { node1: 2, node2: 1 },
      strict: true,
      resources: ["ct:1001"],
    });
    expect(rule.parent).toBe(res("nordlicht", "WordPressSite").urn);
    expect(rule.options.dependsOn).toContain(res("nordlicht-ha").urn);
    expect(plan.resources.filter((r) => r.type.endsWith("Harule"))).toHaveLength(
      plan.resources.filter((r) => r.type.endsWith("Haresource")).length,
    );
    expect(plan.resources.some((r) => r.type.endsWith("Hagroup"))).toBe(false);
  });

  it("HA (PVE 8 config): a group, named on each HA resource", async () => {
    const p = await offlinePlan({
      set: {
        proxmox: { endpoint: "https://192.168.1.10:8006/", insecure: true, majorVersion: 8 },
        ha: {
          mode: "group",
          name: "drbd-nodes",
          nodes: { node1: 2, node2: 1 },
          strict: true,
          maxRestart: 3,
          maxRelocate: 2,
        },
      },
    });
    expect(byName(p.resources, "ha-drbd-nodes", "Hagroup").inputs).toMatchObject({
      group: "drbd-nodes",
      restricted: true,
    });
    expect(byName(p.resources, "nordlicht-ha").inputs["group"]).toBe("drbd-nodes");
    expect(p.resources.some((r) => r.type.endsWith("Harule"))).toBe(false);
  });
});

describe("providers and options", () => {
  it("explicit providers built from config, tokens secret", () => {
    const px = res("proxmox-infra");
    expect(px.type).toBe("pulumi:providers:proxmoxve");
    expect(px.inputs).toMatchObject({ endpoint: "https://192.168.1.10:8006/", insecure: "true", apiToken: "[secret]" });
    expect(res("cloudflare").inputs["apiToken"]).toBe("[secret]");
    // Three Proxmox tokens (tests/access.test.ts has the details): access management, customer
    // containers and their firewall, and everything else (HA resources included) on proxmox-infra.
    const customers = res("proxmox-customers");
    const access = res("proxmox-access");
    for (const p of [customers, access])
      expect(p.inputs).toMatchObject({
        endpoint: "https://192.168.1.10:8006/",
        insecure: "true",
        apiToken: "[secret]",
      });
    const accessTypes = [
      "proxmoxve:index/roleLegacy:RoleLegacy",
      "proxmoxve:index/userLegacy:UserLegacy",
      "proxmoxve:user/token:Token",
      "proxmoxve:index/acl:Acl",
      "proxmoxve:index/poolLegacy:PoolLegacy",
      "proxmoxve:pool/membership:Membership",
    ];
    for (const r of plan.resources.filter((r) => r.custom && r.type.startsWith("proxmoxve:"))) {
      const customerSite =
        r.parent.includes("nodepoint:customers:WordPressSite::") &&
        r.type !== "proxmoxve:index/haresource:Haresource" &&
        r.type !== "proxmoxve:index/harule:Harule";
      const expected = accessTypes.includes(r.type) ? access : customerSite ? customers : px;
      expect(r.provider, r.name).toBe(expected.urn);
    }
  });

  it("every VM and container is protected", () => {
    const guests = plan.resources.filter((r) => /ContainerLegacy|VmLegacy/.test(r.type));
    expect(guests.length).toBe(10);
    for (const g of guests) expect(g.options.protect, g.name).toBe(true);
  });

  it("what keeps its name across a replacement (a VMID, an IP set, a file, a rule ID) is replaced delete-first; nothing else is", () => {
    // API tokens too: PVE refuses a second token with the same id (components/AutomationAccess.ts).
    const deleteFirst = new Set<string>([
      "proxmoxve:user/token:Token",
      ...Object.values(FACTS)
        .filter((f) => f.deleteFirst)
        .map((f) => f.token),
    ]);
    for (const r of plan.resources.filter((x) => x.custom))
      expect(r.options.deleteBeforeReplace, `${r.name} (${r.type})`).toBe(deleteFirst.has(r.type));
    for (const type of [
      "proxmoxve:firewall/ipsetLegacy:IpsetLegacy",
      "proxmoxve:index/containerLegacy:ContainerLegacy",
      "proxmoxve:index/vmLegacy:VmLegacy",
      "proxmoxve:download/file:File",
      "proxmoxve:index/haresource:Haresource",
      "proxmoxve:index/harule:Harule",
    ])
      expect(plan.resources.filter((r) => r.type === type).length, type).toBeGreaterThan(0);
  });

  it("no provider invokes (data sources) at all", () => {
    expect(plan.invokes).toBe(0);
  });
});
