/**
 * The one schema of the stack configuration (`Pulumi.<stack>.yaml`, namespace `nodepoint:`).
 *
 * Every key the program reads is declared here; the TypeScript types the rest of the code uses
 * are derived from it with `z.infer`, so the file, the validation and the types cannot drift.
 * Cross-field rules (a node named by a pool exists, a VMID is unique, ...) live in
 * `validateTopology.ts`, which reports every problem at once with the key that holds it.
 *
 * Limits Proxmox VE itself sets (VMID range, host name and tag formats, guest cores and memory, HA
 * counts) are not typed in here: they come from lib/config/pveBounds.generated.json, generated from
 * the PVE API schema, so nothing passes validation that the cluster would refuse.
 */
import { z } from "zod";
import { PVE_BOUNDS, pveInt, pveString } from "./pveBounds";

/** Proxmox node names, storage IDs and bridge names: what `pve-node` / `pve-storage-id` accept. */
export const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/i, "must be letters, digits and hyphens, starting with a letter");

const positiveInt = z.number().int().positive();
const ipv4 = z.ipv4();

/** The Proxmox VE API the provider talks to. Credentials are never here: see `secrets.ts`. */
export const proxmoxApiSchema = z.strictObject({
  /** API endpoint, e.g. `https://192.168.1.10:8006/`. */
  endpoint: z.url({ protocol: /^https$/ }),
  /** Accept the cluster's self-signed certificate. */
  insecure: z.boolean().default(false),
  /** The PVE major version: 8 uses HA groups, 9 uses HA rules. */
  majorVersion: z.union([z.literal(8), z.literal(9)]),
});

export const nodeRoleSchema = z.enum(["primary-compute", "secondary-compute", "router-services"]);

/** One physical Proxmox node, as listed in the seed's node table. */
export const nodeSchema = z.strictObject({
  name: identifier,
  ip: ipv4,
  role: nodeRoleSchema,
  /** Physical cores. */
  cores: positiveInt,
  /** Physical memory in MiB. */
  memoryMiB: positiveInt,
  /**
   * Memory the node was measured using (the seed's "RAM: x GB / y GB used"), in MiB: what runs there
   * besides the guests declared since. Capacity counts at least this (or what the adopted guests on
   * the node allocate, when that is more). Omitted: 0.
   */
  memoryUsedMiB: z.number().int().nonnegative().default(0),
  /** System disk in GB, as the node table gives it. */
  diskGB: positiveInt,
  /** PVE node notes to write. Omitted (the seed states none): the node's notes are left as they are. */
  notes: z.string().min(1).optional(),
});

const perNodeGiB = z.record(identifier, z.number().nonnegative());

const storageCommon = {
  /** Storage ID as in /etc/pve/storage.cfg. */
  id: identifier,
  /** Nodes that have this storage. */
  nodes: z.array(identifier).min(1),
  /** Content types (`images`, `rootdir`, `iso`, `vztmpl`, `backup`, `snippets`). */
  content: z.array(z.enum(["images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"])).min(1),
  /** Capacity in GiB per node (for a shared pool: the same figure on every node, counted once). */
  capacityGiB: perNodeGiB,
  /** Space in GiB already used by things this program does not declare (from the seed). */
  usedGiB: perNodeGiB.default({}),
};

export const storageSchema = z.discriminatedUnion("type", [
  z.strictObject({
    ...storageCommon,
    /**
     * DRBD (LINSTOR) replicated storage. The provider has no resource for it, so it is
     * referenced, not managed: see components/StoragePools.ts.
     */
    type: z.literal("drbd"),
    /** LINSTOR controller address. */
    controller: ipv4,
    shared: z.literal(true),
  }),
  z.strictObject({
    ...storageCommon,
    type: z.literal("zfspool"),
    zfsPool: z.string().min(1),
    thinProvision: z.boolean().default(true),
  }),
  z.strictObject({ ...storageCommon, type: z.literal("lvmthin"), volumeGroup: identifier, thinPool: identifier }),
  z.strictObject({
    ...storageCommon,
    type: z.literal("dir"),
    path: z.string().regex(/^\/[^\s]*$/, "must be an absolute path"),
    shared: z.boolean().default(false),
  }),
  z.strictObject({
    ...storageCommon,
    /** An NFS export mounted by PVE on `nodes` (shared: every node sees the same files). */
    type: z.literal("nfs"),
    /** The NFS server's address. */
    server: ipv4,
    /** The exported directory on the server. */
    export: z.string().regex(/^\/[^\s]*$/, "must be an absolute path"),
  }),
]);

