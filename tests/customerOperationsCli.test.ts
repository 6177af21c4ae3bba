/**
 * `npm run customer -- stop|snapshot|restore ...` as a process (scripts/customerOperations.ts): the
 * customer token from the environment, the fake PVE API with the plan's grants, the operations log.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OperationRecord } from "../lib/operations/customerOperations";
import { FIXTURE_CUSTOMERS, offlinePlan, ROOT } from "./helpers/offlinePlan";
import { useFakePve } from "./pve/fakePveServer";
import { emptyAccessState } from "./pve/permissionModel";
import { accessStateOf } from "./pve/planAccess";

const CUSTOMER = "pulumi-customers@pve!iac";
const SECRET = "3b5d7f9a-1c2e-4a6b-8d0f-2e4c6a8b0d1f";
const access = emptyAccessState();
const fake = useFakePve({ tokens: { [CUSTOMER]: SECRET }, access });

beforeAll(async () => {
  Object.assign(access, accessStateOf((await offlinePlan()).resources));
}, 0);
beforeEach(() => {
  fake.liveCluster();
  fake
    .addGuest({ vmid: 1002, type: "lxc", node: "node1", name: "studio-kern", status: "running" }, "customers")
    .snapshots.set("initial", { description: "WordPress as installed", snaptime: 1_780_000_000 });
});

describe("the customer CLI", () => {
  it("runs an operation with the customer token from the environment and appends its records to the log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ops-log-"));
    try {
      const log = join(dir, "ops.jsonl");
      // Asynchronously: the fake PVE answers from this process.
      const cli = (...args: string[]) =>
        new Promise<{ status: number; stdout: string; stderr: string }>((done) =>
          execFile(
            process.execPath,
            [
              join(ROOT, "node_modules/tsx/dist/cli.mjs"),
              "scripts/customer.ts",
              ...args,
              "--customers",
              FIXTURE_CUSTOMERS,
              "--endpoint",
              fake.endpoint,
              "--log",
              log,
              "--actor",
              "support:bob",
            ],
            { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODEPOINT_CUSTOMER_TOKEN: `${CUSTOMER}=${SECRET}` } },
            (err, stdout, stderr) => done({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
          ),
        );
      const stop = await cli("stop", "studio-kern");
      expect(stop.stderr).toBe("");
      expect(stop.status).toBe(0);
      expect(stop.stdout).toContain("done    stop studio-kern (CT 1002 on node1): CT 1002 is stopped");
      const refused = await cli("snapshot", "studio-kern", "--name", "initial");
      expect(refused.status).toBe(1);
      const usage = await cli("restore", "studio-kern");
      expect(usage.status).toBe(2);
      expect(usage.stderr).toContain("restore needs the restore point's name");
      const lines = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as OperationRecord);
      expect(lines.map((l) => [l.actor, l.customer, l.action, l.outcome])).toEqual([
        ["support:bob", "studio-kern", "stop", "started"],
        ["support:bob", "studio-kern", "stop", "done"],
        ["support:bob", "studio-kern", "snapshot", "refused"],
      ]);
      expect(readFileSync(log, "utf8")).not.toContain(SECRET);
      expect(stop.stdout + stop.stderr).not.toContain(SECRET);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
