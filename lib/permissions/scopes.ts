/**
 * The two Proxmox VE API tokens, as data: the API calls each one's Pulumi resources make (create,
 * read, update, delete, as bpg/terraform-provider-proxmox implements them), the privileges those
 * calls need (derived with `requiredPrivileges` from the API schema), and the roles and ACL entries
 * that grant exactly those privileges.
 *
 * - infrastructure (`pulumi-infra@pve!iac`): the router CT, the service CTs and VMs, the VM templates
 *   and their downloads, storage definitions, backup jobs, the HA rule (or group), every HA resource
 *   (customer containers' included: see `customerHaCalls`), node notes, the cluster firewall and the
 *   customer pool itself.
 * - customer (`pulumi-customers@pve!iac`): customer LXC containers in the customer pool, their
 *   disks on the customer (DRBD) storage, their NIC on the LAN bridge and their per-container
 *   firewall. Nothing on `/`.
 *
 * Neither token manages users, tokens, roles or ACLs (a token that can edit ACLs can grant itself
 * anything): `components/AutomationAccess.ts` declares them with a third, administrator token, from
 * `lib/permissions/roles.<stack>.generated.json`, which `scripts/generate-roles.ts` writes from
 * `deriveScopes` for every `Pulumi.<stack>.yaml`.
 *
 * Every concrete value (VMIDs, nodes, storages, bridges, pool, HA rule, backup jobs) comes from one
 * stack's config through `clusterFactsOf`: one cluster per stack, any number of nodes. Customer
 * calls use one representative container (the first customer VMID on the first node of the customer
 * storage): every customer container gets the same calls with its own VMID, all inside the pool.
 *
 * Privilege-separated tokens only get what both the token and its user are granted: each ACL entry
 * is applied to the token and to its user (AutomationAccess does).
 */
import type { StackConfig, StorageConfig } from "../config/schema";
import type { HttpMethod, PveApiSchema } from "./pveApiSchema";
import { allRequirements, privilegeMapOf, type ApiCall, type ExtraRequirement, type PrivilegeMap, type Requirement } from "./requiredPrivileges";

// ---------------------------------------------------------------------------------------------
// Cluster facts (one stack's config)

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
  if (!found) throw new Error(`node ${node} has no storage holding ${content} content (nodepoint:storage), so no disk of a guest on it can be placed`);
  return found.id;
}

