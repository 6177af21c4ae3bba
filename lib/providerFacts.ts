/**
 * What the providers this program uses really do, in one place, each fact with where it was read:
 * the type tokens, the inputs whose change makes the provider replace the resource, the inputs that
 * only matter at creation, what `import` reads back (so what an adopted object must leave alone),
 * and the defaults a provider fills in for an unset input.
 *
 * Read by the components (adoption ignores, create-only inputs), `plan --diff` (a warning for every
 * replacing change of every type), customer validation (the customer-file fields that replace a
 * container), the policy pack (type tokens, provider defaults) and the plan output (why a resource is
 * imported or created). Pure data and small functions, no imports: the policy pack and the input layer
 * load it as it is.
 *
 * Sources. `bpg` is bpg/terraform-provider-proxmox at v0.111.1 (the closest readable source of what
 * @muhlba91/pulumi-proxmoxve 8.6.0 bridges, see ../shared/reality/proxmox-provider.md); `reality` is
 * that file; PVE repositories are proxmox/<repo> at their main branch (PVE 9.1).
 */

/** A fact about one input path of a resource type, and where it was read. */
export interface InputFact {
  /** Input path: `disk.datastoreId`, `disks[*].fileId` (any element), `vmId`. */
  readonly path: string;
  /** Repository, file and line, or issue, that shows it. */
  readonly source: string;
  /** What it means, when the path alone does not say. */
  readonly note?: string;
}

/** A replacing input; some replace only under a condition. */
export interface ReplaceFact extends InputFact {
  /** No replacement while this other input has this value (a VM's `nodeName` with `migrate: true`). */
  readonly unless?: { readonly input: string; readonly is: unknown };
  /** Replaces only when the number decreases (a disk shrink). */
  readonly onlyWhen?: "shrinks";
}

/** How an object that already exists is adopted. */
export interface AdoptionFacts {
  /**
   * `import`: the provider's importer reads it; `adopt-on-create`: a dynamic resource whose create,
   * given `adopt`, checks the existing object and takes it over; `verify`: a dynamic resource that
   * only ever checks the existing object.
   */
  readonly how: "import" | "adopt-on-create" | "verify";
  /** The import ID's form. */
  readonly importId?: string;
  /** Inputs the importer never reads back as declared: always ignored on an adopted object. */
  readonly ignore: readonly InputFact[];
  /**
   * Inputs whose provider default differs from what the live object may have: ignored on an adopted
   * object unless the program declares a value (then it is meant to be written).
   */
  readonly ignoreUnlessDeclared: readonly InputFact[];
}

/** Everything known about one resource type. */
export interface TypeFacts {
  readonly token: string;
  /** What a replacement does to the real object (shown by `plan --diff`). */
  readonly replaceMeans: string;
  readonly replaceOnChange: readonly ReplaceFact[];
  /** Hazards of changes that do not replace. */
  readonly hazards?: readonly InputFact[];
  /** Inputs that only matter at creation: the components put them in `ignoreChanges`. */
  readonly createOnly?: readonly InputFact[];
  readonly adoption?: AdoptionFacts;
  /** What `create` does to an object that already exists (when it is not a plain creation). */
  readonly createMeans?: string;
  /** Values the provider uses for an unset input. */
  readonly defaults?: Readonly<Record<string, { readonly value: unknown; readonly source: string }>>;
  /**
   * The real object keeps its name (a fixed VMID, an IP set's name, a storage ID) across a
   * replacement, so the old one must go before the new one is created: the components declare the
   * type with `deleteBeforeReplace` (Pulumi's default, create-before-delete, would fail on the
   * existing object or adopt it, and the old resource's delete would then destroy the new one).
   */
  readonly deleteFirst?: { readonly why: string; readonly source: string };
  /**
   * Inputs whose change the provider applies in place although it should replace: the components
   * declare them in `replaceOnChanges`, so that the change is a replacement (shown by `plan --diff`).
   */
  readonly replaceOnChanges?: readonly InputFact[];
  /** What makes the real system refuse to delete the object (checked by `plan --diff` before a replacement). */
  readonly deleteRefusedWhile?: readonly InputFact[];
}

