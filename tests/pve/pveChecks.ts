/**
 * The privilege checks PVE's own code makes for the calls the provider sends for a declared
 * resource (../shared/reality/proxmox-permissions.md and the handlers it names: pve-container
 * src/PVE/API2/LXC.pm create_vm and src/PVE/LXC.pm check_ct_modify_config_perm, qemu-server's
 * equivalent, pve-guest-common GuestHelpers.pm assert_tag_permissions and check_vnet_access,
 * pve-storage Storage.pm check_volume_access, pve-manager API2/Backup.pm, and the schema's
 * `permissions` where that is the whole check). Not the API schema's first check: the handlers'.
 */
import type { RecordedResource } from "../../lib/plan/offlineRuntime";
import { inputAt, TYPES } from "../../lib/providerFacts";
import { check, checkVmPerm, type AccessState } from "./permissionModel";

/** One check, and which call makes it. */
export type Check =
  | { kind: "perm"; call: string; path: string; privs: string[]; any?: boolean }
  | { kind: "vm"; call: string; vmid: number; pool?: string; privs: string[] }
  | { kind: "or"; call: string; checks: Check[] }
  | { kind: "root-only"; call: string };

export type Phase = "create" | "update" | "read" | "delete";

export function passes(state: AccessState, ugid: string, c: Check): boolean {
  switch (c.kind) {
    case "perm":
      return check(state, ugid, c.path, c.privs, c.any ?? false);
    case "vm":
      return checkVmPerm(state, ugid, c.vmid, c.pool, c.privs);
    case "or":
      return c.checks.some((x) => passes(state, ugid, x));
    case "root-only":
      return ugid === "root@pam";
  }
}

export function describe(c: Check): string {
  switch (c.kind) {
    case "perm":
      return `${c.call}: ${c.privs.join(c.any ? "|" : "+")} on ${c.path}`;
    case "vm":
      return `${c.call}: ${c.privs.join("+")} on ${c.pool ? `/pool/${c.pool} or ` : ""}/vms/${c.vmid}`;
    case "or":
      return `${c.call}: one of (${c.checks.map(describe).join("; ")})`;
    case "root-only":
      return `${c.call}: root@pam only`;
  }
}

type Inputs = Record<string, unknown>;
const storageOf = (volume: unknown): string | undefined =>
  typeof volume === "string" && volume.includes(":") ? volume.slice(0, volume.indexOf(":")) : undefined;
const ignoredBy = (r: RecordedResource, key: string): boolean =>
  r.options.ignoreChanges.some((i) => i === key || i.startsWith(`${key}.`) || i.startsWith(`${key}[`));

/** `check_vnet_access`: the VLAN path for a tagged NIC, the bridge path otherwise. */
function vnet(call: string, nic: Inputs): Check {
  const bridge = String(nic["bridge"]);
  const vlan = nic["vlanId"];
  const path = `/sdn/zones/localnetwork/${bridge}${vlan !== undefined ? `/${String(vlan)}` : ""}`;
  return { kind: "perm", call, path, privs: ["SDN.Use"] };
}

/** `check_volume_access` for a template or ISO volume. */
const templateVolume = (call: string, volume: unknown): Check => {
  const sid = storageOf(volume) ?? "local";
  return {
    kind: "or",
    call,
    checks: [
      { kind: "perm", call, path: `/storage/${sid}`, privs: ["Datastore.Allocate"] },
      { kind: "perm", call, path: `/storage/${sid}`, privs: ["Datastore.AllocateSpace", "Datastore.Audit"], any: true },
    ],
  };
};

