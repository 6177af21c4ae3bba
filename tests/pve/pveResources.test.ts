/**
 * Storage checks and backup jobs (lib/pve/) the way `pulumi up`, `refresh` and `destroy` run them:
 * the resource's `__provider` text loaded by the SDK's dynamic-provider plugin (cmd/dynamic-provider)
 * and driven over gRPC, against a fake PVE API that checks every request and answer against the PVE
 * API schema and every call against PVE's permission rules with the grants the plan declares
 * (tests/pve/fakePveServer.ts). The live cluster is the seed's, as PVE stores it.
 */
import { describe, expect, test } from "vitest";
import { BACKUP_JOB_PROVIDER_LOADER } from "../../components/PveBackupJob";
import { STORAGE_PROVIDER_LOADER } from "../../components/PveStorage";
import { ID_OVERRIDE_BUG, TYPES } from "../../lib/providerFacts";
import { startDynamicProviderHost } from "../../lib/runtimePath/dynamicProviderHost";
import { ROOT } from "../helpers/offlinePlan";
import { pveStackConfig } from "./pveStackConfig";
import { failure, PVE_TOKEN_SECRET, PVE_TOKENS, usePvePluginOnFake } from "./pvePluginOnFake";

const INFRA = PVE_TOKENS.infrastructure;
const CUSTOMER = PVE_TOKENS.customer;
const SECRET = PVE_TOKEN_SECRET;
// The stack's config as the engine hands it to the plugin: endpoint and the infrastructure token.
const pve = usePvePluginOnFake(["infrastructure"]);
const { fake } = pve;

/** The seed's storage.cfg, as `GET /storage` returns it (no jobs). */
function seedStorages(): void {
  fake.liveCluster();
  fake.jobs.clear();
}

/**
 * The plan's inputs of the storage or backup job with this resource name or PVE ID (no connection:
 * the provider has the stack's), the loader as the engine hands it over.
 */
function inputsOf(id: string, type: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const pveId = (x: { inputs: Record<string, unknown> }) => x.inputs[type === TYPES.storage ? "storage" : "jobId"];
  const r = pve.plan.find((x) => x.type === type && (x.name === id || pveId(x) === id));
  if (!r) throw new Error(`no ${id}`);
  return {
    ...r.inputs,
    __provider: type === TYPES.storage ? STORAGE_PROVIDER_LOADER : BACKUP_JOB_PROVIDER_LOADER,
    ...overrides,
  };
}

const urn = (type: string, name: string) => `urn:pulumi:prod::nodepoint::${type}::${name}`;

async function create(type: string, name: string, overrides: Record<string, unknown> = {}) {
  const checked = await pve.host.check(urn(type, name), {}, inputsOf(name, type, overrides));
  expect(checked.failures).toEqual([]);
  return pve.host.create(urn(type, name), checked.inputs);
}

const writes = () => fake.exchanges.filter((e) => e.method !== "GET");

describe("no resource type that crashes the plugin", () => {
  test("the plan declares no storage or backup-job type of the bridge (its ID override panics)", () => {
    const bridged = pve.plan.filter(
      (r) => r.type.startsWith("proxmoxve:storage/") || r.type === ID_OVERRIDE_BUG.types[1],
    );
    expect(bridged.map((r) => r.type)).toEqual([]);
    expect(
      pve.plan
        .filter((r) => r.type === TYPES.storage)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["storage-backup", "storage-local", "storage-local-lvm", "storage-local-zfs", "storage-node3-backup"]);
    // The three per-node jobs the seed runs, and one per customer container.
    expect(pve.plan.filter((r) => r.type === TYPES.backupJob)).toHaveLength(3 + 3);
  });
});

describe("the connection: the stack's, from the config the engine hands the plugin", () => {
  test("no storage or backup job of the plan stores an endpoint or token; they read and write with the stack's token", async () => {
    const own = pve.plan.filter((r) => r.type === TYPES.storage || r.type === TYPES.backupJob);
    expect(own.length).toBeGreaterThan(0);
    for (const r of own) expect(Object.keys(r.inputs), r.name).not.toContain("connection");
    seedStorages();
    await create(TYPES.storage, "local-lvm");
    expect(fake.exchanges.map((e) => e.token)).toContain(INFRA);
  });

  test("a plugin configured without the token fails naming the stack config key, before any request", async () => {
    const unconfigured = await startDynamicProviderHost({ root: ROOT, config: pveStackConfig(fake.endpoint) });
    try {
      fake.exchanges.length = 0;
      const checked = await unconfigured.check(urn(TYPES.storage, "local"), {}, inputsOf("local", TYPES.storage));
      expect(await failure(unconfigured.create(urn(TYPES.storage, "local"), checked.inputs))).toContain(
        "no PVE connection: stack config proxmoxve:apiToken is not set",
      );
      expect(fake.exchanges).toEqual([]);
    } finally {
      await unconfigured.close();
    }
  });
});