const BPG_CT = "bpg v0.111.1 proxmoxtf/resource/container/container.go";
const BPG_VM = "bpg v0.111.1 proxmoxtf/resource/vm/vm.go";
const REALITY = "../shared/reality/proxmox-provider.md";

/** Type tokens of every resource type the program declares. */
export const TYPES = {
  container: "proxmoxve:index/containerLegacy:ContainerLegacy",
  vm: "proxmoxve:index/vmLegacy:VmLegacy",
  haResource: "proxmoxve:index/haresource:Haresource",
  haRule: "proxmoxve:index/harule:Harule",
  haGroup: "proxmoxve:index/hagroup:Hagroup",
  downloadFile: "proxmoxve:download/file:File",
  ipSet: "proxmoxve:firewall/ipsetLegacy:IpsetLegacy",
  securityGroup: "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy",
  clusterFirewall: "proxmoxve:cluster/firewallLegacy:FirewallLegacy",
  guestFirewallOptions: "proxmoxve:firewall/optionsLegacy:OptionsLegacy",
  guestFirewallRules: "proxmoxve:firewall/rulesLegacy:RulesLegacy",
  nodeConfig: "proxmoxve:node/config:Config",
  user: "proxmoxve:index/userLegacy:UserLegacy",
  token: "proxmoxve:user/token:Token",
  role: "proxmoxve:index/roleLegacy:RoleLegacy",
  acl: "proxmoxve:index/acl:Acl",
  pool: "proxmoxve:index/poolLegacy:PoolLegacy",
  poolMembership: "proxmoxve:pool/membership:Membership",
  storage: "pulumi-nodejs:dynamic/nodepoint:PveStorage",
  backupJob: "pulumi-nodejs:dynamic/nodepoint:PveBackupJob",
  snapshot: "pulumi-nodejs:dynamic/nodepoint:PveSnapshot",
  npmProxyHost: "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost",
  dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
  randomPassword: "random:index/randomPassword:RandomPassword",
  remoteCommand: "command:remote:Command",
  remoteCopy: "command:remote:CopyToRemote",
} as const;

export type TypeName = keyof typeof TYPES;

/** Container timeouts the importer leaves unset while the provider's defaults fill them in (reality: bpg #3110). */
const CONTAINER_TIMEOUTS: readonly InputFact[] = [
  "timeoutCreate",
  "timeoutClone",
  "timeoutUpdate",
  "timeoutDelete",
].map((path) => ({
  path,
  source: `${REALITY} "What import reads back"; bpg #3110 (fixed by #3111, after 8.6.0's upstream); ${BPG_CT}:1097-1120`,
  note: "an imported container keeps delete timeout 0 (unset)",
}));

/**
 * Why the provider's storage (`storage/*`) and backup-job (`backup/job`) types are not used: the
 * bridge overrides their ID with `state["id"].V.(int)`, a nil value, so the plugin panics on create,
 * import and read. Every version of provider/resources.go in the public index still has it.
 */
export const ID_OVERRIDE_BUG = {
  types: ["proxmoxve:storage/*", "proxmoxve:backup/job:Job"],
  source: `muhlba91/pulumi-proxmoxve provider/resources.go resourceComputeIDOverride; issue muhlba91/pulumi-proxmoxve#967 (fix PR #1022 closed unmerged); ${REALITY}`,
} as const;

