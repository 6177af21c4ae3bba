/**
 * Customer operations (lib/operations/customerOperations.ts) against the fake PVE API, which checks
 * every request and answer against the PVE API schema and every call against PVE's permission rules
 * with the grants the plan declares (tests/pve/fakePveServer.ts): the customer token, its pool, its
 * containers as PVE lists them. The `customer` CLI that runs them: tests/customerOperationsCli.test.ts.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  runCustomerOperation,
  type OperationRecord,
  type OperationRequest,
  type OperationTarget,
} from "../lib/operations/customerOperations";
import { createPveClient } from "../lib/pve/client";
import { offlinePlan } from "./helpers/offlinePlan";
import { useFakePve, type FakeGuest } from "./pve/fakePveServer";
import { emptyAccessState } from "./pve/permissionModel";
import { accessStateOf } from "./pve/planAccess";

const CUSTOMER = "pulumi-customers@pve!iac";
const INFRA = "pulumi-infra@pve!iac";
const SECRET = "3b5d7f9a-1c2e-4a6b-8d0f-2e4c6a8b0d1f";
const access = emptyAccessState();
const fake = useFakePve({ tokens: { [CUSTOMER]: SECRET, [INFRA]: SECRET }, access });

beforeAll(async () => {
  Object.assign(access, accessStateOf((await offlinePlan()).resources));
}, 0);

/** The fixture customers' containers as PVE holds them (nordlicht, premium, is an HA resource). */
function cluster(): void {
  fake.liveCluster();
  const ct = (vmid: number, name: string, extra: Partial<FakeGuest> = {}) =>
    fake.addGuest({ vmid, type: "lxc", node: "node1", name, status: "running", ...extra }, "customers");
  ct(1000, "acme-bakery");
  ct(1001, "nordlicht", { ha: true });
  ct(1002, "studio-kern");
  for (const g of [1000, 1001, 1002].map((v) => fake.guests.get(v)!))
    g.snapshots.set("initial", { description: "WordPress as installed", snaptime: 1_780_000_000 });
}
beforeEach(cluster);

const target = (slug: string, overrides: Partial<OperationTarget> = {}): OperationTarget => {
  const table: Record<string, [number, string, number]> = {
    "acme-bakery": [1000, "basic", 2],
    nordlicht: [1001, "premium", 5],
    "studio-kern": [1002, "basic", 2],
  };
  const [vmid, plan, backups] = table[slug]!;
  return { slug, file: `customers/${slug}.yaml`, vmid, plan, quotas: { backups }, state: "active", ...overrides };
};

let records: OperationRecord[] = [];
const run = (t: OperationTarget, request: OperationRequest, token = CUSTOMER) => {
  records = [];
  return runCustomerOperation(t, request, {
    client: createPveClient({ endpoint: fake.endpoint, insecure: true, apiToken: `${token}=${SECRET}` }),
    actor: "support:alice",
    record: (r) => void records.push(r),
    now: () => new Date("2026-05-01T10:15:00Z"),
    wait: { sleep: async () => undefined, pollMs: 0, timeoutMs: 60_000 },
  });
};
const writes = () => fake.exchanges.filter((e) => e.method !== "GET").map((e) => `${e.method} ${e.path}`);
const guest = (vmid: number) => fake.guests.get(vmid)!;

