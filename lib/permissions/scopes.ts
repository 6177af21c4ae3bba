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
 * stack's config through `clusterFactsOf` (clusterFacts.ts): one cluster per stack, any number of nodes. Customer
 * calls use one representative container (the first customer VMID on the first node of the customer
 * storage): every customer container gets the same calls with its own VMID, all inside the pool.
 *
 * Privilege-separated tokens only get what both the token and its user are granted: each ACL entry
 * is applied to the token and to its user (AutomationAccess does).
 */
import type { ClusterFacts, InfraContainer, InfraVm, NicSpec } from "./clusterFacts";
import type { HttpMethod, PveApiSchema } from "./pveApiSchema";
import {
  allRequirements,
  privilegeMapOf,
  type ApiCall,
  type Choices,
  type ExtraRequirement,
  type PrivilegeMap,
  type Requirement,
  type RequirementSource,
} from "./requiredPrivileges";

// ---------------------------------------------------------------------------------------------
// Extra requirements shared by calls (checks the API makes in code)

const CT_PERM_CODE = "pve-container src/PVE/LXC.pm check_ct_modify_config_perm";
const QM_PERM_CODE = "qemu-server src/PVE/API2/Qemu.pm $check_vm_modify_config_perm";

/** SDN path a NIC on a plain Linux bridge is checked against (`localnetwork` is the implicit zone of non-SDN bridges). */
export function sdnPath(nic: NicSpec): string {
  return `/sdn/zones/localnetwork/${nic.bridge}${nic.vlan !== undefined ? `/${nic.vlan}` : ""}`;
}

/** The two kinds of guest, as the API paths name them. */
type Guest = "lxc" | "qemu";

const LXC_CLONE_SDN: ExtraRequirement["alsoDocumented"] = [
  { method: "POST", path: "/nodes/{node}/lxc/{vmid}/clone", quote: "and 'SDN.Use' on any bridge." },
];

/** SDN.Use on the bridge (and VLAN) of each NIC a create or update call sets. */
function nicSdn(guest: Guest, op: "create" | "update", nics: readonly NicSpec[]): ExtraRequirement[] {
  const source: RequirementSource =
    guest === "lxc"
      ? {
          kind: "server-code",
          ref: `${CT_PERM_CODE} → check_bridge_access → PVE::GuestHelpers::check_vnet_access (old and new netN)`,
        }
      : op === "create"
        ? {
            kind: "schema-description",
            method: "POST",
            path: "/nodes/{node}/qemu",
            quote: "If you use a bridge/vlan, you need 'SDN.Use' on any used bridge/vlan.",
          }
        : {
            kind: "server-code",
            ref: "qemu-server src/PVE/API2/Qemu.pm update_vm_api → PVE::QemuServer::check_bridge_access",
          };
  return nics.map((nic) => ({
    check: ["perm", sdnPath(nic), ["SDN.Use"]],
    because: `${op}: netN on bridge ${nic.bridge}${nic.vlan !== undefined ? ` tag ${nic.vlan}` : ""}`,
    source,
    ...(guest === "lxc" ? { alsoDocumented: LXC_CLONE_SDN } : {}),
  }));
}

/** `check_volume_access` on an ISO, vztmpl or import volume: Datastore.Allocate, else read access to its storage. */
function volumeAccess(storageParam: string, because: string, holder: "allocate" | "read"): ExtraRequirement {
  return {
    check: [
      "or",
      ["perm", `/storage/{${storageParam}}`, ["Datastore.Allocate"]],
      ["perm", `/storage/{${storageParam}}`, ["Datastore.AllocateSpace", "Datastore.Audit"], "any", 1],
    ],
    because,
    source: {
      kind: "server-code",
      ref: "pve-storage src/PVE/Storage.pm check_volume_access (iso/vztmpl/import: Datastore.Allocate, or one of Datastore.AllocateSpace/Datastore.Audit)",
    },
    // The infrastructure token holds Datastore.Allocate on every storage anyway; a customer only reads.
    choose: holder === "allocate" ? { or: 0 } : { or: 1, any: ["Datastore.Audit"] },
  };
}

const OPTION_CHECKS: Record<Guest, string> = {
  lxc: `${CT_PERM_CODE} (cores/cpulimit/cpuunits: VM.Config.CPU; memory/swap: VM.Config.Memory; netN/hostname/nameserver/searchdomain: VM.Config.Network; rootfs/mpN: VM.Config.Disk; tags: VM.Config.Options via PVE::GuestHelpers::assert_tag_permissions; anything else: VM.Config.Options)`,
  qemu: `${QM_PERM_CODE} ($cpuoptions: VM.Config.CPU, $memoryoptions: VM.Config.Memory, $hwtypeoptions and serialN=socket: VM.Config.HWType, $generaloptions: VM.Config.Options, netN: VM.Config.Network, ipconfigN/cloud-init: VM.Config.Cloudinit or VM.Config.Network)`,
};