/** The facts of every type, keyed by the names of `TYPES`. */
export const FACTS: Readonly<Record<TypeName, TypeFacts>> = {
  container: {
    token: TYPES.container,
    replaceMeans: "the container and every byte on its disks are destroyed and created anew",
    deleteFirst: {
      why: "the new container has the same VMID: created first, PVE refuses it (CT exists)",
      source: `${REALITY} ("Fields that force replacement"); pve-container src/PVE/API2/LXC.pm:281 (check_vmid_unused)`,
    },
    deleteRefusedWhile: [
      {
        path: "protection",
        source: "pve-container src/PVE/API2/LXC.pm:859 (check_protection: can't remove CT)",
        note: "PVE's protection flag is on",
      },
      {
        path: "(HA resource ct:<vmid>)",
        source: `pve-container src/PVE/API2/LXC.pm:862-866 (unless purge; the provider sends none: ${REALITY})`,
        note: "the container is an HA resource",
      },
    ],
    replaceOnChange: [
      { path: "vmId", source: `${BPG_CT}:1172 (ForceNewIf vm_id differs from the resource id)` },
      { path: "nodeName", source: `${BPG_CT}:991 (ForceNew; containers cannot migrate through the provider)` },
      { path: "unprivileged", source: `${BPG_CT}:1156` },
      { path: "template", source: `${BPG_CT}:1094` },
      { path: "poolId", source: `${BPG_CT}:1023 (and never read back: ${REALITY})` },
      { path: "operatingSystem", source: `${BPG_CT}:997, 1004` },
      { path: "disk.datastoreId", source: `${BPG_CT}:412` },
      { path: "disk.size", onlyWhen: "shrinks", source: `${BPG_CT}:1183 (ForceNewIf a disk shrinks)` },
      { path: "mountPoints", source: `${BPG_CT}:750, 810, 817 (any change)` },
      { path: "initialization.userAccount", source: `${BPG_CT}:646-666` },
      { path: "clone", source: `${BPG_CT}:239-268` },
    ],
    createOnly: [
      {
        path: "operatingSystem",
        source: `${BPG_CT}:997`,
        note: "the template a container was made from; a newer template build must not replace it",
      },
      {
        path: "initialization.userAccount",
        source: `${BPG_CT}:646`,
        note: "a rotated root password must not replace it",
      },
      {
        path: "features",
        source:
          "../shared/reality/proxmox-permissions.md (later change of features); pve-container src/PVE/LXC.pm check_ct_modify_config_perm",
        note: "the provider sends fuse=0,keyctl=0,nesting=1,mknod=0 on a change; PVE counts the zero keys as changes: root-only",
      },
    ],
    adoption: {
      how: "import",
      importId: "<node>/<vmid>",
      ignore: [
        { path: "vmId", source: `${BPG_CT}:1230-1245 (the importer sets only node_name; ${REALITY})` },
        ...CONTAINER_TIMEOUTS,
        { path: "operatingSystem", source: `${BPG_CT}:997`, note: "the template is not read back" },
        { path: "initialization", source: `${BPG_CT}:642`, note: "user account and in-guest settings made by hand" },
        { path: "disk", source: `${BPG_CT}:412, 1183`, note: "real size unknown to the seed; a smaller one replaces" },
        { path: "mountPoints", source: `${BPG_CT}:750` },
        { path: "poolId", source: `${BPG_CT}:1023`, note: "never read back; membership goes through pool.Membership" },
        { path: "clone", source: `${BPG_CT}:239` },
        {
          path: "features",
          source: "pve-container src/PVE/LXC.pm check_ct_modify_config_perm",
          note: "root-only on a privileged container",
        },
        { path: "console", source: `${BPG_CT} (console block, defaults)` },
        { path: "networkInterfaces[*].macAddress", source: `${BPG_CT} (generated MACs)` },
      ],
      ignoreUnlessDeclared: [
        {
          path: "description",
          source: `${BPG_CT}:369 (default ""; ${REALITY})`,
          note: 'unset means "clear the notes"',
        },
        { path: "memory.swap", source: `${BPG_CT}:736 (default 0; PVE's usual is 512; ${REALITY})` },
        {
          path: "unprivileged",
          source: `${BPG_CT}:1156 (default false, ForceNew)`,
          note: "privileged or not: not guessed",
        },
        { path: "tags", source: `${BPG_CT}:1079`, note: "unset means no tags" },
        { path: "startup", source: `${BPG_CT} (startup block)`, note: "boot order not in the seed" },
        { path: "startOnBoot", source: `${BPG_CT}:98 (default true)`, note: "not in the seed" },
        { path: "protection", source: `${BPG_CT}:1032 (default false)`, note: "PVE's deletion guard: not in the seed" },
      ],
    },
    defaults: {
      "cpu.cores": { value: 1, source: `${BPG_CT}:59` },
      "memory.dedicated": { value: 512, source: `${BPG_CT}:74` },
      "memory.swap": { value: 0, source: `${BPG_CT}:75` },
      "disk.size": { value: 4, source: `${BPG_CT}:68` },
      "disk.datastoreId": { value: "local", source: `${BPG_CT}:65` },
      unprivileged: { value: false, source: `${BPG_CT}:104` },
      description: { value: "", source: `${BPG_CT}:62` },
      timeoutDelete: { value: 60, source: `${BPG_CT}:103` },
    },
  },
  vm: {
    token: TYPES.vm,
    replaceMeans: "the VM and every byte on its disks are destroyed and created anew",
    deleteFirst: {
      why: "the new VM has the same VMID: created first, PVE refuses it (VM exists)",
      source: `${REALITY} ("Fields that force replacement"); qemu-server src/PVE/API2/Qemu.pm (create_vm: check_vmid_unused)`,
    },
    replaceOnChange: [
      { path: "vmId", source: `${BPG_VM}:1767 (ForceNewIf vm_id differs from the resource id)` },
      { path: "nodeName", unless: { input: "migrate", is: true }, source: `${BPG_VM}:1781 (ForceNewIf !migrate)` },
      { path: "clone", source: `${BPG_VM}:601-633` },
      { path: "disks[*].fileId", source: "bpg v0.111.1 proxmoxtf/resource/vm/disk/schema.go:140" },
      { path: "initialization.type", source: `${BPG_VM}:1031` },
      { path: "initialization.userDataFileId", source: `${BPG_VM}:999` },
      { path: "initialization.vendorDataFileId", source: `${BPG_VM}:1007` },
      { path: "initialization.networkDataFileId", source: `${BPG_VM}:1015` },
      { path: "initialization.metaDataFileId", source: `${BPG_VM}:1023` },
      { path: "amdSev", source: `${BPG_VM}:458` },
      { path: "efiDisk.type", source: `${BPG_VM}:1792 (forceNewOnEFIDiskTypeChange)` },
      { path: "tpmState.version", source: `${BPG_VM}:1791 (forceNewOnTPMVersionChange)` },
    ],
    adoption: {
      how: "import",
      importId: "<node>/<vmid>",
      ignore: [
        "clone",
        "cdrom",
        "disks",
        "efiDisk",
        "tpmState",
        "initialization",
        "operatingSystem",
        "bios",
        "machine",
        "scsiHardware",
        "bootOrders",
        "agent",
        "vga",
        "serialDevices",
        "amdSev",
        "cpu.type",
        "cpu.architecture",
        "networkDevices[*].macAddress",
        "networkDevices[*].model",
      ].map((path) => ({
        path,
        source: `${BPG_VM} (set by hand on the live VM, not stated by the seed)`,
      })),
      ignoreUnlessDeclared: [
        {
          path: "description",
          source: `${BPG_VM}:743 (default ""; ${REALITY})`,
          note: 'unset means "clear the notes"',
        },
        { path: "tags", source: `${BPG_VM}:1515`, note: "unset means no tags" },
        { path: "startup", source: `${BPG_VM} (startup block)`, note: "boot order not in the seed" },
        { path: "onBoot", source: `${BPG_VM}:363 (default true)`, note: "not in the seed" },
        { path: "protection", source: `${BPG_VM}:1351 (default false)`, note: "PVE's deletion guard: not in the seed" },
      ],
    },
    hazards: [
      {
        path: "migrate",
        source: `${BPG_VM}:5631 (the importer reads the default, false; ${REALITY})`,
        note: "declaring migrate: true on an adopted VM makes the import differ; adopted VMs leave it unset, so a node change of an adopted VM replaces it",
      },
    ],
  },
  haResource: {
    token: TYPES.haResource,
    replaceMeans: "the HA entry is removed and added again",
    replaceOnChange: [],
    hazards: [
      {
        path: "resourceId",
        source: `bpg v0.111.1 fwprovider/cluster/ha/resource_haresource.go:75 (no RequiresReplace; ${REALITY})`,
        note: "a changed resourceId silently rewrites the old HA entry: Update targets the old sid",
      },
    ],
    replaceOnChanges: [
      {
        path: "resourceId",
        source: `bpg v0.111.1 fwprovider/cluster/ha/resource_haresource.go:75 (no RequiresReplace; ${REALITY})`,
        note: "another guest is another HA entry: the old one is removed, the new one added",
      },
    ],
    deleteFirst: {
      why: "the HA entry of a guest must be gone before the guest is deleted (PVE refuses otherwise), and a second entry with the same sid is refused",
      source:
        "pve-container src/PVE/API2/LXC.pm:862-866; pve-ha-manager src/PVE/API2/HA/Resources.pm (create: resource already exists)",
    },
  },
  haRule: {
    token: TYPES.haRule,
    replaceMeans: "the HA rule is deleted and created again (HA resources are unconstrained in between)",
    deleteFirst: {
      why: "the rule keeps its ID when its type changes: created first, PVE refuses the duplicate ID",
      source: "pve-ha-manager src/PVE/API2/HA/Rules.pm (create_rule: rule ID must be unused)",
    },
    replaceOnChange: [
      { path: "rule", source: "bpg v0.111.1 fwprovider/cluster/ha/resource_harule.go:81" },
      { path: "type", source: "bpg v0.111.1 fwprovider/cluster/ha/resource_harule.go:95" },
    ],
  },
  haGroup: {
    token: TYPES.haGroup,
    replaceMeans: "the HA group is deleted and created again",
    replaceOnChange: [],
    hazards: [
      {
        path: "group",
        source: "bpg v0.111.1 fwprovider/cluster/ha/resource_hagroup.go:71 (no RequiresReplace)",
        note: "renaming is an update of the group named in the state; HA resources name the group themselves",
      },
    ],
  },
  downloadFile: {
    token: TYPES.downloadFile,
    replaceMeans: "the file is deleted from the storage and downloaded again",
    deleteFirst: {
      why: "the file keeps its name: downloaded first, the create fails on the existing file (overwriteUnmanaged off) and the old resource's delete would remove the file",
      source: `bpg fwprovider/nodes/resource_download_file.go:434 (${REALITY})`,
    },
    replaceOnChange: [
      "contentType",
      "fileName",
      "datastoreId",
      "nodeName",
      "url",
      "checksum",
      "checksumAlgorithm",
      "decompressionAlgorithm",
    ].map((path) => ({ path, source: "bpg fwprovider/nodes/resource_download_file.go:203-330 (RequiresReplace)" })),
    hazards: [
      {
        path: "overwriteUnmanaged",
        source: `bpg fwprovider/nodes/resource_download_file.go:434 (${REALITY})`,
        note: "true deletes a file already on the storage and downloads it again: never set",
      },
      {
        path: "overwrite",
        source: "bpg fwprovider/nodes/resource_download_file.go:50-150 (size changes replace when overwrite)",
        note: "true (the default) replaces the file when the URL's size changes upstream",
      },
    ],
    adoption: {
      how: "import",
      importId: "<node>/<storage>:<content>/<file>",
      ignore: [
        "url",
        "overwrite",
        "overwriteUnmanaged",
        "uploadTimeout",
        "verify",
        "checksum",
        "checksumAlgorithm",
      ].map((path) => ({
        path,
        source:
          "bpg fwprovider/nodes/resource_download_file.go:693-740 (ImportState sets only node, datastore, content type, file name)",
      })),
      ignoreUnlessDeclared: [],
    },
  },
  ipSet: {
    token: TYPES.ipSet,
    replaceMeans: "the IP set is emptied and removed, then created again with the new entries",
    deleteFirst: {
      why: "created first, the new IP set adopts the live one by name, and the old resource's delete then empties and removes it",
      source: `${REALITY}; bpg v0.111.1 proxmoxtf/resource/firewall/ipset.go:312-346 (delete empties the set, then removes it); pve-firewall src/PVE/API2/Firewall/IPSet.pm:165 (no reference check)`,
    },
    replaceOnChange: [
      { path: "cidrs", source: `bpg v0.111.1 proxmoxtf/resource/firewall/ipset.go:55-80 (${REALITY})` },
    ],
  },
  securityGroup: { token: TYPES.securityGroup, replaceMeans: "the group is recreated", replaceOnChange: [] },
  clusterFirewall: {
    token: TYPES.clusterFirewall,
    replaceMeans: "the options are written again",
    replaceOnChange: [],
    createMeans:
      "writes every datacenter firewall option (a cluster singleton that always exists); its delete leaves them in PVE",
    hazards: [
      {
        path: "ebtables",
        source: `bpg v0.111.1 proxmoxtf/resource/cluster/firewall/firewall.go:163 (always sent, false when unset; ${REALITY})`,
        note: "PVE's default is on and guests' MAC filtering relies on it: always declared",
      },
    ],
    defaults: {
      inputPolicy: { value: "DROP", source: "bpg v0.111.1 proxmoxtf/resource/cluster/firewall/firewall.go:25" },
      outputPolicy: { value: "ACCEPT", source: "bpg v0.111.1 proxmoxtf/resource/cluster/firewall/firewall.go:26" },
      forwardPolicy: { value: "ACCEPT", source: "bpg v0.111.1 proxmoxtf/resource/cluster/firewall/firewall.go:27" },
      logRatelimit: {
        value: { enabled: true, burst: 5, rate: "1/second" },
        source: "bpg v0.111.1 proxmoxtf/resource/cluster/firewall/firewall.go:22-24",
      },
      ebtables: { value: false, source: "bpg v0.111.1 proxmoxtf/resource/cluster/firewall/firewall.go:163" },
    },
  },
  guestFirewallOptions: {
    token: TYPES.guestFirewallOptions,
    replaceMeans: "the options are written again",
    replaceOnChange: [],
  },
  guestFirewallRules: {
    token: TYPES.guestFirewallRules,
    replaceMeans: "the rules are written again",
    replaceOnChange: [],
    deleteFirst: {
      why: "a guest has one rule list: created first, the new rules are then deleted by position by the old resource's delete",
      source: "bpg v0.111.1 proxmoxtf/resource/firewall/rules.go:574-606 (RulesDelete deletes the recorded positions)",
    },
  },
  nodeConfig: {
    token: TYPES.nodeConfig,
    replaceMeans: "the node's notes are deleted and written again",
    replaceOnChange: [{ path: "nodeName", source: REALITY }],
    createMeans:
      "writes the configured notes over the node's current ones (the importer would read the live notes and differ)",
  },
  user: {
    token: TYPES.user,
    replaceMeans: "the user is deleted (with its tokens and ACL entries) and created again",
    replaceOnChange: [{ path: "userId", source: "bpg v0.111.1 proxmoxtf/resource/user.go:144" }],
  },
  token: {
    token: TYPES.token,
    replaceMeans: "the token is deleted (PVE drops its ACL entries) and created with a new secret",
    replaceOnChange: [
      { path: "userId", source: "bpg v0.111.1 fwprovider/access/resource_user_token.go:104" },
      { path: "tokenName", source: "bpg v0.111.1 fwprovider/access/resource_user_token.go:97" },
    ],
  },
  role: {
    token: TYPES.role,
    replaceMeans: "the role is deleted and created again (its ACL entries lose it in between)",
    replaceOnChange: [{ path: "roleId", source: "bpg v0.111.1 proxmoxtf/resource/role.go:42" }],
  },
  acl: {
    token: TYPES.acl,
    replaceMeans: "the ACL entry is removed and added again",
    replaceOnChange: ["path", "roleId", "userId", "tokenId", "groupId"].map((path) => ({
      path,
      source: "bpg v0.111.1 fwprovider/access/resource_acl.go:53-92",
    })),
  },
  pool: {
    token: TYPES.pool,
    replaceMeans: "the pool is deleted (PVE refuses while it has members) and created again",
    replaceOnChange: [{ path: "poolId", source: "bpg v0.111.1 proxmoxtf/resource/pool/pool.go:83" }],
  },
  poolMembership: {
    token: TYPES.poolMembership,
    replaceMeans: "the guest leaves the pool and joins again (the pool's grants do not reach it in between)",
    replaceOnChange: ["poolId", "vmId", "storageId"].map((path) => ({
      path,
      source: "bpg fwprovider/pools/pool_membership.go:89-107",
    })),
    createMeans: "adds the guest to the pool, moving it out of another pool (the provider sends allow-move)",
  },
  storage: {
    token: TYPES.storage,
    replaceMeans: "nothing changes in PVE: the program stops checking the old definition and checks the other one",
    replaceOnChange: [{ path: "storage", source: "lib/pve/storageProvider.ts diff() (another id is another storage)" }],
    adoption: { how: "verify", ignore: [], ignoreUnlessDeclared: [] },
    createMeans:
      "checks the existing definition matches the stack config and writes nothing (the program never writes storage definitions)",
  },
  backupJob: {
    token: TYPES.backupJob,
    replaceMeans: "the backup job is deleted, then created with the new id",
    replaceOnChange: [{ path: "jobId", source: "lib/pve/backupJobProvider.ts diff() (delete first: never two jobs)" }],
    adoption: { how: "adopt-on-create", ignore: [], ignoreUnlessDeclared: [] },
    createMeans: "creates the job, refused when another job already backs up the same guests (backups would run twice)",
  },
  snapshot: {
    token: TYPES.snapshot,
    replaceMeans:
      "a snapshot is taken under the new name or of the new container; the old one stays (only a person deletes a restore point)",
    replaceOnChange: ["vmid", "snapname", "slug"].map((path) => ({
      path,
      source: "lib/pve/snapshotProvider.ts diff() (another container or name is another snapshot)",
    })),
    createMeans:
      "takes the restore point once the site is installed; one of that name already on the container is kept (nothing written)",
  },
  npmProxyHost: {
    token: TYPES.npmProxyHost,
    replaceMeans: "the proxy host is removed from NPM and created again (the site is unreachable in between)",
    replaceOnChange: [
      { path: "apiUrl", source: "lib/npm/proxyHostProvider.ts diff()" },
      { path: "domain", source: "lib/npm/proxyHostProvider.ts diff()" },
    ],
  },
  dnsRecord: {
    token: TYPES.dnsRecord,
    replaceMeans: "the DNS record is deleted and created again",
    replaceOnChange: [
      {
        path: "zoneId",
        source:
          "cloudflare/terraform-provider-cloudflare internal/services/dns_record/schema.go (zone_id RequiresReplace)",
      },
    ],
  },
  randomPassword: {
    token: TYPES.randomPassword,
    replaceMeans: "a new password is generated",
    replaceOnChange: [
      "length",
      "special",
      "overrideSpecial",
      "upper",
      "lower",
      "numeric",
      "minLower",
      "minUpper",
      "minNumeric",
      "minSpecial",
      "keepers",
    ].map((path) => ({
      path,
      source:
        "hashicorp/terraform-provider-random internal/provider/resource_password.go (every argument RequiresReplace)",
    })),
  },
  remoteCommand: {
    token: TYPES.remoteCommand,
    replaceMeans: "the command runs again (create)",
    replaceOnChange: [
      { path: "triggers", source: "@pulumi/command remote.Command docs: triggers replace the resource" },
    ],
  },
  remoteCopy: {
    token: TYPES.remoteCopy,
    replaceMeans: "the file is copied again",
    replaceOnChange: [
      {
        path: "triggers",
        source: "pulumi/pulumi-command provider/pkg/provider/remote/copy.go (Triggers provider:replaceOnChanges)",
      },
    ],
  },
};