describe("power: start, stop, restart", () => {
  it("stop shuts the container down cleanly (hard stop after 60 s) and waits; start brings it back; each recorded", async () => {
    const stop = await run(target("acme-bakery"), { action: "stop" });
    expect(stop).toMatchObject({ outcome: "done", node: "node1" });
    expect(stop.message).toContain("pulumi up --refresh starts it again");
    expect(guest(1000).status).toBe("stopped");
    expect(fake.exchanges.find((e) => e.method === "POST")!.params).toEqual({ timeout: "60", forceStop: "1" });
    expect(records.map((r) => r.outcome)).toEqual(["started", "done"]);
    expect(records[1]).toMatchObject({
      actor: "support:alice",
      customer: "acme-bakery",
      file: "customers/acme-bakery.yaml",
      vmid: 1000,
      node: "node1",
      action: "stop",
      time: "2026-05-01T10:15:00.000Z",
    });
    expect(records[1]!.tasks![0]).toMatch(/^UPID:node1:.*:vzshutdown:1000:pulumi-customers@pve!iac:$/);

    expect(await run(target("acme-bakery"), { action: "start" })).toMatchObject({ outcome: "done" });
    expect(guest(1000).status).toBe("running");
    expect(await run(target("acme-bakery"), { action: "restart" })).toMatchObject({ outcome: "done" });
    expect(writes()).toEqual([
      "POST /nodes/node1/lxc/1000/status/shutdown",
      "POST /nodes/node1/lxc/1000/status/start",
      "POST /nodes/node1/lxc/1000/status/reboot",
    ]);
    expect(fake.contractProblems()).toEqual([]);
  });

  it("an HA-managed container: PVE hands stop and start to the HA manager; the operation waits for the state itself", async () => {
    const stop = await run(target("nordlicht"), { action: "stop" });
    expect(stop.outcome).toBe("done");
    expect(records[1]!.tasks![0]).toContain(":hastop:1001:");
    expect(guest(1001).status).toBe("stopped");
    // The HA manager acted after the task ended: the status was read until it had.
    const statusReads = fake.exchanges.filter((e) => e.path.endsWith("/status/current"));
    expect(statusReads.map((e) => (e.body as { data: { status: string } }).data.status)).toEqual([
      "running",
      "stopped",
    ]);
    expect((await run(target("nordlicht"), { action: "start" })).outcome).toBe("done");
    expect(guest(1001).status).toBe("running");
    expect(fake.contractProblems()).toEqual([]);
  });

  it("follows the container to the node it runs on now (HA moved it), whatever the file says", async () => {
    guest(1002).node = "node2";
    expect(await run(target("studio-kern"), { action: "restart" })).toMatchObject({ outcome: "done", node: "node2" });
    expect(writes()).toEqual(["POST /nodes/node2/lxc/1002/status/reboot"]);
  });

  it("nothing to do is said, not sent; restart of a stopped container is refused", async () => {
    expect((await run(target("acme-bakery"), { action: "start" })).message).toBe("CT 1000 is already running");
    guest(1000).status = "stopped";
    expect((await run(target("acme-bakery"), { action: "stop" })).message).toBe("CT 1000 is already stopped");
    expect(await run(target("acme-bakery"), { action: "restart" })).toMatchObject({
      outcome: "refused",
      message: "CT 1000 is stopped: start it instead (customer start)",
    });
    expect(writes()).toEqual([]);
  });

  it("the file's state rules: a suspended site is not started, a decommissioned one is left alone (naming file and field)", async () => {
    guest(1000).status = "stopped";
    expect(await run(target("acme-bakery", { state: "suspended" }), { action: "start" })).toMatchObject({
      outcome: "refused",
      message:
        "customers/acme-bakery.yaml: state: acme-bakery is suspended: unsuspend it (customer unsuspend, then deploy) to start it",
    });
    expect((await run(target("acme-bakery", { state: "decommissioned" }), { action: "snapshot" })).message).toBe(
      "customers/acme-bakery.yaml: state: acme-bakery is decommissioned: its container stays stopped until it is removed",
    );
    expect(records.map((r) => r.outcome)).toEqual(["refused"]);
    expect(fake.exchanges).toEqual([]);
  });
});