/** One layer-2 network of the cluster, by the Linux bridge that carries it. */
const bridgedNetwork = z.strictObject({
  /** Linux bridge on the nodes, e.g. `vmbr0`. */
  bridge: identifier,
  /** IPv4 subnet. */
  cidr: z.cidrv4(),
  /** Default gateway of the subnet (the router's address in it). */
  gateway: ipv4,
});

export const networksSchema = z.strictObject({
  lan: bridgedNetwork.extend({
    /** LAN addresses of infrastructure guests: never handed to a customer. */
    reserved: z.array(ipv4).default([]),
  }),
  dmz: bridgedNetwork,
  wan: z.strictObject({
    /** Bridge on the router node that carries the ISP uplink. */
    bridge: identifier,
    /** VLAN the ISP expects the PPPoE session on. */
    vlanId: z.number().int().min(1).max(4094),
    protocol: z.literal("pppoe"),
  }),
  /** Management network (SSH to nodes and guests is allowed only from here). */
  management: z.strictObject({ cidr: z.cidrv4() }),
});

export const haSchema = z.strictObject({
  /** `rule` (PVE 9 node-affinity rule) or `group` (PVE 8 HA group). Must match proxmox.majorVersion. */
  mode: z.enum(["rule", "group"]),
  /** Name of the HA rule or group. */
  name: identifier,
  /** Nodes HA resources may run on, with their priority (higher wins). */
  nodes: z.record(identifier, z.number().int().min(0).max(1000)),
  /** Never run HA resources outside `nodes` (rule: strict; group: restricted). */
  strict: z.boolean().default(true),
  /** Restarts on the same node before relocating (seed: 3). PVE sets only the minimum; 10 is this project's cap. */
  maxRestart: pveInt(PVE_BOUNDS.ha.maxRestart).max(10, "must be at most 10 (this project's cap)"),
  /** Relocations to another node before giving up (seed: 2). PVE sets only the minimum; 10 is this project's cap. */
  maxRelocate: pveInt(PVE_BOUNDS.ha.maxRelocate).max(10, "must be at most 10 (this project's cap)"),
});

const range = <T extends z.ZodType>(item: T) => z.strictObject({ first: item, last: item });

/** A guest ID Proxmox VE accepts. */
const vmid = pveInt(PVE_BOUNDS.vmid);
const lxcCores = pveInt(PVE_BOUNDS.lxc.cores);
const lxcMemoryMiB = pveInt(PVE_BOUNDS.lxc.memoryMiB, " MiB");

/** A plan's name: what Paymenter sends and customer files state (`basic`, `standard`, `premium`). */
export const planName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, "must be 1-32 lower-case letters, digits and hyphens, starting with a letter");

/** One hosting plan: the container's size, its HA default and the customer's quotas. */
export const planSchema = z.strictObject({
  cores: lxcCores,
  memoryMiB: lxcMemoryMiB,
  diskGiB: positiveInt,
  /** HA default for customers on this plan. */
  ha: z.boolean(),
  /**
   * Backups the customer keeps: the retention of the customer's scheduled backup job (the last N
   * archives), and how many restore points (snapshots) the customer may hold besides `initial`. At
   * least 1: every customer container is backed up.
   */
  backups: z.number().int().min(1, "must be at least 1: every customer container is backed up").max(100),
  /** Custom domains (besides the site's own) the customer may attach. */
  customDomains: z.number().int().min(0).max(1000),
});