/** The cluster facts the scopes are derived from. Pure: everything comes from the parsed stack config. */
export function clusterFactsOf(config: StackConfig): ClusterFacts {
  const { networks } = config;
  const nic = (network: "wan" | "lan" | "dmz"): NicSpec => (network === "wan" ? { bridge: networks.wan.bridge, vlan: networks.wan.vlanId } : { bridge: networks[network].bridge });
  const containers: InfraContainer[] = [];
  const vms: InfraVm[] = [];
  for (const g of config.guests) {
    if (g.kind === "container") {
      const templateStorage = g.template !== undefined && /^[^:]+:/.test(g.template) ? g.template.slice(0, g.template.indexOf(":")) : config.lxcTemplate.storage;
      containers.push({ vmid: g.vmid, name: g.name, node: g.node, privileged: g.privileged, startup: g.startupOrder !== undefined, rootStorage: g.disk?.storage ?? defaultDiskStorage(config, g.node, "rootdir"), templateStorage, nics: g.networks.map(nic) });
    } else if (g.kind === "vm") {
      vms.push({ vmid: g.vmid, name: g.name, node: g.node, diskStorage: g.disk?.storage ?? defaultDiskStorage(config, g.node, "images"), nics: g.networks.map(nic), startup: g.startupOrder !== undefined, migrate: true });
    } else {
      // Templates get one NIC on the LAN (components/Templates.ts) and are never started or migrated.
      vms.push({ vmid: g.vmid, name: g.name, node: g.node, diskStorage: g.disk.storage, nics: [nic("lan")], startup: false, migrate: false, template: g.flavour === "cloud-init" ? "cloud-init" : "iso", image: { storage: g.image.storage, fileName: g.image.fileName } });
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

// ---------------------------------------------------------------------------------------------
// Extra requirements shared by calls (checks the API makes in code)

const CT_PERM_CODE = "pve-container src/PVE/LXC.pm check_ct_modify_config_perm";
const QM_PERM_CODE = "qemu-server src/PVE/API2/Qemu.pm $check_vm_modify_config_perm";

/** SDN path a NIC on a plain Linux bridge is checked against (`localnetwork` is the implicit zone of non-SDN bridges). */
export function sdnPath(nic: NicSpec): string {
  return `/sdn/zones/localnetwork/${nic.bridge}${nic.vlan !== undefined ? `/${nic.vlan}` : ""}`;
}

const LXC_CLONE_SDN: ExtraRequirement["alsoDocumented"] = [{ method: "POST", path: "/nodes/{node}/lxc/{vmid}/clone", quote: "and 'SDN.Use' on any bridge." }];

function lxcNicSdn(nics: readonly NicSpec[], when: string): ExtraRequirement[] {
  return nics.map((nic) => ({
    check: ["perm", sdnPath(nic), ["SDN.Use"]],
    because: `${when}: net with bridge=${nic.bridge}${nic.vlan !== undefined ? `,tag=${nic.vlan}` : ""}`,
    source: { kind: "server-code", ref: `${CT_PERM_CODE} → check_bridge_access → PVE::GuestHelpers::check_vnet_access (old and new netN)` },
    alsoDocumented: LXC_CLONE_SDN,
  }));
}

function qemuNicSdn(nics: readonly NicSpec[], quoteCreate: boolean): ExtraRequirement[] {
  return nics.map((nic) => ({
    check: ["perm", sdnPath(nic), ["SDN.Use"]],
    because: `netN on bridge ${nic.bridge}${nic.vlan !== undefined ? ` tag ${nic.vlan}` : ""}`,
    source: quoteCreate
      ? { kind: "schema-description", method: "POST", path: "/nodes/{node}/qemu", quote: "If you use a bridge/vlan, you need 'SDN.Use' on any used bridge/vlan." }
      : { kind: "server-code", ref: "qemu-server src/PVE/API2/Qemu.pm update_vm_api → PVE::QemuServer::check_bridge_access" },
  }));
}

/** `check_volume_access` on an ISO, vztmpl or import volume: Datastore.Allocate, else read access to its storage. */
function volumeAccess(storageParam: string, because: string, holder: "allocate" | "read"): ExtraRequirement {
  return {
    check: ["or", ["perm", `/storage/{${storageParam}}`, ["Datastore.Allocate"]], ["perm", `/storage/{${storageParam}}`, ["Datastore.AllocateSpace", "Datastore.Audit"], "any", 1]],
    because,
    source: { kind: "server-code", ref: "pve-storage src/PVE/Storage.pm check_volume_access (iso/vztmpl/import: Datastore.Allocate, or one of Datastore.AllocateSpace/Datastore.Audit)" },
    // The infrastructure token holds Datastore.Allocate on every storage anyway; a customer only reads.
    choose: holder === "allocate" ? { or: 0 } : { or: 1, any: ["Datastore.Audit"] },
  };
}

function lxcOptionPrivileges(privileges: readonly string[], options: string): ExtraRequirement {
  return {
    check: ["perm", "/vms/{vmid}", [...privileges]],
    because: `options the provider sends: ${options}`,
    source: { kind: "server-code", ref: `${CT_PERM_CODE} (cores/cpulimit/cpuunits: VM.Config.CPU; memory/swap: VM.Config.Memory; netN/hostname/nameserver/searchdomain: VM.Config.Network; rootfs/mpN: VM.Config.Disk; tags: VM.Config.Options via PVE::GuestHelpers::assert_tag_permissions; anything else: VM.Config.Options)` },
  };
}

function qemuOptionPrivileges(privileges: readonly string[], options: string): ExtraRequirement {
  return {
    check: ["perm", "/vms/{vmid}", [...privileges]],
    because: `options the provider sends: ${options}`,
    source: { kind: "server-code", ref: `${QM_PERM_CODE} ($cpuoptions: VM.Config.CPU, $memoryoptions: VM.Config.Memory, $hwtypeoptions and serialN=socket: VM.Config.HWType, $generaloptions: VM.Config.Options, netN: VM.Config.Network, ipconfigN/cloud-init: VM.Config.Cloudinit or VM.Config.Network)` },
  };
}

/** QEMU's `startup` is special-cased: it changes host behaviour, so it needs Sys.Modify on `/` (LXC's does not). */
const QEMU_STARTUP_SYS_MODIFY: ExtraRequirement = {
  check: ["perm", "/", ["Sys.Modify"]],
  because: "startup: order=N is set",
  source: { kind: "server-code", ref: `${QM_PERM_CODE}: "special case for startup since it changes host behaviour" → check_full('/', ['Sys.Modify'])` },
};

// ---------------------------------------------------------------------------------------------
// Call builders

const call = (method: HttpMethod, path: string, params: ApiCall["params"], why: string, more: Partial<Pick<ApiCall, "choose" | "extra" | "descriptionReviewed">> = {}): ApiCall => ({ method, path, params, why, ...more });

const TASK_STATUS_REVIEW = "the token is the owner of the tasks it starts (pve-manager PVE/API2/Tasks.pm $check_task_user matches the full token id), so no Sys.Audit on /nodes/<node> is needed";

function taskPolling(node: string, what: string): ApiCall {
  return call("GET", "/nodes/{node}/tasks/{upid}/status", { node, upid: "UPID:placeholder" }, `poll the task of ${what}`, { descriptionReviewed: TASK_STATUS_REVIEW });
}

/** Calls an LXC container resource (`ContainerLegacy`) makes, besides create. */
function lxcLifecycle(p: { node: string; vmid: number; nics: readonly NicSpec[]; who: string; updateOptions: ExtraRequirement; resizeStorage?: string }): ApiCall[] {
  const params = { node: p.node, vmid: p.vmid };
  const calls: ApiCall[] = [
    call("GET", "/nodes/{node}/lxc/{vmid}/config", params, `${p.who}: read the config (refresh, after create and update)`),
    call("GET", "/nodes/{node}/lxc/{vmid}/status/current", params, `${p.who}: read the state; wait for the config lock and for start/stop`),
    call("GET", "/nodes/{node}/lxc/{vmid}/interfaces", params, `${p.who}: read the NICs' addresses of a running container`),
    call("PUT", "/nodes/{node}/lxc/{vmid}/config", params, `${p.who}: update cores, memory, NIC, hostname, description, tags, onboot, protection`, {
      // The method's gate is "any" of the VM.Config.* privileges; the real checks are per option (extra).
      choose: { any: ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"] },
      extra: [p.updateOptions, ...lxcNicSdn(p.nics, "update")],
      descriptionReviewed: "only volume mount points are configured; non-volume (bind/device) mount points are root@pam only and never used",
    }),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/start", params, `${p.who}: start (started: true)`),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/shutdown", params, `${p.who}: shut down (started: false, before delete)`),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/stop", params, `${p.who}: stop when shutdown times out`),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/reboot", params, `${p.who}: reboot after a change that needs it`),
    call("DELETE", "/nodes/{node}/lxc/{vmid}", params, `${p.who}: destroy`),
    taskPolling(p.node, `${p.who} operations`),
  ];
  if (p.resizeStorage !== undefined) {
    calls.push(
      call("PUT", "/nodes/{node}/lxc/{vmid}/resize", { ...params, disk: "rootfs", storage: p.resizeStorage }, `${p.who}: grow the root disk`, {
        extra: [{ check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]], because: "growing a volume allocates space on its storage", source: { kind: "server-code", ref: "pve-container src/PVE/API2/LXC.pm resize_vm: check('/storage/$storeid', ['Datastore.AllocateSpace'])" } }],
      }),
    );
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Customer scope

/** The representative customer container: the first customer VMID, on the first node of the customer storage. */
function customerCt(facts: ClusterFacts): { node: string; vmid: number } {
  return { node: facts.customer.node, vmid: facts.customer.vmids.first };
}

function customerCalls(facts: ClusterFacts): ApiCall[] {
  const ct = customerCt(facts);
  const { pool, storage } = facts.customer;
  const templateStorage = facts.lxcTemplate.storage;
  const nics = [{ bridge: facts.lanBridge }];
  const fw = (method: HttpMethod, sub: string, extraParams: Record<string, string | number>, why: string): ApiCall => call(method, `/nodes/{node}/lxc/{vmid}/firewall/${sub}`, { ...ct, ...extraParams }, `customer firewall: ${why}`);
  return [
    call("GET", "/version", {}, "provider: PVE version (feature checks on create/start)"),
    call("GET", "/nodes/{node}/storage/{storage}/content", { node: ct.node, storage: templateStorage }, "find the Ubuntu LXC template on the node", { choose: { any: ["Datastore.Audit"] } }),
    call("POST", "/nodes/{node}/lxc", { ...ct, pool, storage, templateStorage }, `create the customer container (unprivileged, nesting, in the ${pool} pool, rootfs on ${storage}, eth0 on ${facts.lanBridge} with firewall)`, {
      extra: [
        {
          check: ["or", ["perm", "/vms/{vmid}", ["VM.Allocate"]], ["perm", "/pool/{pool}", ["VM.Allocate"], "require_param", "pool"]],
          because: "a new container; the customer token allocates through the pool, never on a VMID path",
          source: { kind: "schema-description", quote: "You need 'VM.Allocate' permission on /vms/{vmid} or on the VM pool /pool/{pool}." },
          choose: { orPath: ["/pool/{pool}"] },
        },
        { check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]], because: `rootfs is a new volume on ${storage}`, source: { kind: "schema-description", quote: "You also need 'Datastore.AllocateSpace' permissions on the storage." } },
        volumeAccess("templateStorage", `ostemplate is a vztmpl volume on \`${templateStorage}\``, "read"),
        ...lxcNicSdn(nics, "create"),
        lxcOptionPrivileges(["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Disk", "VM.Config.Options"], "cores, memory, swap, net0, hostname, rootfs, description, tags, onboot, protection, ostype, arch, console, tty"),
        { check: ["perm", "/vms/{vmid}", ["VM.Allocate"]], because: "features: nesting=1 (the only feature flag a non-root user may set, and only on unprivileged containers)", source: { kind: "server-code", ref: `${CT_PERM_CODE}: features → check_vm_perm(['VM.Allocate']) if only nesting changed` } },
      ],
      descriptionReviewed: "unprivileged container, so the Sys.Modify clause for privileged ones does not apply; no restore, so VM.Backup does not either",
    }),
    ...lxcLifecycle({
      ...ct,
      nics,
      who: "customer container",
      updateOptions: lxcOptionPrivileges(["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"], "cores, memory, swap, net0, hostname, description, tags, onboot, protection"),
      resizeStorage: storage,
    }),
    // No HA resource calls: they are made with the infrastructure token (see `customerHaCalls`).
    // Per-container firewall (`firewall.OptionsLegacy`, `firewall.RulesLegacy`): reads are VM.Audit,
    // writes VM.Config.Network, both on /vms/{vmid}, which the pool entry reaches.
    fw("GET", "options", {}, "read options"),
    fw("PUT", "options", {}, "enable, policies, ipfilter, macfilter"),
    fw("GET", "rules", {}, "list rules"),
    fw("POST", "rules", {}, "add a rule"),
    fw("GET", "rules/{pos}", { pos: 0 }, "read a rule"),
    fw("PUT", "rules/{pos}", { pos: 0 }, "change a rule"),
    fw("DELETE", "rules/{pos}", { pos: 0 }, "delete a rule"),
    fw("GET", "ipset", {}, "list IP sets"),
    fw("POST", "ipset", { name: "ipfilter-net0" }, "create the ipfilter-net0 IP set"),
    fw("GET", "ipset/{name}", { name: "ipfilter-net0" }, "read an IP set"),
    fw("POST", "ipset/{name}", { name: "ipfilter-net0" }, "add the container's address"),
    fw("DELETE", "ipset/{name}/{cidr}", { name: "ipfilter-net0", cidr: "192.168.1.100" }, "remove an address"),
    fw("DELETE", "ipset/{name}", { name: "ipfilter-net0" }, "delete the IP set"),
  ];
}