describe("storage definitions: checked, never written", () => {
  test("the seed's storages are adopted as PVE stores them (no nodes line for one on every node), with GETs only", async () => {
    seedStorages();
    for (const name of ["local", "local-zfs", "local-lvm", "backup", "node3-backup"]) {
      const { id, properties } = await create(TYPES.storage, name);
      expect(id).toBe(name);
      const read = await pve.host.read(id, urn(TYPES.storage, name), properties);
      const diff = await pve.host.diff(
        id,
        urn(TYPES.storage, name),
        read.properties,
        (await pve.host.check(urn(TYPES.storage, name), {}, inputsOf(name, TYPES.storage))).inputs,
      );
      expect(diff.changes, name).toBe("none");
    }
    expect(writes()).toEqual([]);
    expect(fake.contractProblems()).toEqual([]);
  });

  test("a definition that differs fails, naming each difference, and writes nothing", async () => {
    seedStorages();
    fake.storages.set("local", { type: "dir", path: "/var/lib/vz", content: "iso,vztmpl", nodes: "node1,node2" });
    const message = await failure(create(TYPES.storage, "local"));
    expect(message).toContain("storage local on the cluster differs from nodepoint:storage");
    expect(message).toContain("content: declared backup,iso,snippets,vztmpl, live iso,vztmpl");
    expect(message).toContain("nodes: declared (unset), live node1,node2");
    expect(writes()).toEqual([]);
  });

  test("a missing definition, or one the token may not audit, fails naming the storage", async () => {
    const message = await failure(create(TYPES.storage, "backup"));
    expect(message).toContain(
      "storage backup is not defined on the cluster (or the infrastructure token lacks Datastore.Audit on /storage/backup)",
    );
    seedStorages();
    // The customer token may not audit `backup`: PVE lists nothing for it.
    const asCustomer = { connection: { endpoint: fake.endpoint, insecure: true, apiToken: `${CUSTOMER}=${SECRET}` } };
    expect(await failure(create(TYPES.storage, "backup", asCustomer))).toContain("is not defined on the cluster");
  });

  test("refresh shows drift, and a definition gone drops the resource; delete writes nothing", async () => {
    seedStorages();
    const { id, properties } = await create(TYPES.storage, "local-lvm");
    fake.storages.set("local-lvm", { ...fake.storages.get("local-lvm")!, nodes: "node2,node3" });
    expect((await pve.host.read(id, urn(TYPES.storage, "local-lvm"), properties)).properties).toMatchObject({
      nodes: ["node2", "node3"],
    });
    fake.storages.delete("local-lvm");
    expect((await pve.host.read(id, urn(TYPES.storage, "local-lvm"), properties)).id).toBe("");
    await pve.host.delete(id, urn(TYPES.storage, "local-lvm"), properties);
    expect(writes()).toEqual([]);
  });
});