/** What the Pulumi engine does, whatever the provider. */
export const ENGINE_FACTS = {
  importIdChange: {
    means: "Pulumi imports the object with the new ID and deletes the one in the state (an import replacement)",
    source: "pulumi/pulumi#2893 (import resource option, case 3: a state resource whose ID differs from the import ID)",
  },
  dynamicImport: {
    means: "a dynamic provider's resource cannot be imported: the engine reads it without the `__provider` input",
    source: "pulumi/pulumi#16175 (open); pkg/resource/deploy/step.go ImportStep.Apply reads with no inputs",
  },
  importDiffers: {
    means:
      "an import whose declared inputs differ from what the provider reads back is refused (`pulumi up` fails; preview warns)",
    source:
      'pulumi/pulumi pkg/resource/deploy/step.go ImportStep.Apply ("inputs to import do not match the existing resource")',
  },
} as const;

/** The facts of a type token, if the program uses that type. */
export function factsOf(token: string): TypeFacts | undefined {
  return Object.values(FACTS).find((f) => f.token === token);
}

/** `disks[3].fileId` matches `disks[*].fileId`; `operatingSystem.templateFileId` matches `operatingSystem`. */
export function pathMatches(path: string, pattern: string): boolean {
  const norm = path.replace(/\[\d+\]/g, "[*]");
  const pat = pattern.replace(/\[\d+\]/g, "[*]");
  return norm === pat || norm.startsWith(`${pat}.`) || norm.startsWith(`${pat}[`);
}

