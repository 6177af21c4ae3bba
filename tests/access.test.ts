/**
 * The automation tokens' access (lib/permissions/access.ts, declared by components/AutomationAccess.ts)
 * judged by PVE's real rules (tests/pve/permissionModel.ts, ../shared/reality/proxmox-permissions.md):
 * every call the plan's resources make is allowed, in the order PVE sees them, and nothing the reality
 * file lists as an over-grant is.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { TYPES } from "../lib/providerFacts";
import { offlinePlan } from "./helpers/offlinePlan";
import { accessStateOf } from "./pve/planAccess";
import { addToPool, check, destroyGuest, emptyAccessState, privileges, type AccessState } from "./pve/permissionModel";
import { checksFor, describe as describeCheck, passes, type Phase } from "./pve/pveChecks";

const INFRA = "pulumi-infra@pve!iac";
const CUSTOMER = "pulumi-customers@pve!iac";
const TOKEN_OF: Record<string, string> = { "proxmox-infra": INFRA, "proxmox-customers": CUSTOMER };

/** The token a resource's calls are made with: its provider's, or the infrastructure token for the program's own PVE resources. */
const tokenOf = (r: RecordedResource): string | undefined =>
  r.type === TYPES.storage || r.type === TYPES.backupJob
    ? INFRA
    : r.type === TYPES.snapshot
      ? CUSTOMER
      : TOKEN_OF[providerName(r)];

