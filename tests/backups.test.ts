/**
 * Every customer container in a scheduled backup whose retention is its plan's quota, to node3's pool
 * (lib/backups/customerBackupJob.ts, declared by components/WordPressSite.ts), and no other job backing
 * the same containers up (the per-node jobs select the infrastructure pool; lib/config/validateTopology.ts).
 * The provider's side (selection, overlap refusal, adoption narrowing) runs against the fake PVE in
 * tests/pve/pveResources.test.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { customerBackupJob, spreadStart, spreadStride } from "../lib/backups/customerBackupJob";
import { validateTopology } from "../lib/config/validateTopology";
import { stackConfigSchema, type StackConfig } from "../lib/config/schema";
import { stackConfigOf } from "../lib/config/stacks";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { TYPES } from "../lib/providerFacts";
import { offlinePlan, scratchCustomers, stackValue } from "./helpers/offlinePlan";

const window = { start: "00:00", minutes: 300 };
const settings = { storage: "node3-backup", window, mode: "snapshot", compress: "zstd" } as const;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

describe("a customer's backup job (pure)", () => {
  it("keeps the last N archives, N the plan's backups quota, of that container alone, to the customer target", () => {
    for (const [plan, backups] of [
      ["basic", 2],
      ["standard", 3],
      ["premium", 5],
    ] as const) {
      const job = customerBackupJob(
        { slug: "shop", vmid: 1234, plan, quotas: { backups, customDomains: 3 } },
        settings,
      );
      expect(job).toMatchObject({
        id: "customer-1234",
        vmid: 1234,
        storage: "node3-backup",
        keep: { "keep-last": backups },
        mode: "snapshot",
        compress: "zstd",
        comment: "customer shop",
      });
    }
  });

  it("starts inside the window, the same minute on every run, and N consecutive VMIDs at N different minutes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 1440 }),
        fc.integer({ min: 100, max: 999_999_999 }),
        (h, m, minutes, first) => {
          const start = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
          const w = { start, minutes };
          const at = spreadStart(w, first);
          expect(at).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
          expect(spreadStart(w, first)).toBe(at);
          const offset = (minutesOf(at) - minutesOf(start) + 1440) % 1440;
          expect(offset).toBeLessThan(minutes);
          const n = Math.min(minutes, 50);
          const starts = new Set(Array.from({ length: n }, (_, i) => spreadStart(w, first + i)));
          expect(starts.size).toBe(n);
        },
      ),
    );
  });

  it("puts consecutive VMIDs far apart in the window (each vzdump waits for the one before on its node)", () => {
    expect(spreadStride(300)).toBeGreaterThan(60);
    const gaps = [1000, 1001, 1002, 1003].map((v) => minutesOf(spreadStart(window, v)));
    for (let i = 1; i < gaps.length; i++) {
      const d = Math.abs(gaps[i]! - gaps[i - 1]!);
      expect(Math.min(d, 300 - d)).toBeGreaterThanOrEqual(60);
    }
  });

  it("a plan's backups quota is at least 1: every customer container is backed up", () => {
    const plans = stackValue<Record<string, unknown>>("plans");
    const parsed = stackConfigSchema.shape.plans.safeParse({
      ...plans,
      none: { cores: 1, memoryMiB: 512, diskGiB: 8, ha: false, backups: 0, customDomains: 0 },
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("every customer container is backed up");
  });
});

describe("no job backs up a customer container twice (stack config)", () => {
  const config = (): StackConfig => stackConfigOf("prod");

  it("prod as committed passes", () => {
    expect(validateTopology(config(), "Pulumi.prod.yaml")).toEqual([]);
  });

  it("a job of every guest of a node where customers live is refused, naming the key; one on node3 only is fine", () => {
    const c = config();
    c.backupJobs = c.backupJobs.map((j) => (j.id === "nightly-node1" ? { ...j, pool: undefined } : j));
    expect(validateTopology(c, "Pulumi.prod.yaml")).toEqual([
      {
        file: "Pulumi.prod.yaml",
        field: "nodepoint:backupJobs[1].pool",
        message:
          "job nightly-node1 backs up every guest of node1, where customer containers live and have backup jobs of their own (customerBackups): backups would run twice; select the infrastructure guests (pool: infrastructure)",
      },
    ]);
    const onlyNode3 = config();
    onlyNode3.backupJobs = onlyNode3.backupJobs.map((j) => (j.id === "nightly-node3" ? { ...j, pool: undefined } : j));
    expect(validateTopology(onlyNode3, "Pulumi.prod.yaml")).toEqual([]);
  });

  it("a job of the customer pool, or a customer target missing on a customer node, is refused", () => {
    const c = config();
    c.backupJobs = [{ ...c.backupJobs[0]!, pool: "customers" }];
    c.customerBackups = { ...c.customerBackups, storage: "backup" };
    c.storage = c.storage.map((s) => (s.id === "backup" ? { ...s, nodes: ["node1", "node3"] } : s));
    const problems = validateTopology(c, "Pulumi.prod.yaml").map((p) => `${p.field}: ${p.message}`);
    expect(problems).toContain(
      'nodepoint:backupJobs[0].pool: "customers" is the customer pool: customer containers are backed up by their own jobs (customerBackups), so backups would run twice',
    );
    expect(problems).toContain(
      'nodepoint:customerBackups.storage: storage "backup" is not available on node2, where customer containers live (only on node1, node3)',
    );
  });
});

describe("the plan: one backup job per customer container, with its plan's retention", () => {
  let plan: OfflineRunResult;
  const jobs = (resources: readonly RecordedResource[]) => resources.filter((r) => r.type === TYPES.backupJob);
  beforeAll(async () => {
    plan = await offlinePlan();
  });

  it("each customer container is selected by exactly one job, by its VMID, keeping its plan's quota, on node3's pool", () => {
    const plans = stackValue<Record<string, { backups: number }>>("plans");
    const cts = plan.resources.filter((r) => r.type === TYPES.container && r.inputs["poolId"] === "customers");
    expect(cts.length).toBe(3);
    for (const ct of cts) {
      const vmid = Number(ct.inputs["vmId"]);
      const selecting = jobs(plan.resources).filter((j) => j.inputs["vmid"] === String(vmid));
      expect(selecting, ct.name).toHaveLength(1);
      const job = selecting[0]!;
      const planName = /, (\w+) plan\./.exec(String(ct.inputs["description"]))![1]!;
      expect(job.inputs).toMatchObject({
        jobId: `customer-${vmid}`,
        storage: "node3-backup",
        "prune-backups": { "keep-last": plans[planName]!.backups },
        enabled: true,
        adopt: false,
      });
      expect(job.inputs["node"], "no node: the job follows the container wherever HA moves it").toBeUndefined();
      expect(job.parent).toBe(ct.parent);
      expect(job.options.dependsOn).toEqual(expect.arrayContaining([ct.urn]));
    }
  });

  it("the per-node jobs select the infrastructure pool, and every customer job waits for them (narrowed first)", () => {
    const infra = jobs(plan.resources).filter((j) => String(j.inputs["jobId"]).startsWith("nightly-"));
    expect(infra.map((j) => [j.inputs["jobId"], j.inputs["pool"], j.inputs["vmid"]]).sort()).toEqual([
      ["nightly-node1", "infrastructure", undefined],
      ["nightly-node2", "infrastructure", undefined],
      ["nightly-node3", "infrastructure", undefined],
    ]);
    for (const j of jobs(plan.resources).filter((x) => String(x.inputs["jobId"]).startsWith("customer-"))) {
      // The per-node jobs (which wait for the token's grants and the storage checks) and the container: a
      // few URNs in each customer's state, not every child of the components.
      expect([...j.options.dependsOn].sort()).toEqual(
        [
          ...infra.map((x) => x.urn),
          plan.resources.find((r) => r.name === j.name.replace("-backup", "-ct"))!.urn,
        ].sort(),
      );
      const storageCheck = plan.resources.find((r) => r.type === TYPES.storage && r.name === "storage-node3-backup")!;
      for (const n of infra) expect(n.options.dependsOn).toContain(storageCheck.urn);
    }
  });

  it("a plan change changes the retention of that customer's job only; decommissioning drops the job", async () => {
    const scratch = scratchCustomers();
    try {
      const file = join(scratch.dir, "acme-bakery.yaml");
      writeFileSync(file, readFileSync(file, "utf8").replace("plan: basic", "plan: standard"));
      const kern = join(scratch.dir, "studio-kern.yaml");
      writeFileSync(kern, readFileSync(kern, "utf8").replace("state: active", "state: decommissioned"));
      const changed = await offlinePlan({ customersDir: scratch.dir });
      const before = new Map(jobs(plan.resources).map((j) => [j.urn, j.inputs]));
      const after = new Map(jobs(changed.resources).map((j) => [j.urn, j.inputs]));
      const differing = [...after].filter(([urn, i]) => JSON.stringify(before.get(urn)) !== JSON.stringify(i));
      expect(differing.map(([urn, i]) => [urn.split("::").pop(), i["prune-backups"]])).toEqual([
        ["acme-bakery-backup", { "keep-last": 3 }],
      ]);
      expect([...before.keys()].filter((u) => !after.has(u)).map((u) => u.split("::").pop())).toEqual([
        "studio-kern-backup",
      ]);
    } finally {
      scratch.cleanup();
    }
  });
});