// ---------------------------------------------------------------------------------------------
// Infrastructure scope

/**
 * The HA resource (`Haresource`) of a premium customer container. Every HA resource call is checked
 * on `/` (Sys.Console to write, Sys.Audit to read), with no check on the guest: whoever may make
 * them may put ANY guest under HA and request `state: stopped` for it (the HA manager then stops
 * it, e.g. the ISPConfig VM). So they are made with the infrastructure token, which holds those
 * privileges on `/` anyway (HA rule, cluster reads), never with the customer token.
 */
export function customerHaCalls(facts: ClusterFacts): ApiCall[] {
  const CUSTOMER_SID = `ct:${facts.customer.vmids.first}`;
  return [
    call("POST", "/cluster/ha/resources", { sid: CUSTOMER_SID }, "customer HA: add the container as an HA resource"),
    call("GET", "/cluster/ha/resources/{sid}", { sid: CUSTOMER_SID }, "customer HA: read the resource"),
    call("PUT", "/cluster/ha/resources/{sid}", { sid: CUSTOMER_SID }, "customer HA: change state (started/stopped), max_restart, max_relocate, comment"),
    call("DELETE", "/cluster/ha/resources/{sid}", { sid: CUSTOMER_SID }, "customer HA: remove the resource (decommission, before the container is destroyed)"),
  ];
}