export const customerPoolsSchema = z.strictObject({
  /** VMIDs customer containers are allocated from. */
  vmids: range(vmid),
  /** LAN addresses customer containers are allocated from. */
  ips: range(ipv4),
  /** Proxmox resource pool customer containers belong to (the customer token's scope). */
  proxmoxPool: identifier.default("customers"),
  /** Storage customer root disks live on (must be shared between the HA nodes). */
  storage: identifier,
  /** Allowed allocation as a multiple of physical capacity, per resource: vCPUs per core, memory, disk space. */
  overcommit: z.strictObject({
    cpu: z.number().positive().max(16),
    memory: z.number().positive().max(4),
    storage: z.number().positive().max(4),
  }),
  /** Bounds on per-customer overrides (cores and memory inside what PVE accepts for a container). */
  bounds: z.strictObject({
    cores: range(lxcCores),
    memoryMiB: range(lxcMemoryMiB),
    diskGiB: range(positiveInt),
  }),
  /**
   * VMIDs and LAN addresses of removed customers (and of containers replaced under another VMID),
   * never handed out again: Proxmox keeps backups by VMID, and a new container must not collide
   * with one still being deleted. `npm run customer -- remove` adds the entry; deleting an entry
   * (or its `ip`) is the explicit decision to reuse it (lib/customers/retired.ts).
   */
  retired: z
    .array(
      z
        .strictObject({ vmid: vmid.optional(), ip: ipv4.optional(), customer: z.string().min(1) })
        .refine((e) => e.vmid !== undefined || e.ip !== undefined, "names a vmid, an ip, or both"),
    )
    .default([]),
});

/** A disk of an infrastructure guest, when its size is known. */
const guestDisk = z.strictObject({ storage: identifier, sizeGiB: positiveInt });

const guestCommon = {
  vmid,
  node: identifier,
  /** PVE notes. Omitted: the guest's notes are left as they are (an adopted guest keeps its own). */
  description: z.string().optional(),
  /**
   * PVE's own deletion guard (`protection`). Omitted: on for a guest the program creates; an adopted
   * guest keeps its own (the seed does not state it); set true to turn it on after adoption.
   */
  pveProtection: z.boolean().optional(),
  /**
   * Proxmox tags, each as PVE accepts it. Omitted: none on a guest the program creates, an adopted
   * guest keeps its own. Only adopted guests may have tags: PVE checks tags at creation on
   * `/vms/<vmid>` alone, which the automation token's pool grant does not reach (README, "Access").
   */
  tags: z.array(pveString(PVE_BOUNDS.tag, "tag")).optional(),
  /** Adopt the existing guest with `import` on the next `pulumi up` instead of creating it. */
  adopt: z.boolean().default(false),
};

export const infraGuestSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    ...guestCommon,
    kind: z.literal("vm"),
    /** VM name. */
    name: pveString(PVE_BOUNDS.qemu.name, "VM name"),
    cores: pveInt(PVE_BOUNDS.qemu.cores),
    memoryMiB: pveInt(PVE_BOUNDS.qemu.memoryMiB, " MiB"),
    disk: guestDisk.optional(),
    /** Networks (keys of `networks`) the VM has a NIC on. */
    networks: z.array(z.enum(["lan", "dmz"])).min(1),
    /** Start with the node. Omitted: on for a VM the program creates; an adopted VM keeps its own. */
    startOnBoot: z.boolean().optional(),
    /** Boot order on the node (lower starts first). */
    startupOrder: z.number().int().min(0).optional(),
  }),
  z.strictObject({
    ...guestCommon,
    kind: z.literal("container"),
    /** The container's host name. */
    name: pveString(PVE_BOUNDS.lxc.hostname, "host name"),
    cores: lxcCores,
    memoryMiB: lxcMemoryMiB,
    disk: guestDisk.optional(),
    /**
     * Privileged container. Omitted: unprivileged when the program creates it; an adopted container is
     * left as it is (the field forces replacement, so it is never guessed).
     */
    privileged: z.boolean().optional(),
    /** Networks the container has an interface on; `wan` only for the router. */
    networks: z.array(z.enum(["wan", "lan", "dmz"])).min(1),
    /** OS template for a fresh creation (a `vztmpl` volume ID). */
    template: z.string().optional(),
    osType: z
      .enum([
        "alpine",
        "archlinux",
        "centos",
        "debian",
        "devuan",
        "fedora",
        "gentoo",
        "nixos",
        "opensuse",
        "ubuntu",
        "unmanaged",
      ])
      .default("unmanaged"),
    /** Start with the node. Omitted: on for a container the program creates; an adopted one keeps its own. */
    startOnBoot: z.boolean().optional(),
    startupOrder: z.number().int().min(0).optional(),
    /** This container is the cluster's router (OpenWrt). */
    router: z.boolean().default(false),
  }),
  z.strictObject({
    ...guestCommon,
    kind: z.literal("vm-template"),
    /** The template VM's name. */
    name: pveString(PVE_BOUNDS.qemu.name, "VM name"),
    /** `cloud-init` (a cloud image imported as disk) or `plain`. */
    flavour: z.enum(["cloud-init", "plain"]),
    /** Image file the template's disk is created from. */
    image: z.strictObject({
      url: z.url(),
      fileName: z.string().regex(/^[\w.+-]+\.(img|qcow2|raw|iso)$/),
      /** Storage the image is downloaded to (content `import` or `iso`). */
      storage: identifier,
      checksum: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
    }),
    disk: guestDisk,
  }),
]);