/** Every privilege PVE 9 knows (pve-access-control src/PVE/AccessControl.pm $privgroups; VM.Monitor is gone). */
const PVE9_PRIVILEGES = new Set([
  ...["VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.HWType"],
  ...["VM.Config.Options", "VM.Allocate", "VM.Clone", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.Replicate"],
  ...["VM.Snapshot", "VM.Snapshot.Rollback", "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup"],
  ...["VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.PowerMgmt"],
  ...["VM.Audit", "VM.GuestAgent.Audit", "Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"],
  ...["Sys.Console", "Sys.Syslog", "Sys.Audit", "Datastore.Allocate", "Datastore.AllocateTemplate"],
  ...["Datastore.AllocateSpace", "Datastore.Audit", "SDN.Allocate", "SDN.Audit", "SDN.Use", "Realm.Allocate"],
  ...["User.Modify", "Group.Allocate", "Realm.AllocateUser", "Pool.Allocate", "Pool.Audit", "Mapping.Modify"],
  ...["Mapping.Use", "Mapping.Audit", "Permissions.Modify"],
]);

const providerName = (r: RecordedResource): string => r.provider.split("::").pop() ?? "";

/**
 * Runs every call of the plan in PVE's order and returns the refused ones: adopted objects are read
 * and updated; new ones created (guests not yet in a pool), then joined to their pool, read, updated.
 */
function refusedCalls(resources: readonly RecordedResource[], state: AccessState, withDelete = false): string[] {
  const refused: string[] = [];
  const run = (r: RecordedResource, phase: Phase) => {
    const token = tokenOf(r);
    if (!token) return;
    for (const c of checksFor(r, phase, resources))
      if (!passes(state, token, c)) refused.push(`${r.name} ${phase} (${token}): ${describeCheck(c)}`);
  };
  for (const r of resources) {
    if (!r.options.import) {
      run(r, "create");
      if (typeof r.inputs["poolId"] === "string") addToPool(state, r.inputs["poolId"], Number(r.inputs["vmId"]));
    }
    run(r, "read");
    run(r, "update");
    if (withDelete) run(r, "delete");
  }
  return refused;
}

let prod: OfflineRunResult;
let bench: OfflineRunResult;
beforeAll(async () => {
  prod = await offlinePlan();
  bench = await offlinePlan({ stack: "bench" });
});

describe("PVE's rules, as the model applies them", () => {
  it("a role on /pool/X reaches the pool's members whatever its propagate flag says", () => {
    for (const propagate of [false, true]) {
      const s = emptyAccessState();
      s.roles.set("R", new Set(["VM.Audit"]));
      s.acl.push({ path: "/pool/p", ugid: "u@pve", role: "R", propagate });
      s.pools.set("p", { vms: new Set([7]), storage: new Set() });
      expect(check(s, "u@pve", "/vms/7", ["VM.Audit"])).toBe(true);
      expect(check(s, "u@pve", "/vms/8", ["VM.Audit"])).toBe(false);
    }
  });

  it("create-time checks on /vms/<vmid> are not reached through a pool: a create with tags is refused", () => {
    const ct = prod.resources.find((r) => r.name === "nordlicht-ct")!;
    const state = accessStateOf(prod.resources);
    const tagged = { ...ct, inputs: { ...ct.inputs, tags: ["customer-nordlicht"] } };
    const refused = checksFor(tagged, "create").filter((c) => !passes(state, CUSTOMER, c));
    expect(refused.map(describeCheck)).toEqual(["POST /nodes/{node}/lxc tags: VM.Config.Options on /vms/1001"]);
  });

  it("ACL entries on a guest vanish with it, and so does its pool membership", () => {
    const s = emptyAccessState();
    s.roles.set("R", new Set(["VM.Allocate"]));
    s.acl.push({ path: "/vms/9", ugid: "u@pve", role: "R", propagate: false });
    s.pools.set("p", { vms: new Set([9]), storage: new Set() });
    destroyGuest(s, 9);
    expect(s.acl).toEqual([]);
    expect(s.pools.get("p")!.vms.has(9)).toBe(false);
  });
});

describe("the automation tokens' grants", () => {
  it.each(["prod", "bench"] as const)("allow every call the %s plan makes, in PVE's order", (stack) => {
    const plan = stack === "prod" ? prod : bench;
    expect(refusedCalls(plan.resources, accessStateOf(plan.resources), true)).toEqual([]);
  });

  it("grant no guest through /vms/<vmid> (PVE deletes those entries with the guest): a replaced guest keeps its grants", () => {
    for (const plan of [prod, bench]) {
      const state = accessStateOf(plan.resources);
      expect(state.acl.filter((e) => e.path.startsWith("/vms/"))).toEqual([]);
      refusedCalls(plan.resources, state);
      // Replace every guest the program creates (the ones with a pool): destroy, then create again.
      const created = plan.resources.filter(
        (r) => (r.type === TYPES.container || r.type === TYPES.vm) && typeof r.inputs["poolId"] === "string",
      );
      expect(created.length).toBeGreaterThan(0);
      const refused: string[] = [];
      for (const r of created) {
        destroyGuest(state, Number(r.inputs["vmId"]));
        const token = TOKEN_OF[providerName(r)]!;
        for (const c of checksFor(r, "create"))
          if (!passes(state, token, c)) refused.push(`${r.name}: ${describeCheck(c)}`);
      }
      expect(refused).toEqual([]);
    }
  });

  it("adopted guests join the infrastructure pool by a membership, never by poolId (which replaces them)", () => {
    const adopted = prod.resources.filter(
      (r) => (r.type === TYPES.container || r.type === TYPES.vm) && r.options.import,
    );
    expect(adopted).toHaveLength(7);
    const members = prod.resources
      .filter((r) => r.type === TYPES.poolMembership)
      .map((r) => [r.inputs["poolId"], r.inputs["vmId"]]);
    for (const g of adopted) {
      expect(g.inputs["poolId"], g.name).toBeUndefined();
      expect(members).toContainEqual(["infrastructure", g.inputs["vmId"]]);
    }
  });

  it("remove the recorded over-grants: no Datastore.Allocate reaching global-lvm, no moving guests into customers, no Sys.AccessNetwork", () => {
    const state = accessStateOf(prod.resources);
    refusedCalls(prod.resources, state);
    // global-lvm: the infrastructure token may neither allocate nor delete there.
    expect([...privileges(state, INFRA, "/storage/global-lvm")]).toEqual([]);
    // Moving a guest into a pool needs Pool.Allocate on it (pve-manager PVE/API2/Pool.pm update_pool).
    expect(check(state, INFRA, "/pool/customers", ["Pool.Allocate"])).toBe(false);
    expect(check(state, CUSTOMER, "/pool/infrastructure", ["Pool.Allocate"])).toBe(false);
    expect(check(state, CUSTOMER, "/pool/customers", ["Pool.Allocate"])).toBe(false);
    // Sys.Modify on / covers download-url and query-url-metadata: no Sys.AccessNetwork anywhere.
    expect(state.acl.filter((e) => state.roles.get(e.role)!.has("Sys.AccessNetwork"))).toEqual([]);
    for (const node of ["node1", "node2", "node3"]) expect(privileges(state, INFRA, `/nodes/${node}`).size).toBe(0);
  });

  it("keep each token to its own guests: nothing of the customer token on /, nothing of either on the other's guests", () => {
    const state = accessStateOf(prod.resources);
    refusedCalls(prod.resources, state);
    expect([...privileges(state, CUSTOMER, "/")]).toEqual([]);
    const customerCts = prod.resources.filter((r) => r.type === TYPES.container && r.inputs["poolId"] === "customers");
    const infraGuests = prod.resources.filter(
      (r) => (r.type === TYPES.container || r.type === TYPES.vm) && r.options.import,
    );
    for (const ct of customerCts)
      expect([...privileges(state, INFRA, `/vms/${String(ct.inputs["vmId"])}`)]).toEqual([]);
    for (const g of infraGuests)
      expect([...privileges(state, CUSTOMER, `/vms/${String(g.inputs["vmId"])}`)]).toEqual([]);
  });

  it("grant the customer token the customer operations on its containers alone (VM.PowerMgmt, VM.Snapshot, VM.Audit)", () => {
    // lib/operations/customerOperations.ts: start/shutdown/reboot (pve-container API2/LXC/Status.pm:
    // VM.PowerMgmt), snapshot create/delete (API2/LXC/Snapshot.pm: VM.Snapshot), rollback (VM.Snapshot
    // or VM.Snapshot.Rollback, any), status and snapshot list (VM.Audit). Not plan resources, so the
    // "every call the plan makes" test does not see them.
    const state = accessStateOf(prod.resources);
    refusedCalls(prod.resources, state);
    // Customer containers: the ones the customer token's provider creates.
    const customerCts = prod.resources.filter(
      (r) => r.type === TYPES.container && providerName(r) === "proxmox-customers",
    );
    expect(customerCts.length).toBeGreaterThan(0);
    for (const ct of customerCts) {
      const path = `/vms/${String(ct.inputs["vmId"])}`;
      for (const priv of ["VM.PowerMgmt", "VM.Snapshot", "VM.Audit"])
        expect(check(state, CUSTOMER, path, [priv]), `${ct.name} ${priv}`).toBe(true);
      // Rollback is covered by VM.Snapshot; the narrower privilege is not granted on top.
      expect(check(state, CUSTOMER, path, ["VM.Snapshot.Rollback"])).toBe(false);
    }
    const infraGuests = prod.resources.filter(
      (r) => (r.type === TYPES.container || r.type === TYPES.vm) && providerName(r) !== "proxmox-customers",
    );
    expect(infraGuests.length).toBeGreaterThan(0);
    for (const g of infraGuests)
      for (const priv of ["VM.PowerMgmt", "VM.Snapshot", "VM.Snapshot.Rollback"])
        expect(check(state, CUSTOMER, `/vms/${String(g.inputs["vmId"])}`, [priv])).toBe(false);
  });

  it("grant privilege-separated tokens every entry their user has too (PVE intersects the two)", () => {
    const state = accessStateOf(prod.resources);
    expect([...state.privsepTokens].sort()).toEqual([CUSTOMER, INFRA]);
    const key = (e: { path: string; role: string; propagate: boolean }) => `${e.path} ${e.role} ${e.propagate}`;
    for (const token of [INFRA, CUSTOMER]) {
      const user = token.split("!")[0];
      expect(
        state.acl
          .filter((e) => e.ugid === token)
          .map(key)
          .sort(),
      ).toEqual(
        state.acl
          .filter((e) => e.ugid === user)
          .map(key)
          .sort(),
      );
    }
  });

  it("name only privileges PVE 9 has", () => {
    for (const r of prod.resources.filter((x) => x.type === TYPES.role))
      for (const p of r.inputs["privileges"] as string[]) expect(PVE9_PRIVILEGES.has(p), `${r.name}: ${p}`).toBe(true);
  });

  it("keep the three tokens: access (administrator, by hand), infrastructure and customer (by hand, adopted)", () => {
    const providers = prod.resources.filter((r) => r.type === "pulumi:providers:proxmoxve").map((r) => r.name);
    expect(providers.sort()).toEqual(["proxmox-access", "proxmox-customers", "proxmox-infra"]);
    const tokens = prod.resources.filter((r) => r.type === TYPES.token);
    expect(tokens.map((t) => [t.name, t.options.import])).toEqual([
      ["automation-access-pulumi-infra-iac", "pulumi-infra@pve!iac"],
      ["automation-access-pulumi-customers-iac", "pulumi-customers@pve!iac"],
    ]);
    // Only the administrator token declares access objects.
    for (const r of prod.resources.filter((x) =>
      [TYPES.acl, TYPES.role, TYPES.user, TYPES.token, TYPES.pool, TYPES.poolMembership].includes(x.type as never),
    ))
      expect(providerName(r), r.name).toBe("proxmox-access");
  });
});
