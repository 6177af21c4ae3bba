/**
 * The automation tokens' access, as reviewed data: per token, its roles and its grants (ACL
 * entries), each with the calls that need it. Read it top to bottom; change it by hand when the
 * program starts making a new call, and let tests/access.test.ts (PVE's real permission rules,
 * ../shared/reality/proxmox-permissions.md) tell whether every call the plan makes is allowed and
 * nothing more is.
 *
 * Three tokens (lib/providers.ts):
 * - `pulumi-access@pve!iac`, an administrator token made by hand: it alone declares what is here
 *   (users, tokens, roles, ACL entries, pools, pool memberships), since a token that can edit ACLs or
 *   pools can grant itself anything. It has no entry here.
 * - `pulumi-infra@pve!iac` (infrastructure): everything but customer containers.
 * - `pulumi-customers@pve!iac` (customer): customer containers and their firewall, nothing on `/`.
 *
 * How PVE evaluates these (pve-access-control src/PVE/RPCEnvironment.pm compile_acl_path,
 * AccessControl.pm roles): a privilege-separated token gets the intersection of its own entries and
 * its user's, so every entry is granted to both; a deeper entry replaces what the path above gives;
 * `propagate` carries an entry to the paths below; a role on `/pool/<pool>` reaches the pool's members
 * (guests and storages) whatever its `propagate` says. Guests are granted through pools, never
 * through `/vms/<vmid>`: PVE deletes a guest's `/vms/<vmid>` entries with it, so a replaced guest
 * would lose them.
 */
import type { StackConfig } from "../config/schema";

/** A role: a named set of PVE privileges. */
export interface Role {
  readonly id: string;
  readonly privileges: readonly string[];
}

/** One ACL entry of a token (and of its user), and why the token needs it. */
export interface Grant {
  readonly path: string;
  readonly role: Role;
  readonly propagate: boolean;
  /** The calls that need it. */
  readonly why: string;
}

/** A pool the access provider declares, and the existing guests it adds to it. */
export interface PoolGrant {
  readonly id: string;
  readonly comment: string;
  /** Guests that exist already (adopted) and join by a pool membership; new guests join at creation (`pool`). */
  readonly members: readonly { readonly vmid: number; readonly name: string }[];
}

/** One automation token: its user, its roles and grants. */
export interface TokenAccess {
  readonly name: "infrastructure" | "customer";
  /** `user@realm`. */
  readonly userId: string;
  /** The token's name under the user: the token id is `<userId>!<tokenName>`. */
  readonly tokenName: string;
  readonly grants: readonly Grant[];
}

/** Everything the access provider declares. */
export interface AutomationAccessPlan {
  readonly tokens: readonly [TokenAccess, TokenAccess];
  readonly pools: readonly PoolGrant[];
}

/** The pool of infrastructure guests (the infrastructure token's guest grant is on it). */
export const INFRASTRUCTURE_POOL = "infrastructure";

// ---------------------------------------------------------------------------------------------
// Roles. Privilege names as PVE 9 has them (pve-access-control AccessControl.pm $privgroups).
// ---------------------------------------------------------------------------------------------

/**
 * On `/`. Sys.Modify: backup jobs (POST/PUT/DELETE /cluster/backup), node notes (PUT
 * /nodes/{node}/config), the datacenter firewall, IP sets and security groups (PUT/POST
 * /cluster/firewall/...), download-url and query-url-metadata (with Sys.Audit, instead of
 * Sys.AccessNetwork on each node), creating the privileged router container. Nothing narrower exists
 * for these; Sys.Modify on `/` also allows node disk setup and datacenter options. Sys.Console: HA
 * resources, rules and groups (POST/PUT/DELETE /cluster/ha/...; no per-guest check, hence never the
 * customer token's). Sys.Audit: reading all of the above.
 */
const INFRA_CLUSTER: Role = { id: "NodepointInfraCluster", privileges: ["Sys.Audit", "Sys.Console", "Sys.Modify"] };

/**
 * On `/pool/infrastructure`, reaching its members (VMs, templates, service containers, the router).
 * VM.Allocate: create with `pool` (POST /nodes/{node}/qemu|lxc), delete. VM.Config.*: each option of
 * create and update (CPU cores, memory, disks and resize, NICs, cloud-init, CD-ROM, hardware type,
 * everything else as Options). VM.PowerMgmt: start/stop/shutdown. VM.Migrate: a node change of a VM
 * created with `migrate`. VM.Audit: every read (config, status, firewall). VM.GuestAgent.Audit: the
 * provider reads a running VM's addresses through the agent (network-get-interfaces; it only warns on
 * 403). VM.Backup: a backup job selecting this pool (POST/PUT /cluster/backup with `pool` checks
 * VM.Backup on `/pool/<pool>`; pve-manager PVE/API2/Backup.pm); it also lets the token back up these
 * guests by hand. Pool.Audit: reading the pool's members (GET /pools?poolid=), to tell which guests a
 * job selecting the pool backs up, so that no customer job doubles them; read-only.
 */