function infraContainerCalls(g: InfraContainer): ApiCall[] {
  const who = `CT ${g.vmid} ${g.name}`;
  const ct = { node: g.node, vmid: g.vmid };
  const options = "cores, memory, swap, netN, hostname, rootfs, description, tags, onboot, startup, protection, ostype";
  const create = call("POST", "/nodes/{node}/lxc", { ...ct, storage: g.rootStorage, templateStorage: g.templateStorage }, `${who}: create (adopted; declared so a rebuild works)`, {
    extra: [
      { check: ["or", ["perm", "/vms/{vmid}", ["VM.Allocate"]], ["perm", "/pool/{pool}", ["VM.Allocate"], "require_param", "pool"]], because: "a new container outside any pool", source: { kind: "schema-description", quote: "You need 'VM.Allocate' permission on /vms/{vmid} or on the VM pool /pool/{pool}." } },
      { check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]], because: `rootfs is a new volume on ${g.rootStorage}`, source: { kind: "schema-description", quote: "You also need 'Datastore.AllocateSpace' permissions on the storage." } },
      volumeAccess("templateStorage", `ostemplate is a vztmpl volume on \`${g.templateStorage}\``, "allocate"),
      ...lxcNicSdn(g.nics, "create"),
      lxcOptionPrivileges(["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Disk", "VM.Config.Options"], `${options} (LXC's startup is VM.Config.Options, not Sys.Modify)`),
      ...(g.privileged ? [{ check: ["perm", "/", ["Sys.Modify"]], because: "unprivileged: 0 (the router)", source: { kind: "schema-description", quote: "For privileged containers, 'Sys.Modify' permissions on '/' are required." } } satisfies ExtraRequirement] : []),
    ],
    ...(g.privileged ? {} : { descriptionReviewed: "unprivileged container: the Sys.Modify clause does not apply; no restore, so VM.Backup does not either" }),
  });
  return [create, ...lxcLifecycle({ ...ct, nics: g.nics, who, updateOptions: lxcOptionPrivileges(["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"], options) })];
}