describe("refused for another customer's guest", () => {
  it("a VMID that is another customer's container (a stale or edited file) is refused before anything is sent", async () => {
    const result = await run(target("acme-bakery", { vmid: 1001 }), { action: "stop" });
    expect(result).toMatchObject({
      outcome: "refused",
      message:
        "customers/acme-bakery.yaml: vmid: CT 1001 is \"nordlicht\", not acme-bakery's container (its host name is the customer's slug): refused",
    });
    expect(writes()).toEqual([]);
    expect(guest(1001).status).toBe("running");
    expect(records).toMatchObject([{ outcome: "refused", customer: "acme-bakery", vmid: 1001, action: "stop" }]);
  });

  it("an infrastructure guest is not even listed to the customer token (PVE filters by VM.Audit): refused", async () => {
    for (const vmid of [100, 10001, 102]) {
      const result = await run(target("acme-bakery", { vmid }), { action: "stop" });
      expect(result.outcome).toBe("refused");
      expect(result.message).toContain(`CT ${vmid} is not a customer container the customer token can see`);
    }
    expect(writes()).toEqual([]);
    expect(guest(10001).status).toBe("running");
  });

  it("and PVE itself refuses the customer token on a guest outside its pool (403), whatever a client would send", async () => {
    const client = createPveClient({ endpoint: fake.endpoint, insecure: true, apiToken: `${CUSTOMER}=${SECRET}` });
    await expect(client.post("/nodes/node3/lxc/10001/status/shutdown", {})).rejects.toThrow(
      "403 Permission check failed (/vms/10001, VM.PowerMgmt)",
    );
    await expect(client.post("/nodes/node3/lxc/102/snapshot", { snapname: "x1" })).rejects.toThrow(
      "403 Permission check failed (/vms/102, VM.Snapshot)",
    );
  });
});