describe("backup jobs: adopted, never doubled", () => {
  /** Only the job the live platform runs for node3's guests, as jobs.cfg holds it. */
  const liveNode3 = () => {
    const job = fake.liveCluster().jobs.get("nightly-node3")!;
    fake.jobs.clear();
    fake.jobs.set("nightly-node3", job);
  };

  test("an existing job is adopted: only its guest selection is written (narrowed to the infrastructure pool), and it reads back without a diff", async () => {
    liveNode3();
    const { id, properties } = await create(TYPES.backupJob, "nightly-node3");
    expect(id).toBe("nightly-node3");
    // The seed's job backs up every guest of node3: adopting narrows it, writing nothing else.
    expect(writes().map((e) => [e.method, e.path, e.params])).toEqual([
      ["PUT", "/cluster/backup/nightly-node3", { pool: "infrastructure" }],
    ]);
    expect(fake.jobs.get("nightly-node3")).toMatchObject({ pool: "infrastructure", schedule: "02:30", node: "node3" });
    expect(fake.jobs.get("nightly-node3")!["all"]).toBeUndefined();
    const read = await pve.host.read(id, urn(TYPES.backupJob, "nightly-node3"), properties);
    const checked = (
      await pve.host.check(urn(TYPES.backupJob, "nightly-node3"), {}, inputsOf("nightly-node3", TYPES.backupJob))
    ).inputs;
    expect((await pve.host.diff(id, urn(TYPES.backupJob, "nightly-node3"), read.properties, checked)).changes).toBe(
      "none",
    );
    // Adopted again (a state lost): the job already is what is declared, nothing is written.
    fake.exchanges.length = 0;
    await create(TYPES.backupJob, "nightly-node3");
    expect(writes()).toEqual([]);
    expect(fake.contractProblems()).toEqual([]);
  });

  test("adopting a job that differs, or that does not exist, fails naming what differs or what exists; nothing written", async () => {
    liveNode3();
    fake.jobs.get("nightly-node3")!["schedule"] = "03:00";
    expect(await failure(create(TYPES.backupJob, "nightly-node3"))).toContain(
      'backup job nightly-node3 on the cluster differs from nodepoint:backupJobs: schedule: declared "02:30", live "03:00"',
    );
    const message = await failure(create(TYPES.backupJob, "nightly-node1"));
    expect(message).toContain("backup job nightly-node1 is marked adopt but the cluster has no job with that id");
    expect(message).toContain("nightly-node3 (all guests of node3 -> backup at 03:00)");
    // The selection is the one thing adopting may change: the schedule's difference above wrote nothing.
    expect(writes()).toEqual([]);
  });

  test("a new job is created as PVE takes it (form parameters valid against the schema)", async () => {
    seedStorages();
    const { id } = await create(TYPES.backupJob, "nightly-node1", { adopt: false });
    expect(id).toBe("nightly-node1");
    expect(writes().map((e) => [e.method, e.path, e.params])).toEqual([
      [
        "POST",
        "/cluster/backup",
        {
          id: "nightly-node1",
          schedule: "01:30",
          storage: "backup",
          node: "node1",
          pool: "infrastructure",
          mode: "snapshot",
          compress: "zstd",
          "prune-backups": "keep-daily=7,keep-weekly=4",
          enabled: "1",
        },
      ],
    ]);
    expect(fake.contractProblems()).toEqual([]);
  });

  test("a new job beside one that backs up the same guests is refused (backups would run twice), as is an id in use", async () => {
    fake.liveCluster();
    fake.jobs.clear();
    fake.jobs.set("backup-5a1b2c3d-e4f5", {
      schedule: "sun 01:00",
      storage: "backup",
      all: 1,
      mode: "snapshot",
      enabled: 1,
    });
    // node2 holds two infrastructure guests (VM 100, template 8000) the hand-made job backs up already.
    expect(await failure(create(TYPES.backupJob, "nightly-node2", { adopt: false }))).toContain(
      "backup job nightly-node2 (pool infrastructure of node2) would back up guests that backup-5a1b2c3d-e4f5 (all guests -> backup at sun 01:00) (guests 100,8000) already back up, so backups would run twice",
    );
    fake.jobs.clear();
    liveNode3();
    expect(await failure(create(TYPES.backupJob, "nightly-node3", { adopt: false }))).toContain(
      "backup job nightly-node3 exists already: set adopt: true",
    );
    expect(writes()).toEqual([]);
  });

  test("update sends what changed (delete for what is gone); delete removes the job, and a job already gone is fine", async () => {
    liveNode3();
    const live = fake.jobs.get("nightly-node3")!;
    delete live["all"];
    Object.assign(live, { pool: "infrastructure", comment: "made by hand" });
    const base = inputsOf("nightly-node3", TYPES.backupJob, { comment: "made by hand" });
    const { id, properties } = await create(TYPES.backupJob, "nightly-node3", { comment: "made by hand" });
    const next = (
      await pve.host.check(
        urn(TYPES.backupJob, "nightly-node3"),
        base,
        inputsOf("nightly-node3", TYPES.backupJob, { schedule: "04:00" }),
      )
    ).inputs;
    expect(await pve.host.diff(id, urn(TYPES.backupJob, "nightly-node3"), properties, next)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    await pve.host.update(id, urn(TYPES.backupJob, "nightly-node3"), properties, next);
    expect(writes().map((e) => e.params)).toEqual([{ schedule: "04:00", delete: "comment" }]);
    expect(fake.jobs.get("nightly-node3")).toMatchObject({ schedule: "04:00" });
    expect(fake.jobs.get("nightly-node3")!["comment"]).toBeUndefined();

    await pve.host.delete(id, urn(TYPES.backupJob, "nightly-node3"), next);
    expect(fake.jobs.has("nightly-node3")).toBe(false);
    await pve.host.delete(id, urn(TYPES.backupJob, "nightly-node3"), next);
    expect(fake.contractProblems()).toEqual([]);
  });

  test("PVE's refusals arrive with PVE's message: a token without Sys.Modify on / cannot create a job", async () => {
    const asCustomer = {
      adopt: false,
      connection: { endpoint: fake.endpoint, insecure: true, apiToken: `${CUSTOMER}=${SECRET}` },
    };
    expect(await failure(create(TYPES.backupJob, "nightly-node1", asCustomer))).toContain(
      "PVE GET /cluster/backup: 403 Permission check failed (/, Sys.Audit)",
    );
    const wrongSecret = { connection: { endpoint: fake.endpoint, insecure: true, apiToken: `${INFRA}=wrong` } };
    expect(await failure(create(TYPES.backupJob, "nightly-node3", wrongSecret))).toContain("401 invalid token value!");
  });
});

describe("customer backups: one job per container, never beside a job that backs it up already", () => {
  /** The seed's three per-node jobs, as jobs.cfg holds them before the first `pulumi up`. */
  const seedJobs = () => fake.liveCluster();

  test("on the seed's cluster, a customer's job waits for the per-node jobs to be narrowed; then it is created as PVE takes it", async () => {
    seedJobs();
    // Before adoption the seed's jobs back up every guest of their node: nordlicht's job would double them.
    const before = await failure(create(TYPES.backupJob, "nordlicht-backup"));
    expect(before).toContain(
      "backup job customer-1001 (guests 1001) would back up guests that nightly-node3 (all guests of node3 -> backup at 02:30) (guests 1001) and nightly-node1 (all guests of node1 -> backup at 01:30) (guests 1001) and nightly-node2 (all guests of node2 -> backup at 03:30) (guests 1001) already back up",
    );
    expect(writes()).toEqual([]);
    // What `pulumi up` does in order: the per-node jobs first (adopted, narrowed), then the customers'.
    for (const job of ["nightly-node1", "nightly-node2", "nightly-node3"]) await create(TYPES.backupJob, job);
    fake.exchanges.length = 0;
    for (const site of ["acme-bakery", "nordlicht", "studio-kern"]) await create(TYPES.backupJob, `${site}-backup`);
    expect(writes().map((e) => [e.method, e.path, e.params])).toEqual(
      [
        ["customer-1000", "1000", "keep-last=2", "acme-bakery"],
        ["customer-1001", "1001", "keep-last=5", "nordlicht"],
        ["customer-1002", "1002", "keep-last=2", "studio-kern"],
      ].map(([id, vmid, prune, comment]) => [
        "POST",
        "/cluster/backup",
        {
          id,
          schedule: String(pve.plan.find((r) => r.inputs["jobId"] === id)!.inputs["schedule"]),
          storage: "node3-backup",
          vmid,
          mode: "snapshot",
          compress: "zstd",
          "prune-backups": prune,
          enabled: "1",
          comment: `customer ${comment}`,
        },
      ]),
    );
    expect(fake.jobs.get("customer-1001")).toMatchObject({ vmid: "1001", "prune-backups": "keep-last=5" });
    expect(fake.contractProblems()).toEqual([]);
  });

  test("a plan change updates only the retention; a container put into the infrastructure pool would be doubled: refused", async () => {
    seedJobs();
    for (const job of ["nightly-node1", "nightly-node2", "nightly-node3"]) await create(TYPES.backupJob, job);
    const { id, properties } = await create(TYPES.backupJob, "acme-bakery-backup");
    fake.exchanges.length = 0;
    const standard = (
      await pve.host.check(
        urn(TYPES.backupJob, "acme-bakery-backup"),
        properties,
        inputsOf("acme-bakery-backup", TYPES.backupJob, { "prune-backups": { "keep-last": 3 } }),
      )
    ).inputs;
    expect(await pve.host.diff(id, urn(TYPES.backupJob, "acme-bakery-backup"), properties, standard)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    await pve.host.update(id, urn(TYPES.backupJob, "acme-bakery-backup"), properties, standard);
    expect(writes().map((e) => e.params)).toEqual([{ "prune-backups": "keep-last=3" }]);

    // Someone adds CT 1001 to the infrastructure pool by hand: nightly-node1 now backs it up.
    fake.addGuest({ vmid: 1001, type: "lxc", node: "node1", name: "nordlicht", status: "running" }, "infrastructure");
    expect(await failure(create(TYPES.backupJob, "nordlicht-backup"))).toContain(
      "would back up guests that nightly-node1 (pool infrastructure of node1 -> backup at 01:30) (guests 1001) already back up",
    );
    expect(fake.contractProblems()).toEqual([]);
  });

  test("PVE refuses a pool selection without VM.Backup on the pool, and a pool that does not exist", async () => {
    seedJobs();
    fake.jobs.clear();
    fake.pools.set("lab", { vms: new Set(), storage: new Set() });
    try {
      expect(await failure(create(TYPES.backupJob, "nightly-node1", { adopt: false, pool: "lab" }))).toContain(
        "PVE POST /cluster/backup: 403 Permission check failed (/pool/lab, VM.Backup)",
      );
    } finally {
      fake.pools.delete("lab");
    }
    expect(await failure(create(TYPES.backupJob, "nightly-node1", { adopt: false, pool: "nowhere" }))).toContain(
      "PVE POST /cluster/backup: 403 Permission check failed (pool 'nowhere' does not exist)",
    );
    expect(writes().filter((e) => e.status === 200)).toEqual([]);
  });
});