function infraVmCalls(g: InfraVm, nodes: readonly string[]): ApiCall[] {
  const who = `${g.template ? "template" : "VM"} ${g.vmid} ${g.name}`;
  const vm = { node: g.node, vmid: g.vmid };
  const cpuMemHw = ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.HWType", "VM.Config.Network", "VM.Config.Options"];
  const createPrivs = g.template === "cloud-init" ? [...cpuMemHw, "VM.Config.Cloudinit"] : cpuMemHw;
  const options = `cores, sockets, cpu, memory, scsihw, vga, tablet, kvm, acpi, netN, name, description, tags, onboot, agent, protection, ostype${g.startup ? ", startup" : ""}${g.template === "cloud-init" ? ", ipconfig0, serial0=socket" : ""}`;
  const diskPrivs = g.template === "iso" ? ["VM.Config.Disk", "VM.Config.CDROM"] : ["VM.Config.Disk"];
  const updateExtra: ExtraRequirement[] = [
    qemuOptionPrivileges(createPrivs, options),
    { check: ["perm", "/vms/{vmid}", diskPrivs], because: g.template === "iso" ? "scsi0 disk and ide2 CD-ROM changes" : "scsi0 disk changes", source: { kind: "server-code", ref: "qemu-server src/PVE/API2/Qemu.pm update_vm_api: drives need VM.Config.Disk, CD-ROMs VM.Config.CDROM" } },
    ...qemuNicSdn(g.nics, false),
    ...(g.startup ? [QEMU_STARTUP_SYS_MODIFY] : []),
  ];
  const calls: ApiCall[] = [
    call("POST", "/nodes/{node}/qemu", { ...vm, storage: g.diskStorage, ...(g.image ? { imageStorage: g.image.storage } : {}) }, `${who}: create (adopted; declared so a rebuild works)`, {
      extra: [
        { check: ["or", ["perm", "/vms/{vmid}", ["VM.Allocate"]], ["perm", "/pool/{pool}", ["VM.Allocate"], "require_param", "pool"]], because: "a new VM outside any pool", source: { kind: "schema-description", quote: "You need 'VM.Allocate' permissions on /vms/{vmid} or on the VM pool /pool/{pool}. " } },
        { check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]], because: `scsi0${g.template === "cloud-init" ? " and the cloud-init drive" : ""} on ${g.diskStorage}`, source: { kind: "schema-description", quote: "If you create disks you need 'Datastore.AllocateSpace' on any used storage." } },
        ...(g.image ? [volumeAccess("imageStorage", g.template === "iso" ? `ide2 is the installer ISO on \`${g.image.storage}\`` : `scsi0 imports the cloud image from \`${g.image.storage}\``, "allocate")] : []),
        ...qemuNicSdn(g.nics, true),
        qemuOptionPrivileges(createPrivs, options),
        ...(g.startup ? [QEMU_STARTUP_SYS_MODIFY] : []),
      ],
      descriptionReviewed: "no restore (archive), so the VM.Backup clause does not apply",
    }),
    call("GET", "/cluster/resources", { type: "vm" }, `${who}: find the node the VM is on (list filtered by VM.Audit)`),
    call("GET", "/pools", {}, `${who}: find the pool the VM is in`, { descriptionReviewed: "a listing filtered by Pool.Audit; infrastructure guests are in no pool, so the empty answer is the right one" }),
    call("GET", "/nodes/{node}/qemu/{vmid}/config", vm, `${who}: read the config`),
    call("GET", "/nodes/{node}/qemu/{vmid}/status/current", vm, `${who}: read the state; wait for the config lock`),
    call("POST", "/nodes/{node}/qemu/{vmid}/config", vm, `${who}: update (asynchronous form)`, { choose: { any: createPrivs }, extra: updateExtra }),
    call("PUT", "/nodes/{node}/qemu/{vmid}/config", vm, `${who}: update (synchronous form)`, { choose: { any: createPrivs }, extra: updateExtra }),
    call("PUT", "/nodes/{node}/qemu/{vmid}/resize", { ...vm, disk: "scsi0", storage: g.diskStorage }, `${who}: grow scsi0`, {
      extra: [{ check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]], because: "growing a volume allocates space on its storage", source: { kind: "server-code", ref: "qemu-server src/PVE/API2/Qemu.pm resize_vm: check('/storage/$storeid', ['Datastore.AllocateSpace'])" } }],
    }),
    call("DELETE", "/nodes/{node}/qemu/{vmid}", vm, `${who}: destroy`),
    taskPolling(g.node, who),
  ];
  if (g.template) {
    calls.push(call("POST", "/nodes/{node}/qemu/{vmid}/template", vm, `${who}: convert to a template`, { descriptionReviewed: "the description repeats the check (VM.Allocate on /vms/{vmid})" }));
    if (g.template === "cloud-init") calls.push(call("PUT", "/nodes/{node}/qemu/{vmid}/cloudinit", vm, `${who}: regenerate the cloud-init drive`));
  } else {
    calls.push(
      call("POST", "/nodes/{node}/qemu/{vmid}/status/start", vm, `${who}: start (started: true)`),
      call("POST", "/nodes/{node}/qemu/{vmid}/status/shutdown", vm, `${who}: shut down`),
      call("POST", "/nodes/{node}/qemu/{vmid}/status/stop", vm, `${who}: stop when shutdown times out`),
      call("POST", "/nodes/{node}/qemu/{vmid}/status/reboot", vm, `${who}: reboot after a change that needs it`),
    );
  }
  if (g.migrate) {
    calls.push(
      call("GET", "/cluster/ha/resources/{sid}", { sid: `vm:${g.vmid}` }, `${who}: is the VM HA-managed (decides how to migrate)`),
      call("POST", "/nodes/{node}/qemu/{vmid}/migrate", { ...vm, target: nodes.find((n) => n !== g.node) ?? g.node }, `${who}: migrate on a node change (migrate: true)`),
    );
  }
  return calls;
}

interface Download {
  readonly node: string;
  readonly storage: string;
  readonly what: string;
}

/** The LXC template on every node that creates containers, and each VM template's image on its node. */
function downloadsOf(facts: ClusterFacts): Download[] {
  return [
    ...facts.lxcTemplate.nodes.map((node) => ({ node, storage: facts.lxcTemplate.storage, what: `the Ubuntu LXC template (customer containers on ${node})` })),
    ...facts.vms.flatMap((g) => (g.image ? [{ node: g.node, storage: g.image.storage, what: `${g.template === "iso" ? "the installer ISO" : "the cloud image"} ${g.image.fileName} (template ${g.vmid})` }] : [])),
  ];
}

function downloadCalls(d: Download): ApiCall[] {
  const p = { node: d.node, storage: d.storage };
  const newer = "Sys.AccessNetwork on the node, the privilege the schema calls newer; Sys.Audit+Sys.Modify on / is the backwards-compatible branch";
  return [
    call("GET", "/nodes/{node}/query-url-metadata", { node: d.node }, `download ${d.what}: file name and size of the URL`, { choose: { orPath: ["/nodes/{node}"] } }),
    call("POST", "/nodes/{node}/storage/{storage}/download-url", p, `download ${d.what}`, { choose: { orPath: ["/nodes/{node}"] }, descriptionReviewed: `the description explains the check's 'or'; this scope takes ${newer}` }),
    call("GET", "/nodes/{node}/storage/{storage}/content", p, `download ${d.what}: is the file there (refresh)`, { choose: { any: ["Datastore.Audit"] } }),
    call("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}", { ...p, volume: `${d.storage}:vztmpl/file` }, `download ${d.what}: remove the file (replace, destroy)`, {
      extra: [{ check: ["perm", "/storage/{storage}", ["Datastore.Allocate"]], because: "deleting an ISO/template/image volume", source: { kind: "schema-description", quote: "You need 'Datastore.Allocate' privilege on the storage" } }],
    }),
    taskPolling(d.node, `download ${d.what}`),
  ];
}