const INFRA_GUESTS: Role = {
  id: "NodepointInfraGuests",
  privileges: [
    "VM.Allocate",
    "VM.Audit",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.GuestAgent.Audit",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Backup",
    "Pool.Audit",
  ],
};

/**
 * On each storage the infrastructure uses. Datastore.Audit: checking its definition (GET /storage lists
 * only these) and listing its content. The program checks storage definitions and never writes them,
 * so nothing is granted on `/storage` itself: Datastore.Allocate there would reach every definition,
 * global-lvm's too.
 */
const INFRA_STORAGE_READ: Role = { id: "NodepointInfraStorageRead", privileges: ["Datastore.Audit"] };
/** Guest disks on it (Datastore.AllocateSpace: rootfs, scsiN, efidisk, cloud-init drive). */
const INFRA_DISKS: Role = { id: "NodepointInfraDisks", privileges: ["Datastore.AllocateSpace", "Datastore.Audit"] };
/** Downloads into it (POST .../download-url: Datastore.AllocateTemplate) and the ISO/template volumes guests use. */
const INFRA_TEMPLATES: Role = {
  id: "NodepointInfraTemplates",
  privileges: ["Datastore.AllocateTemplate", "Datastore.Audit"],
};
/**
 * A backup job's target (POST/PUT /cluster/backup: Datastore.Allocate on the target storage). It also
 * lets the token delete backups in that storage: nothing narrower exists.
 */
const INFRA_BACKUP_TARGET: Role = {
  id: "NodepointInfraBackupTarget",
  privileges: ["Datastore.Allocate", "Datastore.Audit"],
};

/** NICs on a bridge (check_vnet_access: SDN.Use on /sdn/zones/localnetwork/<bridge>[/<vlan>]). */
const INFRA_NETWORK: Role = { id: "NodepointInfraNetwork", privileges: ["SDN.Use"] };

/**
 * On `/pool/customers`, reaching its members. VM.Allocate: create with `pool` (allocation, and
 * `features: nesting=1`), delete. VM.Config.CPU/Memory/Disk/Network/Options: each option of create
 * and update (cores; memory and swap; rootfs and resize; net0, hostname and nameserver; description,
 * onboot, protection, ostype, unprivileged and the rest). VM.PowerMgmt: start/stop, and the customer
 * operations start, stop (shutdown) and restart (reboot). VM.Audit: reads, the container firewall's
 * reads, listing the containers (/cluster/resources) and their snapshots; VM.Config.Network: the
 * container firewall's options and rules. VM.Snapshot: the restore point `initial` and the customer
 * operations snapshot, delete a snapshot and restore one (rollback accepts VM.Snapshot or
 * VM.Snapshot.Rollback: pve-container src/PVE/API2/LXC/Snapshot.pm), so no VM.Snapshot.Rollback.
 * Tags would be checked on /vms/<vmid> alone at creation, which this does not reach: customer
 * containers carry none (README, "Access").
 */
const CUSTOMER_GUESTS: Role = {
  id: "NodepointCustomerGuests",
  privileges: [
    "VM.Allocate",
    "VM.Audit",
    "VM.Config.CPU",
    "VM.Config.Disk",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.PowerMgmt",
    "VM.Snapshot",
  ],
};
/** Root disks on the customer storage (rootfs: Datastore.AllocateSpace). */
const CUSTOMER_DISKS: Role = { id: "NodepointCustomerDisks", privileges: ["Datastore.AllocateSpace"] };
/** The LXC template (`ostemplate`: check_volume_access accepts Datastore.Audit on its storage). */
const CUSTOMER_TEMPLATES: Role = { id: "NodepointCustomerTemplates", privileges: ["Datastore.Audit"] };
/** eth0 on the LAN bridge (SDN.Use). */
const CUSTOMER_LAN: Role = { id: "NodepointCustomerLan", privileges: ["SDN.Use"] };

// ---------------------------------------------------------------------------------------------
// Grants
// ---------------------------------------------------------------------------------------------

/** The ACL path of a bridge, with the VLAN when the NIC is tagged. */
const bridgePath = (bridge: string, vlan?: number): string =>
  `/sdn/zones/localnetwork/${bridge}${vlan !== undefined ? `/${vlan}` : ""}`;