/** Container option checks (check_ct_modify_config_perm), with the pool passed at creation only. */
function containerOptions(r: RecordedResource, pool: string | undefined, call: string): Check[] {
  const i = r.inputs;
  const vmid = Number(i["vmId"]);
  const vm = (privs: string[]): Check => ({ kind: "vm", call, vmid, ...(pool ? { pool } : {}), privs });
  const out: Check[] = [];
  const has = (key: string) => i[key] !== undefined && (call.startsWith("POST") || !ignoredBy(r, key));
  if (has("cpu")) out.push(vm(["VM.Config.CPU"]));
  if (has("memory")) out.push(vm(["VM.Config.Memory"]));
  if (has("disk")) {
    out.push(vm(["VM.Config.Disk"]));
    const ds = inputAt(i, "disk.datastoreId");
    if (typeof ds === "string")
      out.push({ kind: "perm", call, path: `/storage/${ds}`, privs: ["Datastore.AllocateSpace"] });
  }
  if (has("networkInterfaces"))
    for (const nic of i["networkInterfaces"] as Inputs[]) out.push(vm(["VM.Config.Network"]), vnet(call, nic));
  if (has("initialization")) out.push(vm(["VM.Config.Network"])); // hostname, nameserver, ipconfig
  if (has("features")) {
    const f = i["features"] as Inputs;
    const onlyNesting = Object.keys(f).every((k) => k === "nesting");
    // On a later change the provider sends every feature key (fuse=0,keyctl=0,...): root-only.
    out.push(
      onlyNesting && call.startsWith("POST") && i["unprivileged"] === true
        ? vm(["VM.Allocate"])
        : { kind: "root-only", call: `${call} features` },
    );
  }
  // Tags: assert_tag_permissions checks /vms/<vmid> alone, never the pool (pve-guest-common GuestHelpers.pm:317).
  if (has("tags")) out.push({ kind: "vm", call: `${call} tags`, vmid, privs: ["VM.Config.Options"] });
  if (["description", "startOnBoot", "protection", "startup", "unprivileged", "operatingSystem"].some(has))
    out.push(vm(["VM.Config.Options"]));
  return out;
}

/** VM option checks (qemu-server check_vm_modify_config_perm), with the pool passed at creation only. */
function vmOptions(r: RecordedResource, pool: string | undefined, call: string): Check[] {
  const i = r.inputs;
  const vmid = Number(i["vmId"]);
  const vm = (privs: string[]): Check => ({ kind: "vm", call, vmid, ...(pool ? { pool } : {}), privs });
  const has = (key: string) => i[key] !== undefined && (call.startsWith("POST") || !ignoredBy(r, key));
  const out: Check[] = [];
  if (has("cpu")) out.push(vm(["VM.Config.CPU"]));
  if (has("memory")) out.push(vm(["VM.Config.Memory"]));
  if (has("disks"))
    for (const d of i["disks"] as Inputs[]) {
      out.push(vm(["VM.Config.Disk"]), {
        kind: "perm",
        call,
        path: `/storage/${String(d["datastoreId"])}`,
        privs: ["Datastore.AllocateSpace"],
      });
      if (d["fileId"]) out.push(templateVolume(`${call} import`, d["fileId"]));
    }
  if (has("cdrom")) out.push(vm(["VM.Config.CDROM"]), templateVolume(`${call} cdrom`, inputAt(i, "cdrom.fileId")));
  if (has("initialization")) {
    out.push(vm(["VM.Config.Cloudinit"]));
    const ds = inputAt(i, "initialization.datastoreId");
    if (typeof ds === "string")
      out.push(vm(["VM.Config.Disk"]), {
        kind: "perm",
        call,
        path: `/storage/${ds}`,
        privs: ["Datastore.AllocateSpace"],
      });
  }
  if (has("networkDevices"))
    for (const nic of i["networkDevices"] as Inputs[]) out.push(vm(["VM.Config.Network"]), vnet(call, nic));
  if (["serialDevices", "vga", "bios", "machine", "scsiHardware"].some(has)) out.push(vm(["VM.Config.HWType"]));
  if (has("tags")) out.push({ kind: "vm", call: `${call} tags`, vmid, privs: ["VM.Config.Options"] });
  if (["description", "onBoot", "protection", "startup", "template", "agent", "name"].some(has))
    out.push(vm(["VM.Config.Options"]));
  return out;
}

/**
 * The checks of the calls the provider sends for `r` in `phase`. `create` is the first creation (the
 * guest is in no pool yet); the other phases act on a guest that exists (and is a pool member if it
 * was created with `pool` or joined by a membership).
 */