/** The HA rule (PVE 9, node-affinity) or HA group (PVE 8) keeping HA resources on the DRBD nodes. */
function haPlacementCalls(ha: ClusterFacts["ha"]): ApiCall[] {
  if (ha.mode === "group") {
    const p = { group: ha.name };
    return [
      call("GET", "/cluster/ha/groups", {}, "HA group: list"),
      call("POST", "/cluster/ha/groups", p, `HA group ${ha.name}: create`),
      call("GET", "/cluster/ha/groups/{group}", p, `HA group ${ha.name}: read`),
      call("PUT", "/cluster/ha/groups/{group}", p, `HA group ${ha.name}: update`),
      call("DELETE", "/cluster/ha/groups/{group}", p, `HA group ${ha.name}: delete`),
    ];
  }
  const p = { rule: ha.name };
  return [
    call("GET", "/cluster/ha/rules", {}, "HA rule: list"),
    call("POST", "/cluster/ha/rules", p, `HA rule ${ha.name}: create (node-affinity over every HA resource)`),
    call("GET", "/cluster/ha/rules/{rule}", p, `HA rule ${ha.name}: read`),
    call("PUT", "/cluster/ha/rules/{rule}", p, `HA rule ${ha.name}: update (a customer gains or loses HA)`),
    call("DELETE", "/cluster/ha/rules/{rule}", p, `HA rule ${ha.name}: delete`),
  ];
}