/** What the infrastructure token does with each storage, from the stack config. */
function infraStorageUses(config: StackConfig): Map<string, Set<"definition" | "disks" | "templates" | "backups">> {
  const uses = new Map<string, Set<"definition" | "disks" | "templates" | "backups">>();
  const use = (id: string, what: "definition" | "disks" | "templates" | "backups") =>
    uses.set(id, (uses.get(id) ?? new Set()).add(what));
  for (const s of config.storage) if (s.type !== "drbd") use(s.id, "definition");
  use(config.lxcTemplate.storage, "templates");
  for (const g of config.guests) {
    if (g.disk) use(g.disk.storage, "disks");
    if (g.kind === "vm-template") use(g.image.storage, "templates");
  }
  for (const job of config.backupJobs) use(job.storage, "backups");
  use(config.customerBackups.storage, "backups");
  return uses;
}

/** The access of the stack's two automation tokens and the pools they are granted through. */
export function automationAccess(config: StackConfig): AutomationAccessPlan {
  const { networks } = config;
  const customerPool = config.customerPools.proxmoxPool;

  const infraNetworks = new Set(config.guests.flatMap((g) => (g.kind === "vm-template" ? ["lan"] : g.networks)));
  const infrastructure: TokenAccess = {
    name: "infrastructure",
    userId: "pulumi-infra@pve",
    tokenName: "iac",
    grants: [
      {
        path: "/",
        role: INFRA_CLUSTER,
        propagate: false,
        why: "backup jobs, node notes, firewall, downloads, the privileged router (Sys.Modify); HA (Sys.Console); reads (Sys.Audit)",
      },
      {
        path: `/pool/${INFRASTRUCTURE_POOL}`,
        role: INFRA_GUESTS,
        propagate: false,
        why: "the infrastructure guests: create with pool, configure, power, migrate, delete, read; backup jobs selecting the pool, and its member list",
      },
      ...[...infraStorageUses(config)].flatMap(([id, uses]): Grant[] => {
        const path = `/storage/${id}`;
        const grants: Grant[] = [];
        if (uses.has("backups"))
          grants.push({
            path,
            role: INFRA_BACKUP_TARGET,
            propagate: false,
            why: "backup jobs writing to it (customer containers' too); checking its definition",
          });
        if (uses.has("templates"))
          grants.push({
            path,
            role: INFRA_TEMPLATES,
            propagate: false,
            why: "downloads into it, ISO and template volumes; checking its definition",
          });
        if (uses.has("disks"))
          grants.push({
            path,
            role: INFRA_DISKS,
            propagate: false,
            why: "infrastructure guests' disks on it; checking its definition",
          });
        // Every other role above holds Datastore.Audit: a plain read entry only when there is none.
        return grants.length > 0
          ? grants
          : [{ path, role: INFRA_STORAGE_READ, propagate: false, why: "checking its definition" }];
      }),
      ...(["lan", "dmz"] as const)
        .filter((n) => infraNetworks.has(n))
        .map((n): Grant => ({
          path: bridgePath(networks[n].bridge),
          role: INFRA_NETWORK,
          propagate: false,
          why: `NICs on the ${n} bridge`,
        })),
      ...(infraNetworks.has("wan")
        ? [
            {
              path: bridgePath(networks.wan.bridge, networks.wan.vlanId),
              role: INFRA_NETWORK,
              propagate: false,
              why: "the router's WAN NIC (tagged VLAN)",
            },
          ]
        : []),
    ],
  };

  const customer: TokenAccess = {
    name: "customer",
    userId: "pulumi-customers@pve",
    tokenName: "iac",
    grants: [
      {
        path: `/pool/${customerPool}`,
        role: CUSTOMER_GUESTS,
        propagate: false,
        why: "customer containers: create with pool, configure, power, firewall, delete, read; restore points and customer operations (start, stop, restart, snapshot, restore, delete a snapshot)",
      },
      { path: `/storage/${config.customerPools.storage}`, role: CUSTOMER_DISKS, propagate: false, why: "root disks" },
      {
        path: `/storage/${config.lxcTemplate.storage}`,
        role: CUSTOMER_TEMPLATES,
        propagate: false,
        why: "the LXC template (ostemplate)",
      },
      {
        path: bridgePath(networks.lan.bridge),
        role: CUSTOMER_LAN,
        propagate: false,
        why: "eth0 on the LAN bridge (untagged)",
      },
    ],
  };

  return {
    tokens: [infrastructure, customer],
    pools: [
      { id: customerPool, comment: "Customer WordPress containers (managed by Pulumi)", members: [] },
      {
        id: INFRASTRUCTURE_POOL,
        comment: "Infrastructure guests (managed by Pulumi)",
        members: config.guests.filter((g) => g.adopt).map((g) => ({ vmid: g.vmid, name: g.name })),
      },
    ],
  };
}