/** The per-option privileges on the guest for the options a create or update call sends. */
function optionPrivileges(guest: Guest, privileges: readonly string[], options: string): ExtraRequirement {
  return {
    check: ["perm", "/vms/{vmid}", [...privileges]],
    because: `options the provider sends: ${options}`,
    source: { kind: "server-code", ref: OPTION_CHECKS[guest] },
  };
}

const VM_ALLOCATE_QUOTES: Record<Guest, string> = {
  lxc: "You need 'VM.Allocate' permission on /vms/{vmid} or on the VM pool /pool/{pool}.",
  qemu: "You need 'VM.Allocate' permissions on /vms/{vmid} or on the VM pool /pool/{pool}. ",
};

/** Creating a guest: VM.Allocate on the new VMID, or on the pool it is created in. */
function vmAllocate(guest: Guest, because: string, choose?: Choices): ExtraRequirement {
  return {
    check: [
      "or",
      ["perm", "/vms/{vmid}", ["VM.Allocate"]],
      ["perm", "/pool/{pool}", ["VM.Allocate"], "require_param", "pool"],
    ],
    because,
    source: { kind: "schema-description", quote: VM_ALLOCATE_QUOTES[guest] },
    ...(choose ? { choose } : {}),
  };
}

/** Datastore.AllocateSpace on the call's `storage`: a new or grown volume there. */
function allocateSpace(because: string, source: RequirementSource): ExtraRequirement {
  return { check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]], because, source };
}

/** QEMU's `startup` is special-cased: it changes host behaviour, so it needs Sys.Modify on `/` (LXC's does not). */
const QEMU_STARTUP_SYS_MODIFY: ExtraRequirement = {
  check: ["perm", "/", ["Sys.Modify"]],
  because: "startup: order=N is set",
  source: {
    kind: "server-code",
    ref: `${QM_PERM_CODE}: "special case for startup since it changes host behaviour" → check_full('/', ['Sys.Modify'])`,
  },
};

// ---------------------------------------------------------------------------------------------
// Call builders

const call = (
  method: HttpMethod,
  path: string,
  params: ApiCall["params"],
  why: string,
  more: Partial<Pick<ApiCall, "choose" | "extra" | "descriptionReviewed">> = {},
): ApiCall => ({ method, path, params, why, ...more });

const LXC_CREATE_SPACE: RequirementSource = {
  kind: "schema-description",
  quote: "You also need 'Datastore.AllocateSpace' permissions on the storage.",
};

const TASK_STATUS_REVIEW =
  "the token is the owner of the tasks it starts (pve-manager PVE/API2/Tasks.pm $check_task_user matches the full token id), so no Sys.Audit on /nodes/<node> is needed";

function taskPolling(node: string, what: string): ApiCall {
  return call(
    "GET",
    "/nodes/{node}/tasks/{upid}/status",
    { node, upid: "UPID:placeholder" },
    `poll the task of ${what}`,
    { descriptionReviewed: TASK_STATUS_REVIEW },
  );
}

/** Growing a guest's disk: the resize call and the space it allocates on the disk's storage. */
function resizeCall(
  guest: Guest,
  params: { node: string; vmid: number },
  disk: string,
  storage: string,
  who: string,
): ApiCall {
  const code = guest === "lxc" ? "pve-container src/PVE/API2/LXC.pm" : "qemu-server src/PVE/API2/Qemu.pm";
  return call("PUT", `/nodes/{node}/${guest}/{vmid}/resize`, { ...params, disk, storage }, `${who}: grow ${disk}`, {
    extra: [
      allocateSpace("growing a volume allocates space on its storage", {
        kind: "server-code",
        ref: `${code} resize_vm: check('/storage/$storeid', ['Datastore.AllocateSpace'])`,
      }),
    ],
  });
}

/** The firewall calls under `base` (`/cluster/firewall`, `/nodes/{node}/lxc/{vmid}/firewall`), each named `<who>: <why>`. */
function firewallCall(base: string, params: ApiCall["params"], who: string) {
  return (method: HttpMethod, sub: string, more: ApiCall["params"], why: string): ApiCall =>
    call(method, `${base}/${sub}`, { ...params, ...more }, `${who}: ${why}`);
}