function infraCalls(facts: ClusterFacts): ApiCall[] {
  const calls: ApiCall[] = [call("GET", "/version", {}, "provider: PVE version (feature checks)")];
  for (const g of facts.containers) calls.push(...infraContainerCalls(g));
  for (const g of facts.vms) calls.push(...infraVmCalls(g, facts.nodes));
  for (const d of downloadsOf(facts)) calls.push(...downloadCalls(d));
  for (const storage of facts.managedStorages) {
    calls.push(
      call("POST", "/storage", { storage }, `storage ${storage}: create (adopted)`),
      call("GET", "/storage/{storage}", { storage }, `storage ${storage}: read`),
      call("PUT", "/storage/{storage}", { storage }, `storage ${storage}: update nodes/content`),
      call("DELETE", "/storage/{storage}", { storage }, `storage ${storage}: delete`),
    );
  }
  const backupStorage: ExtraRequirement = {
    check: ["perm", "/storage/{storage}", ["Datastore.Allocate"]],
    because: "the job's target storage",
    source: { kind: "server-code", ref: "pve-manager PVE/API2/Backup.pm assert_param_permission_create/update: check('/storage/$storeid', ['Datastore.Allocate'])" },
  };
  const backupReview = "tmpdir, dumpdir and script are never set (root@pam only); bwlimit/ionice/performance are not set either";
  calls.push(call("GET", "/cluster/backup", {}, "backup jobs: list"));
  for (const { id, storage } of facts.backupJobs) {
    const p = { id, storage };
    calls.push(
      call("POST", "/cluster/backup", p, `backup job ${id}: create (to ${storage})`, { extra: [backupStorage], descriptionReviewed: backupReview }),
      call("GET", "/cluster/backup/{id}", p, `backup job ${id}: read`),
      call("PUT", "/cluster/backup/{id}", p, `backup job ${id}: update`, { extra: [backupStorage], descriptionReviewed: backupReview }),
      call("DELETE", "/cluster/backup/{id}", p, `backup job ${id}: delete`),
    );
  }
  calls.push(...customerHaCalls(facts));
  calls.push(...haPlacementCalls(facts.ha));
  for (const node of facts.nodes) {
    calls.push(call("GET", "/nodes/{node}/config", { node }, `node ${node}: read the notes`), call("PUT", "/nodes/{node}/config", { node }, `node ${node}: set the notes (role, capacity)`));
  }
  const pool = { poolid: facts.customer.pool };
  const pn = `pool ${facts.customer.pool}`;
  calls.push(
    call("GET", "/pools", pool, `${pn}: read (GET /pools?poolid=${facts.customer.pool})`, {
      extra: [{ check: ["perm", "/pool/{poolid}", ["Pool.Audit"]], because: "the pool is only listed with Pool.Audit on it; otherwise the provider sees it as gone", source: { kind: "schema-description", quote: "List all pools where you have Pool.Audit permissions on /pool/<pool>" } }],
    }),
    call("POST", "/pools", pool, `${pn}: create`),
    call("PUT", "/pools", pool, `${pn}: update the comment`, { descriptionReviewed: "members are never added or removed here (containers join the pool through the create call's `pool`), so no right to modify permissions on members is needed" }),
    call("DELETE", "/pools", pool, `${pn}: delete`, { descriptionReviewed: "only an empty pool can be deleted: a state condition, not a privilege" }),
  );
  // Cluster firewall: every call is Sys.Audit (read) or Sys.Modify (write) on `/`.
  const cfw = (method: HttpMethod, sub: string, params: ApiCall["params"], why: string): ApiCall => call(method, `/cluster/firewall/${sub}`, params, `cluster firewall: ${why}`);
  calls.push(
    cfw("GET", "options", {}, "read options"),
    cfw("PUT", "options", {}, "enable, policies"),
    cfw("GET", "rules", {}, "list rules"),
    cfw("POST", "rules", {}, "add a rule"),
    cfw("GET", "rules/{pos}", { pos: 0 }, "read a rule"),
    cfw("PUT", "rules/{pos}", { pos: 0 }, "change a rule"),
    cfw("DELETE", "rules/{pos}", { pos: 0 }, "delete a rule"),
    cfw("POST", "groups", {}, "create a security group"),
    cfw("GET", "groups/{group}", { group: "webserver" }, "list a security group's rules"),
    cfw("POST", "groups/{group}", { group: "webserver" }, "add a rule to a security group"),
    cfw("PUT", "groups/{group}/{pos}", { group: "webserver", pos: 0 }, "change a security group rule"),
    cfw("DELETE", "groups/{group}/{pos}", { group: "webserver", pos: 0 }, "delete a security group rule"),
    cfw("DELETE", "groups/{group}", { group: "webserver" }, "delete a security group"),
    cfw("GET", "ipset", {}, "list IP sets"),
    cfw("POST", "ipset", { name: "management" }, "create an IP set"),
    cfw("GET", "ipset/{name}", { name: "management" }, "read an IP set"),
    cfw("POST", "ipset/{name}", { name: "management" }, "add an address"),
    cfw("DELETE", "ipset/{name}/{cidr}", { name: "management", cidr: "10.8.0.0/24" }, "remove an address"),
    cfw("DELETE", "ipset/{name}", { name: "management" }, "delete an IP set"),
    cfw("GET", "aliases", {}, "list aliases"),
    cfw("POST", "aliases", {}, "create an alias"),
    cfw("GET", "aliases/{name}", { name: "lan" }, "read an alias"),
    cfw("PUT", "aliases/{name}", { name: "lan" }, "change an alias"),
    cfw("DELETE", "aliases/{name}", { name: "lan" }, "delete an alias"),
  );
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Roles and ACL entries

/** A PVE role: a named set of privileges. */
export interface PveRole {
  readonly name: string;
  readonly privileges: readonly string[];
}

/** One ACL entry for a token (and its user). The role's privileges are derived, not written here. */
export interface AclEntry {
  readonly path: string;
  readonly role: string;
  /** Whether the entry also applies below `path` (and, for `/pool/<pool>`, to the pool's members). */
  readonly propagate: boolean;
  readonly why: string;
}

export interface ScopeDefinition {
  readonly name: "infrastructure" | "customer";
  readonly tokenId: string;
  readonly calls: readonly ApiCall[];
  readonly acl: readonly AclEntry[];
  /** Pool membership: which guests a `/pool/<pool>` entry (with propagate) reaches. */
  readonly poolMembers: Readonly<Record<string, (vmid: number) => boolean>>;
}

export interface DerivedScope {
  readonly name: ScopeDefinition["name"];
  readonly tokenId: string;
  /** ACL path → privileges the calls need there. */
  readonly required: PrivilegeMap;
  /** Every requirement with the call that has it (for explanations). */
  readonly requirements: readonly Requirement[];
  /** Roles, each exactly the union of what is needed on the paths its ACL entries reach. */
  readonly roles: readonly PveRole[];
  readonly acl: readonly AclEntry[];
  /** Required ACL path → path of the ACL entry that grants it. */
  readonly grantedBy: Readonly<Record<string, string>>;
}

export class ScopeDerivationError extends Error {
  constructor(scope: string, message: string) {
    super(`${scope} scope: ${message}`);
    this.name = "ScopeDerivationError";
  }
}

/** Does `entry` reach the concrete ACL path `target` (PVE's propagation, plus pool membership for guests)? */
export function aclEntryReaches(entry: Pick<AclEntry, "path" | "propagate">, target: string, poolMembers: ScopeDefinition["poolMembers"] = {}): boolean {
  if (entry.path === target) return true;
  if (!entry.propagate) return false;
  const prefix = entry.path === "/" ? "/" : `${entry.path}/`;
  if (target.startsWith(prefix)) return true;
  const pool = /^\/pool\/([^/]+)$/.exec(entry.path)?.[1];
  const vmid = /^\/vms\/(\d+)$/.exec(target)?.[1];
  return pool !== undefined && vmid !== undefined && (poolMembers[pool]?.(Number(vmid)) ?? false);
}

/**
 * Evaluates a scope: the privileges its calls need, and the roles that grant them through its ACL
 * entries. Every needed path must be reached by exactly one entry (so nothing depends on PVE's
 * override order between a path and its parents), and every entry must be needed.
 */
export function deriveScope(def: ScopeDefinition, schema: PveApiSchema): DerivedScope {
  const requirements = allRequirements(def.calls, schema);
  const required = privilegeMapOf(requirements);
  const grantedBy: Record<string, string> = {};
  const rolePrivileges = new Map<string, Set<string>>();
  const used = new Set<AclEntry>();
  for (const entry of def.acl) if (!rolePrivileges.has(entry.role)) rolePrivileges.set(entry.role, new Set());
  for (const [aclPath, privileges] of Object.entries(required)) {
    const reaching = def.acl.filter((e) => aclEntryReaches(e, aclPath, def.poolMembers));
    if (reaching.length !== 1) throw new ScopeDerivationError(def.name, `${aclPath} (${privileges.join(", ")}) is reached by ${reaching.length === 0 ? "no ACL entry" : `${reaching.length} ACL entries: ${reaching.map((e) => e.path).join(", ")}`}`);
    const [entry] = reaching as [AclEntry];
    used.add(entry);
    grantedBy[aclPath] = entry.path;
    const set = rolePrivileges.get(entry.role) ?? new Set<string>();
    for (const p of privileges) set.add(p);
    rolePrivileges.set(entry.role, set);
  }
  const unused = def.acl.filter((e) => !used.has(e));
  if (unused.length > 0) throw new ScopeDerivationError(def.name, `ACL entries no call needs: ${unused.map((e) => `${e.path} (${e.role})`).join(", ")}`);
  const roles = [...rolePrivileges.entries()].map(([name, set]) => ({ name, privileges: [...set].sort() })).sort((a, b) => a.name.localeCompare(b.name));
  return { name: def.name, tokenId: def.tokenId, required, requirements, roles, acl: def.acl, grantedBy };
}

function customerPoolMembers(facts: ClusterFacts): ScopeDefinition["poolMembers"] {
  const { first, last } = facts.customer.vmids;
  return { [facts.customer.pool]: (vmid: number) => vmid >= first && vmid <= last };
}

/** "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]!}`;
}

/**
 * The customer token: guests only through the customer pool, plus the storages and the bridge
 * they use. It has no ACL entry on `/`: the HA resources of customer containers, the only calls
 * that would need one (Sys.Console, Sys.Audit on `/`, which would reach every guest's HA state),
 * are made with the infrastructure token (`customerHaCalls`).
 */
export function customerScope(facts: ClusterFacts): ScopeDefinition {
  const { pool, storage, storageType } = facts.customer;
  const templateStorage = facts.lxcTemplate.storage;
  const storageEntries: AclEntry[] =
    storage === templateStorage
      ? [{ path: `/storage/${storage}`, role: "NodepointCustomerDisks", propagate: false, why: "root disks and the LXC template on the same storage" }]
      : [
          { path: `/storage/${storage}`, role: "NodepointCustomerDisks", propagate: false, why: `root disks on the ${storageType === "drbd" ? "DRBD" : "shared"} storage` },
          { path: `/storage/${templateStorage}`, role: "NodepointCustomerTemplates", propagate: false, why: "read the LXC template" },
        ];
  return {
    name: "customer",
    tokenId: "pulumi-customers@pve!iac",
    calls: customerCalls(facts),
    poolMembers: customerPoolMembers(facts),
    acl: [
      { path: `/pool/${pool}`, role: "NodepointCustomerGuests", propagate: true, why: "create customer containers in the pool; manage the pool's members (never an infrastructure VMID)" },
      ...storageEntries,
      { path: sdnPath({ bridge: facts.lanBridge }), role: "NodepointCustomerLan", propagate: false, why: "attach eth0 to the LAN bridge (untagged)" },
    ],
  };
}

/** The infrastructure token. */
export function infraScope(facts: ClusterFacts): ScopeDefinition {
  const guests = [...facts.containers, ...facts.vms];
  const nics = [...new Map(guests.flatMap((g) => g.nics).map((n) => [sdnPath(n), n] as const)).values()].sort((a, b) => a.bridge.localeCompare(b.bridge) || (a.vlan ?? -1) - (b.vlan ?? -1));
  const sysModify = [
    ...(facts.backupJobs.length > 0 ? ["backup jobs"] : []),
    "node notes",
    "cluster firewall",
    ...(facts.containers.some((c) => c.privileged) ? ["privileged router CT"] : []),
    ...(facts.vms.some((v) => v.startup) ? ["QEMU startup order"] : []),
  ];
  return {
    name: "infrastructure",
    tokenId: "pulumi-infra@pve!iac",
    calls: infraCalls(facts),
    poolMembers: customerPoolMembers(facts),
    acl: [
      { path: "/", role: "NodepointInfraCluster", propagate: false, why: `${sysModify.join(", ")} (Sys.Modify); HA ${facts.ha.mode} and HA resources (Sys.Console); cluster reads (Sys.Audit)` },
      { path: "/nodes", role: "NodepointInfraNodes", propagate: true, why: "download-url and query-url-metadata on every node (Sys.AccessNetwork)" },
      ...infraVmids(facts).map((vmid) => ({ path: `/vms/${vmid}`, role: "NodepointInfraGuests", propagate: false, why: `infrastructure guest ${vmid}` })),
      { path: "/storage", role: "NodepointInfraStorage", propagate: true, why: "storage definitions (checked on /storage and /storage/<id>), guest disks, downloads, backup targets" },
      ...(nics.length > 0 ? [{ path: "/sdn/zones/localnetwork", role: "NodepointInfraNetwork", propagate: true, why: `NICs on ${listed(nics.map((n) => `${n.bridge}${n.vlan !== undefined ? ` tag ${n.vlan}` : ""}`))}` }] : []),
      // No propagate: PVE would otherwise extend the entry to the pool's members (customer containers).
      { path: `/pool/${facts.customer.pool}`, role: "NodepointInfraPool", propagate: false, why: `create and maintain the ${facts.customer.pool} pool` },
    ],
  };
}

/** Both scopes, evaluated against the schema. */
export function deriveScopes(schema: PveApiSchema, facts: ClusterFacts): { infra: DerivedScope; customer: DerivedScope } {
  return { infra: deriveScope(infraScope(facts), schema), customer: deriveScope(customerScope(facts), schema) };
}
