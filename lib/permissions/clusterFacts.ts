/**
 * Everything about one cluster the automation tokens' scopes depend on, from that stack's config
 * (`clusterFactsOf`), and the fingerprint of those facts (`clusterFactsHash`) the generated roles
 * file records.
 *
 * Pure, and free of the PVE API schema: the program computes the fingerprint at run time to check
 * that lib/permissions/roles.<stack>.generated.json was generated for the stack's current config
 * (see accessScopes.ts), and the program never reads `../shared`: besides node:crypto, this module
 * imports types only.
 */
import { createHash } from "node:crypto";
import type { StackConfig, StorageConfig } from "../config/schema";

export interface NicSpec {
  readonly bridge: string;
  readonly vlan?: number;
}

export interface InfraContainer {
  readonly vmid: number;
  readonly name: string;
  readonly node: string;
  readonly privileged: boolean;
  /** `startup: order=N` is set. */
  readonly startup: boolean;
  /** Storage of the root disk should the provider ever create it (`disk.storage`, else the node's default: see `defaultDiskStorage`). */
  readonly rootStorage: string;
  /** Storage of the container's OS template (`template`'s volume, else `lxcTemplate.storage`). */
  readonly templateStorage: string;
  readonly nics: readonly NicSpec[];
}

export interface InfraVm {
  readonly vmid: number;
  readonly name: string;
  readonly node: string;
  readonly diskStorage: string;
  readonly nics: readonly NicSpec[];
  readonly startup: boolean;
  /** `migrate: true`: a node change migrates the VM. */
  readonly migrate: boolean;
  /** VM templates: converted with `POST .../template`; `cloud-init` has a cloud-init drive, `iso` a CD-ROM. */
  readonly template?: "cloud-init" | "iso";
  /** VM templates: the image downloaded for the template (`image.storage`, `image.fileName`). */
  readonly image?: { readonly storage: string; readonly fileName: string };
}

/** Everything about one cluster the scopes depend on, from its stack config (`clusterFactsOf`). */
export interface ClusterFacts {
  /** `nodepoint:cluster.name`. */
  readonly cluster: string;
  /** `nodepoint:nodes[].name`, in config order. */
  readonly nodes: readonly string[];
  /** Infrastructure containers (the privileged router among them), in config order. */
  readonly containers: readonly InfraContainer[];
  /** Infrastructure VMs and VM templates, in config order. */
  readonly vms: readonly InfraVm[];
  /** Storages the infrastructure token manages: every non-DRBD `nodepoint:storage` (DRBD is referenced, not managed). */
  readonly managedStorages: readonly string[];
  /** LAN bridge (`networks.lan.bridge`): customer containers' NIC. */
  readonly lanBridge: string;
  readonly customer: {
    /** Proxmox pool customer containers are created in (`customerPools.proxmoxPool`). */
    readonly pool: string;
    /** Customer VMID range (`customerPools.vmids`): the members of the pool. */
    readonly vmids: { readonly first: number; readonly last: number };
    /** Storage customer disks live on (`customerPools.storage`) and its type. */
    readonly storage: string;
    readonly storageType: StorageConfig["type"];
    /** Node of the representative customer container: the first node of the customer storage. */
    readonly node: string;
  };
  /** The LXC template: its storage and the nodes it is downloaded to (`lxcTemplate`). */
  readonly lxcTemplate: { readonly storage: string; readonly nodes: readonly string[] };
  /** HA rule (PVE 9) or group (PVE 8) keeping HA resources on the DRBD nodes (`ha.mode`, `ha.name`). */
  readonly ha: { readonly mode: "rule" | "group"; readonly name: string };
  /** Backup jobs and their target storages (`backupJobs`). */
  readonly backupJobs: readonly { readonly id: string; readonly storage: string }[];
}

/**
 * Storage of a guest disk the config gives no `disk` for (adopted guests): the first non-DRBD storage
 * on the guest's node holding `content`, else any storage there that does.
 */
export function defaultDiskStorage(config: StackConfig, node: string, content: "images" | "rootdir"): string {
  const on = config.storage.filter((s) => s.nodes.includes(node) && s.content.includes(content));
  const found = on.find((s) => s.type !== "drbd") ?? on[0];
  if (!found)
    throw new Error(
      `node ${node} has no storage holding ${content} content (nodepoint:storage), so no disk of a guest on it can be placed`,
    );
  return found.id;
}