/** The value at a dotted input path (`memory.swap`), or undefined. */
export function inputAt(inputs: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), inputs);
}

/**
 * `ignoreChanges` for an object the program adopts: what the importer never reads back as declared,
 * plus every provider-defaulted input the program leaves undeclared (so the live value stays).
 */
export function adoptionIgnores(type: TypeName, declared: Readonly<Record<string, unknown>>): string[] {
  const adoption = FACTS[type].adoption;
  if (!adoption) return [];
  return [
    ...adoption.ignore.map((f) => f.path),
    ...adoption.ignoreUnlessDeclared.filter((f) => inputAt(declared, f.path) === undefined).map((f) => f.path),
  ];
}

/**
 * Resource options every resource of a type needs so that a replacement really runs (the type's
 * `deleteFirst` and `replaceOnChanges` facts): spread into the options where the type is declared.
 */
export function replacementOptions(type: TypeName): { deleteBeforeReplace?: true; replaceOnChanges?: string[] } {
  const f = FACTS[type];
  return {
    ...(f.deleteFirst ? { deleteBeforeReplace: true as const } : {}),
    ...(f.replaceOnChanges ? { replaceOnChanges: f.replaceOnChanges.map((x) => x.path) } : {}),
  };
}

/** `ignoreChanges` entries for a type's create-only inputs. */
export function createOnlyInputs(type: TypeName): string[] {
  return (FACTS[type].createOnly ?? []).map((f) => f.path);
}