export const backupJobSchema = z.strictObject({
  id: identifier,
  /**
   * Only the guests of this Proxmox pool (of `node`); omitted: every guest (of `node`). Customer
   * containers have backup jobs of their own (`customerBackups`), so a job covering nodes where
   * customers live selects the infrastructure pool.
   */
  pool: identifier.optional(),
  /** systemd calendar event, e.g. `sun 01:00`. */
  schedule: z.string().min(1),
  /** Target storage (a `backup`-content storage). */
  storage: identifier,
  /** Node whose guests this job backs up (omit for all nodes). */
  node: identifier.optional(),
  mode: z.enum(["snapshot", "suspend", "stop"]).default("snapshot"),
  compress: z.enum(["0", "gzip", "lzo", "zstd"]).default("zstd"),
  /** Retention, e.g. `keep-daily=7,keep-weekly=4`. */
  keep: z.partialRecord(
    z.enum(["keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"]),
    positiveInt,
  ),
  /**
   * The cluster has this job (with this id): adopt it instead of creating it. Every field must match
   * the live job but the guest selection (`pool`), which adopting sets: nothing else is written.
   */
  adopt: z.boolean().default(false),
});

/** A time of day, `HH:MM` (24 h). */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day, HH:MM");

/**
 * The scheduled backup of every customer container: one vzdump job per customer, keeping the last N
 * archives where N is its plan's `backups` quota. The jobs start in a nightly window, spread over it
 * by VMID (vzdump runs one backup at a time per node and gives up waiting after `lockwait` minutes).
 */
export const customerBackupsSchema = z.strictObject({
  /** Target storage (content `backup`, available on every node customers live on). */
  storage: identifier,
  /** When the backups of the night start, and over how many minutes they are spread. */
  window: z.strictObject({ start: timeOfDay, minutes: z.number().int().min(1).max(1440) }),
  mode: z.enum(["snapshot", "suspend", "stop"]).default("snapshot"),
  compress: z.enum(["0", "gzip", "lzo", "zstd"]).default("zstd"),
});

export const lxcTemplateSchema = z.strictObject({
  /** Storage (content `vztmpl`) the template is downloaded to, on every node that creates containers. */
  storage: identifier,
  nodes: z.array(identifier).min(1),
  url: z.url(),
  fileName: z.string().regex(/^[\w.+-]+\.tar\.(zst|gz|xz)$/),
  /** Nodes (of `nodes`) whose storage already holds the file: adopted with `import`, never downloaded again. */
  present: z.array(identifier).default([]),
});