/** The cluster facts the scopes are derived from. Pure: everything comes from the parsed stack config. */
export function clusterFactsOf(config: StackConfig): ClusterFacts {
  const { networks } = config;
  const nic = (network: "wan" | "lan" | "dmz"): NicSpec =>
    network === "wan"
      ? { bridge: networks.wan.bridge, vlan: networks.wan.vlanId }
      : { bridge: networks[network].bridge };
  const containers: InfraContainer[] = [];
  const vms: InfraVm[] = [];
  for (const g of config.guests) {
    if (g.kind === "container") {
      const templateStorage =
        g.template !== undefined && /^[^:]+:/.test(g.template)
          ? g.template.slice(0, g.template.indexOf(":"))
          : config.lxcTemplate.storage;
      containers.push({
        vmid: g.vmid,
        name: g.name,
        node: g.node,
        privileged: g.privileged ?? false,
        startup: g.startupOrder !== undefined,
        rootStorage: g.disk?.storage ?? defaultDiskStorage(config, g.node, "rootdir"),
        templateStorage,
        nics: g.networks.map(nic),
      });
    } else if (g.kind === "vm") {
      vms.push({
        vmid: g.vmid,
        name: g.name,
        node: g.node,
        diskStorage: g.disk?.storage ?? defaultDiskStorage(config, g.node, "images"),
        nics: g.networks.map(nic),
        startup: g.startupOrder !== undefined,
        migrate: true,
      });
    } else {
      // Templates get one NIC on the LAN (components/Templates.ts) and are never started or migrated.
      vms.push({
        vmid: g.vmid,
        name: g.name,
        node: g.node,
        diskStorage: g.disk.storage,
        nics: [nic("lan")],
        startup: false,
        migrate: false,
        template: g.flavour === "cloud-init" ? "cloud-init" : "iso",
        image: { storage: g.image.storage, fileName: g.image.fileName },
      });
    }
  }
  const pools = config.customerPools;
  const customerStorage = config.storage.find((s) => s.id === pools.storage);
  return {
    cluster: config.cluster.name,
    nodes: config.nodes.map((n) => n.name),
    containers,
    vms,
    managedStorages: config.storage.filter((s) => s.type !== "drbd").map((s) => s.id),
    lanBridge: networks.lan.bridge,
    customer: {
      pool: pools.proxmoxPool,
      vmids: { first: pools.vmids.first, last: pools.vmids.last },
      storage: pools.storage,
      storageType: customerStorage?.type ?? "drbd",
      node: customerStorage?.nodes[0] ?? config.lxcTemplate.nodes[0] ?? config.nodes[0]!.name,
    },
    lxcTemplate: { storage: config.lxcTemplate.storage, nodes: [...config.lxcTemplate.nodes] },
    ha: { mode: config.ha.mode, name: config.ha.name },
    backupJobs: config.backupJobs.map((j) => ({ id: j.id, storage: j.storage })),
  };
}

/** Every VMID the infrastructure owns, ascending: the customer token must have no privilege on any of them. */
export function infraVmids(facts: ClusterFacts): number[] {
  return [...facts.containers, ...facts.vms].map((g) => g.vmid).sort((a, b) => a - b);
}

/** JSON with object keys sorted at every level (arrays keep their order); `undefined` members are left out, as JSON.stringify does. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * The fingerprint of the facts a roles file is generated from: sha256 of their stable JSON.
 *
 * `ha.mode` is left out: it follows the PVE major version (`nodepoint:proxmox.majorVersion`), and
 * an HA rule and an HA group need the same privileges on the same path (Sys.Console, Sys.Audit on
 * `/`), so the generated file is the same for both (tests/permissions/scopes.test.ts checks it for
 * every stack: should the two ever differ, it must go back in).
 */
export function clusterFactsHash(facts: ClusterFacts): string {
  const { mode: _mode, ...ha } = facts.ha;
  return createHash("sha256")
    .update(stableJson({ ...facts, ha }))
    .digest("hex");
}