/** What both the cluster and a container firewall are managed with: options, rules and an IP set (`ipset`, holding `cidr`). */
function firewallCalls(
  base: string,
  params: ApiCall["params"],
  who: string,
  options: string,
  ipset: { name: string; cidr: string },
): ApiCall[] {
  const fw = firewallCall(base, params, who);
  const pos = { pos: 0 };
  const set = { name: ipset.name };
  return [
    fw("GET", "options", {}, "read options"),
    fw("PUT", "options", {}, options),
    fw("GET", "rules", {}, "list rules"),
    fw("POST", "rules", {}, "add a rule"),
    fw("GET", "rules/{pos}", pos, "read a rule"),
    fw("PUT", "rules/{pos}", pos, "change a rule"),
    fw("DELETE", "rules/{pos}", pos, "delete a rule"),
    fw("GET", "ipset", {}, "list IP sets"),
    fw("POST", "ipset", set, `create the ${ipset.name} IP set`),
    fw("GET", "ipset/{name}", set, "read an IP set"),
    fw("POST", "ipset/{name}", set, "add an address"),
    fw("DELETE", "ipset/{name}/{cidr}", { ...set, cidr: ipset.cidr }, "remove an address"),
    fw("DELETE", "ipset/{name}", set, "delete the IP set"),
  ];
}