export function checksFor(r: RecordedResource, phase: Phase, plan: readonly RecordedResource[] = []): Check[] {
  const i = r.inputs;
  const vmid = Number(i["vmId"]);
  const node = String(i["nodeName"]);
  switch (r.type) {
    case TYPES.container: {
      const pool = typeof i["poolId"] === "string" ? i["poolId"] : undefined;
      if (phase === "create") {
        const call = "POST /nodes/{node}/lxc";
        return [
          { kind: "vm", call: `${call} (allocate)`, vmid, ...(pool ? { pool } : {}), privs: ["VM.Allocate"] },
          ...containerOptions(r, pool, call),
          templateVolume(`${call} ostemplate`, inputAt(i, "operatingSystem.templateFileId")),
          ...(i["unprivileged"] === true
            ? []
            : [{ kind: "perm", call: `${call} (privileged)`, path: "/", privs: ["Sys.Modify"] } as Check]),
        ];
      }
      if (phase === "update")
        return [
          ...containerOptions(r, undefined, "PUT /nodes/{node}/lxc/{vmid}/config"),
          { kind: "vm", call: "POST .../status/start|stop", vmid, privs: ["VM.PowerMgmt"] },
        ];
      if (phase === "read")
        return [{ kind: "vm", call: "GET /nodes/{node}/lxc/{vmid}/config", vmid, privs: ["VM.Audit"] }];
      return [{ kind: "vm", call: "DELETE /nodes/{node}/lxc/{vmid}", vmid, privs: ["VM.Allocate"] }];
    }
    case TYPES.vm: {
      const pool = typeof i["poolId"] === "string" ? i["poolId"] : undefined;
      if (phase === "create")
        return [
          {
            kind: "vm",
            call: "POST /nodes/{node}/qemu (allocate)",
            vmid,
            ...(pool ? { pool } : {}),
            privs: ["VM.Allocate"],
          },
          ...vmOptions(r, pool, "POST /nodes/{node}/qemu"),
        ];
      if (phase === "update")
        return [
          ...vmOptions(r, undefined, "PUT /nodes/{node}/qemu/{vmid}/config"),
          { kind: "vm", call: "POST .../status/start|stop", vmid, privs: ["VM.PowerMgmt"] },
          ...(i["migrate"] === true
            ? [{ kind: "vm", call: "POST .../migrate", vmid, privs: ["VM.Migrate"] } as Check]
            : []),
        ];
      if (phase === "read")
        return [{ kind: "vm", call: "GET /nodes/{node}/qemu/{vmid}/config", vmid, privs: ["VM.Audit"] }];
      return [{ kind: "vm", call: "DELETE /nodes/{node}/qemu/{vmid}", vmid, privs: ["VM.Allocate"] }];
    }
    case TYPES.guestFirewallOptions:
    case TYPES.guestFirewallRules: {
      const ct = Number(i["containerId"] ?? i["vmId"]);
      return phase === "read"
        ? [{ kind: "vm", call: "GET .../firewall", vmid: ct, privs: ["VM.Audit"] }]
        : [{ kind: "vm", call: "PUT/POST .../firewall", vmid: ct, privs: ["VM.Config.Network"] }];
    }
    case TYPES.haResource:
    case TYPES.haRule:
    case TYPES.haGroup:
      return [
        phase === "read"
          ? { kind: "perm", call: "GET /cluster/ha/...", path: "/", privs: ["Sys.Audit"] }
          : { kind: "perm", call: "POST/PUT/DELETE /cluster/ha/...", path: "/", privs: ["Sys.Console"] },
      ];
    case TYPES.nodeConfig:
    case TYPES.clusterFirewall:
    case TYPES.ipSet:
    case TYPES.securityGroup:
      return [
        phase === "read"
          ? { kind: "perm", call: `GET (${r.type})`, path: "/", privs: ["Sys.Audit"] }
          : { kind: "perm", call: `PUT/POST (${r.type})`, path: "/", privs: ["Sys.Modify"] },
      ];
    case TYPES.downloadFile: {
      const sid = String(i["datastoreId"]);
      const network: Check = {
        kind: "or",
        call: "query-url-metadata / download-url",
        checks: [
          { kind: "perm", call: "(host network)", path: "/", privs: ["Sys.Audit", "Sys.Modify"] },
          { kind: "perm", call: "(host network)", path: `/nodes/${node}`, privs: ["Sys.AccessNetwork"] },
        ],
      };
      if (phase === "create")
        return [
          network,
          {
            kind: "perm",
            call: "POST .../download-url",
            path: `/storage/${sid}`,
            privs: ["Datastore.AllocateTemplate"],
          },
        ];
      if (phase === "delete")
        return r.options.retainOnDelete
          ? []
          : [
              {
                kind: "perm",
                call: "DELETE .../content/{volume}",
                path: `/storage/${sid}`,
                privs: ["Datastore.Allocate"],
              },
            ];
      return [
        {
          kind: "perm",
          call: "GET .../content",
          path: `/storage/${sid}`,
          privs: ["Datastore.Audit", "Datastore.AllocateSpace"],
          any: true,
        },
      ];
    }
    case TYPES.storage:
      // Only ever read: GET /storage lists the entries with Datastore.Audit or AllocateSpace (pve-storage API2/Storage/Config.pm index).
      return phase === "delete"
        ? []
        : [
            {
              kind: "perm",
              call: "GET /storage",
              path: `/storage/${String(i["storage"])}`,
              privs: ["Datastore.Audit", "Datastore.AllocateSpace"],
              any: true,
            },
          ];
    case TYPES.backupJob: {
      const read: Check = { kind: "perm", call: "GET /cluster/backup", path: "/", privs: ["Sys.Audit"] };
      // Telling which guests the other jobs back up: the members of every pool a job of the plan selects.
      const pools = [
        ...new Set(
          plan.filter((x) => x.type === TYPES.backupJob && x.inputs["pool"]).map((x) => String(x.inputs["pool"])),
        ),
      ];
      const members: Check[] = pools.map((pool) => ({
        kind: "perm",
        call: "GET /pools?poolid=",
        path: `/pool/${pool}`,
        privs: ["Pool.Audit"],
      }));
      const write = (call: string): Check[] => [
        { kind: "perm", call, path: "/", privs: ["Sys.Modify"] },
        {
          kind: "perm",
          call: `${call} (target storage)`,
          path: `/storage/${String(i["storage"])}`,
          privs: ["Datastore.Allocate"],
        },
        ...(typeof i["pool"] === "string"
          ? [{ kind: "perm", call: `${call} pool`, path: `/pool/${i["pool"]}`, privs: ["VM.Backup"] } as Check]
          : []),
      ];
      if (phase === "read") return [read];
      // Adopting writes the declared guest selection when the live job's differs (the seed's jobs back up every guest).
      if (phase === "create")
        return i["adopt"] === true
          ? [read, ...members, ...write("PUT /cluster/backup/{id}")]
          : [read, ...members, ...write("POST /cluster/backup")];
      if (phase === "update") return [read, ...members, ...write("PUT /cluster/backup/{id}")];
      return [{ kind: "perm", call: "DELETE /cluster/backup/{id}", path: "/", privs: ["Sys.Modify"] }];
    }
    case TYPES.snapshot: {
      // lib/pve/snapshotProvider.ts: list the guest (/cluster/resources shows only what the token may
      // audit) and its snapshots; take the snapshot (pve-container API2/LXC/Snapshot.pm). Update and
      // delete call nothing.
      const audit: Check = {
        kind: "vm",
        call: "GET /cluster/resources, .../snapshot",
        vmid: Number(i["vmid"]),
        privs: ["VM.Audit"],
      };
      if (phase === "create")
        return [
          audit,
          {
            kind: "vm",
            call: "POST /nodes/{node}/lxc/{vmid}/snapshot",
            vmid: Number(i["vmid"]),
            privs: ["VM.Snapshot"],
          },
        ];
      return phase === "read" ? [audit] : [];
    }
    default:
      return [];
  }
}