/**
 * Fields of a customer file and the container input each one sets. The fields whose input replaces
 * the container are `CUSTOMER_REPLACING_FIELDS` (tests/providerFacts.test.ts keeps the two in step).
 */
export const CUSTOMER_FIELD_INPUTS = {
  vmid: "vmId",
  node: "nodeName",
  storage: "disk.datastoreId",
  diskGiB: "disk.size",
  cores: "cpu.cores",
  memoryMiB: "memory.dedicated",
} as const;

/**
 * Customer-file fields whose change can make the provider replace the container (data loss): always
 * for `vmid`, `node` and `storage`; for `diskGiB` when the disk shrinks.
 */
export const CUSTOMER_REPLACING_FIELDS = ["vmid", "node", "storage", "diskGiB"] as const;

/** Whether changing a customer field from `before` to `after` replaces the container (the container's replace facts). */
export function customerChangeReplaces(
  field: (typeof CUSTOMER_REPLACING_FIELDS)[number],
  before: string | number,
  after: string | number,
): boolean {
  const rule = FACTS.container.replaceOnChange.find((r) => r.path === CUSTOMER_FIELD_INPUTS[field]);
  if (!rule || before === after) return false;
  if (rule.onlyWhen === "shrinks") return typeof before === "number" && typeof after === "number" && after < before;
  return true;
}