/** Calls an LXC container resource (`ContainerLegacy`) makes, besides create. */
function lxcLifecycle(p: {
  node: string;
  vmid: number;
  nics: readonly NicSpec[];
  who: string;
  updateOptions: ExtraRequirement;
  resizeStorage?: string;
}): ApiCall[] {
  const params = { node: p.node, vmid: p.vmid };
  const calls: ApiCall[] = [
    call(
      "GET",
      "/nodes/{node}/lxc/{vmid}/config",
      params,
      `${p.who}: read the config (refresh, after create and update)`,
    ),
    call(
      "GET",
      "/nodes/{node}/lxc/{vmid}/status/current",
      params,
      `${p.who}: read the state; wait for the config lock and for start/stop`,
    ),
    call(
      "GET",
      "/nodes/{node}/lxc/{vmid}/interfaces",
      params,
      `${p.who}: read the NICs' addresses of a running container`,
    ),
    call(
      "PUT",
      "/nodes/{node}/lxc/{vmid}/config",
      params,
      `${p.who}: update cores, memory, NIC, hostname, description, tags, onboot, protection`,
      {
        // The method's gate is "any" of the VM.Config.* privileges; the real checks are per option (extra).
        choose: { any: ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"] },
        extra: [p.updateOptions, ...nicSdn("lxc", "update", p.nics)],
        descriptionReviewed:
          "only volume mount points are configured; non-volume (bind/device) mount points are root@pam only and never used",
      },
    ),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/start", params, `${p.who}: start (started: true)`),
    call(
      "POST",
      "/nodes/{node}/lxc/{vmid}/status/shutdown",
      params,
      `${p.who}: shut down (started: false, before delete)`,
    ),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/stop", params, `${p.who}: stop when shutdown times out`),
    call("POST", "/nodes/{node}/lxc/{vmid}/status/reboot", params, `${p.who}: reboot after a change that needs it`),
    call("DELETE", "/nodes/{node}/lxc/{vmid}", params, `${p.who}: destroy`),
    taskPolling(p.node, `${p.who} operations`),
  ];
  if (p.resizeStorage !== undefined) calls.push(resizeCall("lxc", params, "rootfs", p.resizeStorage, p.who));
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Customer scope

/** The calls of a customer container: every container gets these with its own VMID; the first customer VMID, on the first node of the customer storage, stands for them. */
function customerCalls(facts: ClusterFacts): ApiCall[] {
  const { pool, storage, node } = facts.customer;
  const ct = { node, vmid: facts.customer.vmids.first };
  const templateStorage = facts.lxcTemplate.storage;
  const nics = [{ bridge: facts.lanBridge }];
  return [
    call("GET", "/version", {}, "provider: PVE version (feature checks on create/start)"),
    call(
      "GET",
      "/nodes/{node}/storage/{storage}/content",
      { node, storage: templateStorage },
      "find the Ubuntu LXC template on the node",
      { choose: { any: ["Datastore.Audit"] } },
    ),
    call(
      "POST",
      "/nodes/{node}/lxc",
      { ...ct, pool, storage, templateStorage },
      `create the customer container (unprivileged, nesting, in the ${pool} pool, rootfs on ${storage}, eth0 on ${facts.lanBridge} with firewall)`,
      {
        extra: [
          vmAllocate("lxc", "a new container; the customer token allocates through the pool, never on a VMID path", {
            orPath: ["/pool/{pool}"],
          }),
          allocateSpace(`rootfs is a new volume on ${storage}`, LXC_CREATE_SPACE),
          volumeAccess("templateStorage", `ostemplate is a vztmpl volume on \`${templateStorage}\``, "read"),
          ...nicSdn("lxc", "create", nics),
          optionPrivileges(
            "lxc",
            ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Disk", "VM.Config.Options"],
            "cores, memory, swap, net0, hostname, rootfs, description, tags, onboot, protection, ostype, arch, console, tty",
          ),
          {
            check: ["perm", "/vms/{vmid}", ["VM.Allocate"]],
            because:
              "features: nesting=1 (the only feature flag a non-root user may set, and only on unprivileged containers)",
            source: {
              kind: "server-code",
              ref: `${CT_PERM_CODE}: features → check_vm_perm(['VM.Allocate']) if only nesting changed`,
            },
          },
        ],
        descriptionReviewed:
          "unprivileged container, so the Sys.Modify clause for privileged ones does not apply; no restore, so VM.Backup does not either",
      },
    ),
    ...lxcLifecycle({
      ...ct,
      nics,
      who: "customer container",
      updateOptions: optionPrivileges(
        "lxc",
        ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"],
        "cores, memory, swap, net0, hostname, description, tags, onboot, protection",
      ),
      resizeStorage: storage,
    }),
    // No HA resource calls: they are made with the infrastructure token (see `customerHaCalls`).
    // Per-container firewall (`firewall.OptionsLegacy`, `firewall.RulesLegacy`): reads are VM.Audit,
    // writes VM.Config.Network, both on /vms/{vmid}, which the pool entry reaches.
    ...firewallCalls(
      "/nodes/{node}/lxc/{vmid}/firewall",
      ct,
      "customer firewall",
      "enable, policies, ipfilter, macfilter",
      { name: "ipfilter-net0", cidr: "192.168.1.100" },
    ),
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
    call(
      "PUT",
      "/cluster/ha/resources/{sid}",
      { sid: CUSTOMER_SID },
      "customer HA: change state (started/stopped), max_restart, max_relocate, comment",
    ),
    call(
      "DELETE",
      "/cluster/ha/resources/{sid}",
      { sid: CUSTOMER_SID },
      "customer HA: remove the resource (decommission, before the container is destroyed)",
    ),
  ];
}

function infraContainerCalls(g: InfraContainer): ApiCall[] {
  const who = `CT ${g.vmid} ${g.name}`;
  const ct = { node: g.node, vmid: g.vmid };
  const options = "cores, memory, swap, netN, hostname, rootfs, description, tags, onboot, startup, protection, ostype";
  const create = call(
    "POST",
    "/nodes/{node}/lxc",
    { ...ct, storage: g.rootStorage, templateStorage: g.templateStorage },
    `${who}: create (adopted; declared so a rebuild works)`,
    {
      extra: [
        vmAllocate("lxc", "a new container outside any pool"),
        allocateSpace(`rootfs is a new volume on ${g.rootStorage}`, LXC_CREATE_SPACE),
        volumeAccess("templateStorage", `ostemplate is a vztmpl volume on \`${g.templateStorage}\``, "allocate"),
        ...nicSdn("lxc", "create", g.nics),
        optionPrivileges(
          "lxc",
          ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Disk", "VM.Config.Options"],
          `${options} (LXC's startup is VM.Config.Options, not Sys.Modify)`,
        ),
        ...(g.privileged
          ? [
              {
                check: ["perm", "/", ["Sys.Modify"]],
                because: "unprivileged: 0 (the router)",
                source: {
                  kind: "schema-description",
                  quote: "For privileged containers, 'Sys.Modify' permissions on '/' are required.",
                },
              } satisfies ExtraRequirement,
            ]
          : []),
      ],
      ...(g.privileged
        ? {}
        : {
            descriptionReviewed:
              "unprivileged container: the Sys.Modify clause does not apply; no restore, so VM.Backup does not either",
          }),
    },
  );
  return [
    create,
    ...lxcLifecycle({
      ...ct,
      nics: g.nics,
      who,
      updateOptions: optionPrivileges(
        "lxc",
        ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"],
        options,
      ),
    }),
  ];
}

function infraVmCalls(g: InfraVm, nodes: readonly string[]): ApiCall[] {
  const who = `${g.template ? "template" : "VM"} ${g.vmid} ${g.name}`;
  const vm = { node: g.node, vmid: g.vmid };
  const cpuMemHw = ["VM.Config.CPU", "VM.Config.Memory", "VM.Config.HWType", "VM.Config.Network", "VM.Config.Options"];
  const createPrivs = g.template === "cloud-init" ? [...cpuMemHw, "VM.Config.Cloudinit"] : cpuMemHw;
  const options = `cores, sockets, cpu, memory, scsihw, vga, tablet, kvm, acpi, netN, name, description, tags, onboot, agent, protection, ostype${g.startup ? ", startup" : ""}${g.template === "cloud-init" ? ", ipconfig0, serial0=socket" : ""}`;
  const diskPrivs = g.template === "iso" ? ["VM.Config.Disk", "VM.Config.CDROM"] : ["VM.Config.Disk"];
  const updateExtra: ExtraRequirement[] = [
    optionPrivileges("qemu", createPrivs, options),
    {
      check: ["perm", "/vms/{vmid}", diskPrivs],
      because: g.template === "iso" ? "scsi0 disk and ide2 CD-ROM changes" : "scsi0 disk changes",
      source: {
        kind: "server-code",
        ref: "qemu-server src/PVE/API2/Qemu.pm update_vm_api: drives need VM.Config.Disk, CD-ROMs VM.Config.CDROM",
      },
    },
    ...nicSdn("qemu", "update", g.nics),
    ...(g.startup ? [QEMU_STARTUP_SYS_MODIFY] : []),
  ];
  const calls: ApiCall[] = [
    call(
      "POST",
      "/nodes/{node}/qemu",
      { ...vm, storage: g.diskStorage, ...(g.image ? { imageStorage: g.image.storage } : {}) },
      `${who}: create (adopted; declared so a rebuild works)`,
      {
        extra: [
          vmAllocate("qemu", "a new VM outside any pool"),
          allocateSpace(`scsi0${g.template === "cloud-init" ? " and the cloud-init drive" : ""} on ${g.diskStorage}`, {
            kind: "schema-description",
            quote: "If you create disks you need 'Datastore.AllocateSpace' on any used storage.",
          }),
          ...(g.image
            ? [
                volumeAccess(
                  "imageStorage",
                  g.template === "iso"
                    ? `ide2 is the installer ISO on \`${g.image.storage}\``
                    : `scsi0 imports the cloud image from \`${g.image.storage}\``,
                  "allocate",
                ),
              ]
            : []),
          ...nicSdn("qemu", "create", g.nics),
          optionPrivileges("qemu", createPrivs, options),
          ...(g.startup ? [QEMU_STARTUP_SYS_MODIFY] : []),
        ],
        descriptionReviewed: "no restore (archive), so the VM.Backup clause does not apply",
      },
    ),
    call("GET", "/cluster/resources", { type: "vm" }, `${who}: find the node the VM is on (list filtered by VM.Audit)`),
    call("GET", "/pools", {}, `${who}: find the pool the VM is in`, {
      descriptionReviewed:
        "a listing filtered by Pool.Audit; infrastructure guests are in no pool, so the empty answer is the right one",
    }),
    call("GET", "/nodes/{node}/qemu/{vmid}/config", vm, `${who}: read the config`),
    call("GET", "/nodes/{node}/qemu/{vmid}/status/current", vm, `${who}: read the state; wait for the config lock`),
    call("POST", "/nodes/{node}/qemu/{vmid}/config", vm, `${who}: update (asynchronous form)`, {
      choose: { any: createPrivs },
      extra: updateExtra,
    }),
    call("PUT", "/nodes/{node}/qemu/{vmid}/config", vm, `${who}: update (synchronous form)`, {
      choose: { any: createPrivs },
      extra: updateExtra,
    }),
    resizeCall("qemu", vm, "scsi0", g.diskStorage, who),
    call("DELETE", "/nodes/{node}/qemu/{vmid}", vm, `${who}: destroy`),
    taskPolling(g.node, who),
  ];
  if (g.template) {
    calls.push(
      call("POST", "/nodes/{node}/qemu/{vmid}/template", vm, `${who}: convert to a template`, {
        descriptionReviewed: "the description repeats the check (VM.Allocate on /vms/{vmid})",
      }),
    );
    if (g.template === "cloud-init")
      calls.push(call("PUT", "/nodes/{node}/qemu/{vmid}/cloudinit", vm, `${who}: regenerate the cloud-init drive`));
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
      call(
        "GET",
        "/cluster/ha/resources/{sid}",
        { sid: `vm:${g.vmid}` },
        `${who}: is the VM HA-managed (decides how to migrate)`,
      ),
      call(
        "POST",
        "/nodes/{node}/qemu/{vmid}/migrate",
        { ...vm, target: nodes.find((n) => n !== g.node) ?? g.node },
        `${who}: migrate on a node change (migrate: true)`,
      ),
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
    ...facts.lxcTemplate.nodes.map((node) => ({
      node,
      storage: facts.lxcTemplate.storage,
      what: `the Ubuntu LXC template (customer containers on ${node})`,
    })),
    ...facts.vms.flatMap((g) =>
      g.image
        ? [
            {
              node: g.node,
              storage: g.image.storage,
              what: `${g.template === "iso" ? "the installer ISO" : "the cloud image"} ${g.image.fileName} (template ${g.vmid})`,
            },
          ]
        : [],
    ),
  ];
}

function downloadCalls(d: Download): ApiCall[] {
  const p = { node: d.node, storage: d.storage };
  const newer =
    "Sys.AccessNetwork on the node, the privilege the schema calls newer; Sys.Audit+Sys.Modify on / is the backwards-compatible branch";
  return [
    call(
      "GET",
      "/nodes/{node}/query-url-metadata",
      { node: d.node },
      `download ${d.what}: file name and size of the URL`,
      { choose: { orPath: ["/nodes/{node}"] } },
    ),
    call("POST", "/nodes/{node}/storage/{storage}/download-url", p, `download ${d.what}`, {
      choose: { orPath: ["/nodes/{node}"] },
      descriptionReviewed: `the description explains the check's 'or'; this scope takes ${newer}`,
    }),
    call("GET", "/nodes/{node}/storage/{storage}/content", p, `download ${d.what}: is the file there (refresh)`, {
      choose: { any: ["Datastore.Audit"] },
    }),
    call(
      "DELETE",
      "/nodes/{node}/storage/{storage}/content/{volume}",
      { ...p, volume: `${d.storage}:vztmpl/file` },
      `download ${d.what}: remove the file (replace, destroy)`,
      {
        extra: [
          {
            check: ["perm", "/storage/{storage}", ["Datastore.Allocate"]],
            because: "deleting an ISO/template/image volume",
            source: { kind: "schema-description", quote: "You need 'Datastore.Allocate' privilege on the storage" },
          },
        ],
      },
    ),
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
    source: {
      kind: "server-code",
      ref: "pve-manager PVE/API2/Backup.pm assert_param_permission_create/update: check('/storage/$storeid', ['Datastore.Allocate'])",
    },
  };
  const backupReview =
    "tmpdir, dumpdir and script are never set (root@pam only); bwlimit/ionice/performance are not set either";
  calls.push(call("GET", "/cluster/backup", {}, "backup jobs: list"));
  for (const { id, storage } of facts.backupJobs) {
    const p = { id, storage };
    calls.push(
      call("POST", "/cluster/backup", p, `backup job ${id}: create (to ${storage})`, {
        extra: [backupStorage],
        descriptionReviewed: backupReview,
      }),
      call("GET", "/cluster/backup/{id}", p, `backup job ${id}: read`),
      call("PUT", "/cluster/backup/{id}", p, `backup job ${id}: update`, {
        extra: [backupStorage],
        descriptionReviewed: backupReview,
      }),
      call("DELETE", "/cluster/backup/{id}", p, `backup job ${id}: delete`),
    );
  }
  calls.push(...customerHaCalls(facts));
  calls.push(...haPlacementCalls(facts.ha));
  for (const node of facts.nodes) {
    calls.push(
      call("GET", "/nodes/{node}/config", { node }, `node ${node}: read the notes`),
      call("PUT", "/nodes/{node}/config", { node }, `node ${node}: set the notes (role, capacity)`),
    );
  }
  const pool = { poolid: facts.customer.pool };
  const pn = `pool ${facts.customer.pool}`;
  calls.push(
    call("GET", "/pools", pool, `${pn}: read (GET /pools?poolid=${facts.customer.pool})`, {
      extra: [
        {
          check: ["perm", "/pool/{poolid}", ["Pool.Audit"]],
          because: "the pool is only listed with Pool.Audit on it; otherwise the provider sees it as gone",
          source: {
            kind: "schema-description",
            quote: "List all pools where you have Pool.Audit permissions on /pool/<pool>",
          },
        },
      ],
    }),
    call("POST", "/pools", pool, `${pn}: create`),
    call("PUT", "/pools", pool, `${pn}: update the comment`, {
      descriptionReviewed:
        "members are never added or removed here (containers join the pool through the create call's `pool`), so no right to modify permissions on members is needed",
    }),
    call("DELETE", "/pools", pool, `${pn}: delete`, {
      descriptionReviewed: "only an empty pool can be deleted: a state condition, not a privilege",
    }),
  );
  // Cluster firewall: every call is Sys.Audit (read) or Sys.Modify (write) on `/`.
  const cfw = firewallCall("/cluster/firewall", {}, "cluster firewall");
  const group = { group: "webserver" };
  const alias = { name: "lan" };
  calls.push(
    ...firewallCalls("/cluster/firewall", {}, "cluster firewall", "enable, policies", {
      name: "management",
      cidr: "10.8.0.0/24",
    }),
    cfw("POST", "groups", {}, "create a security group"),
    cfw("GET", "groups/{group}", group, "list a security group's rules"),
    cfw("POST", "groups/{group}", group, "add a rule to a security group"),
    cfw("PUT", "groups/{group}/{pos}", { ...group, pos: 0 }, "change a security group rule"),
    cfw("DELETE", "groups/{group}/{pos}", { ...group, pos: 0 }, "delete a security group rule"),
    cfw("DELETE", "groups/{group}", group, "delete a security group"),
    cfw("GET", "aliases", {}, "list aliases"),
    cfw("POST", "aliases", {}, "create an alias"),
    cfw("GET", "aliases/{name}", alias, "read an alias"),
    cfw("PUT", "aliases/{name}", alias, "change an alias"),
    cfw("DELETE", "aliases/{name}", alias, "delete an alias"),
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
  /** Roles, one per distinct privilege set: each exactly what every ACL entry holding it needs on the paths that entry reaches. */
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
export function aclEntryReaches(
  entry: Pick<AclEntry, "path" | "propagate">,
  target: string,
  poolMembers: ScopeDefinition["poolMembers"] = {},
): boolean {
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
 * override order between a path and its parents), and every entry must be needed. A role is what
 * its entries need: entries holding the same role must need exactly the same privileges (else one
 * would get privileges it does not need), and no two roles may hold the same privileges.
 */
export function deriveScope(def: ScopeDefinition, schema: PveApiSchema): DerivedScope {
  const requirements = allRequirements(def.calls, schema);
  const required = privilegeMapOf(requirements);
  const grantedBy: Record<string, string> = {};
  const needs = new Map<AclEntry, Set<string>>(def.acl.map((e) => [e, new Set<string>()]));
  for (const [aclPath, privileges] of Object.entries(required)) {
    const reaching = def.acl.filter((e) => aclEntryReaches(e, aclPath, def.poolMembers));
    if (reaching.length !== 1)
      throw new ScopeDerivationError(
        def.name,
        `${aclPath} (${privileges.join(", ")}) is reached by ${reaching.length === 0 ? "no ACL entry" : `${reaching.length} ACL entries: ${reaching.map((e) => e.path).join(", ")}`}`,
      );
    const [entry] = reaching as [AclEntry];
    grantedBy[aclPath] = entry.path;
    for (const p of privileges) needs.get(entry)!.add(p);
  }
  const unused = def.acl.filter((e) => needs.get(e)!.size === 0);
  if (unused.length > 0)
    throw new ScopeDerivationError(
      def.name,
      `ACL entries no call needs: ${unused.map((e) => `${e.path} (${e.role})`).join(", ")}`,
    );
  const roles = new Map<string, { privileges: string[]; path: string }>();
  for (const entry of def.acl) {
    const privileges = [...needs.get(entry)!].sort();
    const seen = roles.get(entry.role);
    if (seen === undefined) roles.set(entry.role, { privileges, path: entry.path });
    else if (seen.privileges.join() !== privileges.join()) {
      throw new ScopeDerivationError(
        def.name,
        `role ${entry.role} is granted on ${seen.path}, which needs ${seen.privileges.join(", ")}, and on ${entry.path}, which needs ${privileges.join(", ")}: give each privilege set its own role`,
      );
    }
  }
  const bySet = new Map<string, string>();
  for (const [name, { privileges }] of roles) {
    const twin = bySet.get(privileges.join());
    if (twin !== undefined)
      throw new ScopeDerivationError(
        def.name,
        `roles ${twin} and ${name} hold the same privileges (${privileges.join(", ")}): use one role`,
      );
    bySet.set(privileges.join(), name);
  }
  return {
    name: def.name,
    tokenId: def.tokenId,
    required,
    requirements,
    roles: [...roles]
      .map(([name, { privileges }]) => ({ name, privileges }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    acl: def.acl,
    grantedBy,
  };
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
      ? [
          {
            path: `/storage/${storage}`,
            role: "NodepointCustomerDisks",
            propagate: false,
            why: "root disks and the LXC template on the same storage",
          },
        ]
      : [
          {
            path: `/storage/${storage}`,
            role: "NodepointCustomerDisks",
            propagate: false,
            why: `root disks on the ${storageType === "drbd" ? "DRBD" : "shared"} storage`,
          },
          {
            path: `/storage/${templateStorage}`,
            role: "NodepointCustomerTemplates",
            propagate: false,
            why: "read the LXC template",
          },
        ];
  return {
    name: "customer",
    tokenId: "pulumi-customers@pve!iac",
    calls: customerCalls(facts),
    poolMembers: customerPoolMembers(facts),
    acl: [
      {
        path: `/pool/${pool}`,
        role: "NodepointCustomerGuests",
        propagate: true,
        why: "create customer containers in the pool; manage the pool's members (never an infrastructure VMID)",
      },
      ...storageEntries,
      {
        path: sdnPath({ bridge: facts.lanBridge }),
        role: "NodepointCustomerLan",
        propagate: false,
        why: "attach eth0 to the LAN bridge (untagged)",
      },
    ],
  };
}

/**
 * The role of each kind of infrastructure guest: the calls of one kind need the same privileges on
 * every guest of that kind, and different kinds need different ones (deriveScope refuses a role
 * whose entries need different privileges, and two roles with the same).
 */
const INFRA_GUEST_ROLES = {
  container: { role: "NodepointInfraContainers", label: "container" },
  vm: { role: "NodepointInfraVms", label: "VM" },
  "cloud-init": { role: "NodepointInfraCloudInitTemplates", label: "cloud-init template" },
  iso: { role: "NodepointInfraIsoTemplates", label: "ISO template" },
} as const;

/** One ACL entry per infrastructure guest, ascending by VMID, each with the role of its kind. */
function infraGuestEntries(facts: ClusterFacts): AclEntry[] {
  const guests = [
    ...facts.containers.map((g) => ({ ...g, kind: "container" as const })),
    ...facts.vms.map((g) => ({ ...g, kind: g.template ?? ("vm" as const) })),
  ];
  return guests
    .sort((a, b) => a.vmid - b.vmid)
    .map((g) => ({
      path: `/vms/${g.vmid}`,
      role: INFRA_GUEST_ROLES[g.kind].role,
      propagate: false,
      why: `infrastructure ${INFRA_GUEST_ROLES[g.kind].label} ${g.vmid} ${g.name}`,
    }));
}

/** The infrastructure token. */
export function infraScope(facts: ClusterFacts): ScopeDefinition {
  const guests = [...facts.containers, ...facts.vms];
  const nics = [...new Map(guests.flatMap((g) => g.nics).map((n) => [sdnPath(n), n] as const)).values()].sort(
    (a, b) => a.bridge.localeCompare(b.bridge) || (a.vlan ?? -1) - (b.vlan ?? -1),
  );
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
      // The why names no HA mode: a rule and a group need the same, so the file does not depend on it (clusterFactsHash).
      {
        path: "/",
        role: "NodepointInfraCluster",
        propagate: false,
        why: `${sysModify.join(", ")} (Sys.Modify); HA placement and HA resources (Sys.Console); cluster reads (Sys.Audit)`,
      },
      {
        path: "/nodes",
        role: "NodepointInfraNodes",
        propagate: true,
        why: "download-url and query-url-metadata on every node (Sys.AccessNetwork)",
      },
      ...infraGuestEntries(facts),
      {
        path: "/storage",
        role: "NodepointInfraStorage",
        propagate: true,
        why: "storage definitions (checked on /storage and /storage/<id>), guest disks, downloads, backup targets",
      },
      ...(nics.length > 0
        ? [
            {
              path: "/sdn/zones/localnetwork",
              role: "NodepointInfraNetwork",
              propagate: true,
              why: `NICs on ${listed(nics.map((n) => `${n.bridge}${n.vlan !== undefined ? ` tag ${n.vlan}` : ""}`))}`,
            },
          ]
        : []),
      // No propagate: PVE would otherwise extend the entry to the pool's members (customer containers).
      {
        path: `/pool/${facts.customer.pool}`,
        role: "NodepointInfraPool",
        propagate: false,
        why: `create and maintain the ${facts.customer.pool} pool`,
      },
    ],
  };
}

/** Both scopes, evaluated against the schema. */
export function deriveScopes(
  schema: PveApiSchema,
  facts: ClusterFacts,
): { infra: DerivedScope; customer: DerivedScope } {
  return { infra: deriveScope(infraScope(facts), schema), customer: deriveScope(customerScope(facts), schema) };
}