describe("restore points: snapshot, restore, delete, within the plan's quota", () => {
  it("a snapshot is taken under the given or a dated name, and listed with the others", async () => {
    const named = await run(target("acme-bakery"), {
      action: "snapshot",
      name: "before-update",
      description: "theme update",
    });
    expect(named.outcome).toBe("done");
    expect(fake.exchanges.find((e) => e.method === "POST")!.params).toEqual({
      snapname: "before-update",
      description: "theme update",
    });
    const dated = await run(target("acme-bakery"), { action: "snapshot" });
    expect(dated.message).toBe("restore point r20260501-101500 taken");
    expect(dated.restorePoints!.map((p) => p.name)).toEqual(["initial", "before-update", "r20260501-101500"]);
    const list = await run(target("acme-bakery"), { action: "snapshots" });
    expect(list.message).toBe('3 restore points (2 of 2 the basic plan allows besides "initial")');
    expect(fake.contractProblems()).toEqual([]);
  });

  it("over the plan's quota is refused, naming the file and the field; initial and vzdump do not count", async () => {
    const g = guest(1000);
    g.snapshots.set("vzdump", { description: "vzdump backup snapshot", snaptime: 1_780_000_100 });
    g.snapshots.set("one", { description: "", snaptime: 1_780_000_200 });
    expect((await run(target("acme-bakery"), { action: "snapshot", name: "two" })).outcome).toBe("done");
    const refused = await run(target("acme-bakery"), { action: "snapshot", name: "three" });
    expect(refused).toMatchObject({
      outcome: "refused",
      problem: { file: "customers/acme-bakery.yaml", field: "plan" },
      message:
        'customers/acme-bakery.yaml: plan: the basic plan allows 2 restore points besides "initial" (nodepoint:plans.basic.backups) and acme-bakery has 2 (one, two): delete one first (customer delete-snapshot), or move to a bigger plan',
    });
    expect(g.snapshots.has("three")).toBe(false);
    // The premium plan keeps 5.
    const n = guest(1001);
    for (const s of ["a1", "a2", "a3", "a4"]) n.snapshots.set(s, { description: "", snaptime: 1_780_000_300 });
    expect((await run(target("nordlicht"), { action: "snapshot", name: "a5" })).outcome).toBe("done");
    expect((await run(target("nordlicht"), { action: "snapshot", name: "a6" })).problem?.message).toContain(
      "the premium plan allows 5 restore points",
    );
  });

  it("names PVE or the platform keeps are refused: initial, current, vzdump, an existing one, a malformed one", async () => {
    for (const [name, why] of [
      ["initial", "the platform's restore point after the install"],
      ["current", "reserved by PVE"],
      ["vzdump", "reserved by PVE"],
      ["9lives", "not a snapshot name PVE takes"],
      ["a".repeat(41), "longer than PVE's 40 characters"],
    ] as const)
      expect((await run(target("acme-bakery"), { action: "snapshot", name })).message).toContain(why);
    guest(1000).snapshots.set("mine", { description: "", snaptime: 1 });
    expect((await run(target("acme-bakery"), { action: "snapshot", name: "mine" })).message).toBe(
      'CT 1000 already has a restore point "mine"',
    );
    expect(writes()).toEqual([]);
  });

  it("restore stops a running container through the API first, rolls back, starts it again; an HA one too", async () => {
    for (const slug of ["acme-bakery", "nordlicht"] as const) {
      const vmid = target(slug).vmid;
      guest(vmid).snapshots.set("before-update", { description: "", snaptime: 1_780_000_500, parent: "initial" });
      fake.exchanges.length = 0;
      const result = await run(target(slug), { action: "restore", snapshot: "before-update" });
      expect(result).toMatchObject({ outcome: "done", message: `CT ${vmid} restored to before-update and running` });
      expect(writes()).toEqual([
        `POST /nodes/node1/lxc/${vmid}/status/shutdown`,
        `POST /nodes/node1/lxc/${vmid}/snapshot/before-update/rollback`,
        `POST /nodes/node1/lxc/${vmid}/status/start`,
      ]);
      expect(guest(vmid)).toMatchObject({ status: "running", parent: "before-update" });
    }
    // Back to the install: reset.
    expect((await run(target("acme-bakery"), { action: "restore", snapshot: "initial" })).outcome).toBe("done");
    expect(guest(1000).parent).toBe("initial");
    expect(fake.contractProblems()).toEqual([]);
  });

  it("a stopped or suspended site is restored and left stopped; an unknown restore point is refused", async () => {
    guest(1002).status = "stopped";
    expect(
      await run(target("studio-kern", { state: "suspended" }), { action: "restore", snapshot: "initial" }),
    ).toMatchObject({
      outcome: "done",
      message: "CT 1002 restored to initial",
    });
    expect(guest(1002).status).toBe("stopped");
    expect((await run(target("studio-kern"), { action: "restore", snapshot: "nope" })).message).toBe(
      'CT 1002 has no restore point "nope" (it has: initial)',
    );
  });

  it("PVE's failure is reported with its words; a container that was running is started again", async () => {
    guest(1000).snapshots.set("old", { description: "", snaptime: 1 });
    fake.failNextTask.set("vzrollback", "can't rollback, 'old' is not most recent snapshot");
    const result = await run(target("acme-bakery"), { action: "restore", snapshot: "old" });
    expect(result.outcome).toBe("failed");
    expect(result.message).toContain(
      "restoring CT 1000 to old failed: can't rollback, 'old' is not most recent snapshot",
    );
    expect(guest(1000).status).toBe("running");
    expect(records.map((r) => r.outcome)).toEqual(["started", "failed"]);
    fake.failNextTask.set("vzsnapshot", "snapshot feature is not available");
    expect((await run(target("acme-bakery"), { action: "snapshot", name: "x1" })).message).toContain(
      "snapshot feature is not available",
    );
  });

  it("delete removes a restore point; initial is kept, an unknown one refused", async () => {
    guest(1000).snapshots.set("before-update", { description: "", snaptime: 1_780_000_500 });
    const done = await run(target("acme-bakery"), { action: "delete-snapshot", snapshot: "before-update" });
    expect(done.restorePoints!.map((p) => p.name)).toEqual(["initial"]);
    expect(writes()).toEqual(["DELETE /nodes/node1/lxc/1000/snapshot/before-update"]);
    expect((await run(target("acme-bakery"), { action: "delete-snapshot", snapshot: "initial" })).message).toBe(
      '"initial" is the site\'s restore point after the install: it is kept (restore to it instead)',
    );
    expect((await run(target("acme-bakery"), { action: "delete-snapshot", snapshot: "gone" })).outcome).toBe("refused");
    expect(guest(1000).snapshots.has("initial")).toBe(true);
    expect(fake.contractProblems()).toEqual([]);
  });
});