/** Nginx Proxy Manager (VM 201): the reverse proxy every customer site sits behind. */
export const npmSchema = z.strictObject({
  /** NPM API base URL, e.g. `http://192.168.1.201:81/api`. */
  apiUrl: z.url({ protocol: /^https?$/ }),
  /** The automation user's login (an e-mail); its password is the secret `nodepoint:npmPassword`. */
  identity: z.email(),
  /** Addresses NPM reaches customer containers from (its LAN address). */
  sourceIps: z.array(ipv4).min(1),
});

/** Firewall of customer containers: inbound HTTP(S) from NPM and SSH from management only. */
export const customerFirewallSchema = z.strictObject({
  /** Cluster security group every customer container uses. */
  securityGroup: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{1,17}$/, "must be a PVE security group name (2-18 characters)"),
  /** Policy for traffic a customer container starts. */
  outputPolicy: z.enum(["ACCEPT", "DROP", "REJECT"]),
  /** Outbound traffic allowed when outputPolicy is not ACCEPT. */
  outbound: z
    .array(
      z.strictObject({
        proto: z.enum(["tcp", "udp", "icmp"]),
        dport: z
          .string()
          .regex(/^\d+(:\d+)?(,\d+(:\d+)?)*$/)
          .optional(),
        comment: z.string().optional(),
      }),
    )
    .default([]),
});

/** Everything under `nodepoint:` in a stack file. */
export const stackConfigSchema = z.strictObject({
  proxmox: proxmoxApiSchema,
  cluster: z.strictObject({ name: identifier }),
  nodes: z.array(nodeSchema).min(1),
  storage: z.array(storageSchema).min(1),
  networks: networksSchema,
  ingress: z.strictObject({
    /** Public IPv4 address customer DNS records point at (the router's WAN address, forwarded to NPM). */
    publicIp: ipv4,
  }),
  cloudflare: z.strictObject({
    /** Zone name to zone ID. */
    zones: z.record(
      z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "must be a lower-case DNS zone name"),
      z.string().regex(/^[0-9a-f]{32}$/, "must be a 32-hex-digit Cloudflare zone ID"),
    ),
    /** Proxy customer records through Cloudflare. */
    proxied: z.boolean().default(false),
  }),
  ha: haSchema,
  /** The plans customers are on, by name (the seed's plan table for prod). */
  plans: z.record(planName, planSchema),
  /** The plan of a customer file that names none. */
  defaultPlan: planName,
  customerPools: customerPoolsSchema,
  lxcTemplate: lxcTemplateSchema,
  guests: z.array(infraGuestSchema),
  backupJobs: z.array(backupJobSchema).default([]),
  customerBackups: customerBackupsSchema,
  npm: npmSchema,
  customerFirewall: customerFirewallSchema,
  sites: z.strictObject({
    /** Address WordPress admin accounts are created with. */
    adminEmail: z.email(),
  }),
  /** Directory of customer files, relative to the project (the offline plan can override it). */
  customersDir: z.string().default("customers"),
  /**
   * Whether the stack is a real cluster that CI previews and deploys. `false` for a fictional one
   * (the bench stack): planned offline only, and `pulumi preview`/`up` refuse it.
   */
  deploy: z.boolean().default(true),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
export type StorageConfig = z.infer<typeof storageSchema>;
export type InfraGuestConfig = z.infer<typeof infraGuestSchema>;
export type VmGuestConfig = Extract<InfraGuestConfig, { kind: "vm" }>;
export type ContainerGuestConfig = Extract<InfraGuestConfig, { kind: "container" }>;
export type VmTemplateConfig = Extract<InfraGuestConfig, { kind: "vm-template" }>;
export type HaConfig = z.infer<typeof haSchema>;
export type PlanConfig = z.infer<typeof planSchema>;
export type NetworksConfig = z.infer<typeof networksSchema>;
export type BackupJobConfig = z.infer<typeof backupJobSchema>;
export type CustomerBackupsConfig = z.infer<typeof customerBackupsSchema>;
export type LxcTemplateConfig = z.infer<typeof lxcTemplateSchema>;
export type CustomerFirewallConfig = z.infer<typeof customerFirewallSchema>;
