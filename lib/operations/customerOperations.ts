/**
 * Operations on one customer's container, run now through the PVE API with the customer token:
 * start, stop, restart, take a restore point (snapshot), restore one (rollback), delete one, list
 * them. Imperative by nature, so not desired state: the `customer` CLI (scripts/customerOperations.ts)
 * and the provisioning service call `runCustomerOperation` with a client and a record sink of their
 * own.
 *
 * Every operation:
 * - acts only on the customer's own container: the one the customer token lists with the file's
 *   VMID and the customer's slug as host name (lib/pve/containers.ts); another customer's, or an
 *   infrastructure guest, is refused before anything is sent;
 * - respects the file's state: a suspended site is not started (unsuspending it is a change of the
 *   file), a decommissioned one is left alone;
 * - respects the plan's quota of restore points (lib/operations/restorePoints.ts);
 * - waits for PVE's task, and for an HA-managed container, whose start and stop PVE only hands to
 *   the HA manager (pve-container API2/LXC/Status.pm), for the state it asked for;
 * - is recorded: a `started` record before the first change, then `done`, `refused` or `failed`,
 *   each with who, which customer and container, what, and PVE's task ids.
 *
 * A stop is not desired state: an active site stopped is drift (`pulumi preview --refresh` reports it,
 * `pulumi up --refresh` starts it again); suspend it to keep it stopped. A restore stops a running
 * container through the API first (HA-aware), rolls back, then starts it again; rollback's own stop
 * (vm_stop in pve-container's __snapshot_rollback_vm_stop) bypasses the HA manager, which still wants
 * the container started.
 */
import type { PveClient } from "../pve/client";
import {
  containerPath,
  containerSnapshots,
  containerStatus,
  listedGuest,
  notTheCustomersContainer,
  type ContainerSnapshot,
  type ListedGuest,
} from "../pve/containers";
import { waitForTask, type TaskWaitOptions } from "../pve/tasks";
import {
  countedRestorePoints,
  defaultSnapshotName,
  INITIAL_RESTORE_POINT,
  restorePointQuotaProblem,
  restorePoints,
  snapshotNameProblem,
  type QuotaHolder,
} from "./restorePoints";

export const CUSTOMER_OPERATIONS = [
  "start",
  "stop",
  "restart",
  "snapshot",
  "restore",
  "delete-snapshot",
  "snapshots",
] as const;
export type CustomerOperation = (typeof CUSTOMER_OPERATIONS)[number];

export type OperationRequest =
  | { action: "start" | "stop" | "restart" | "snapshots" }
  | { action: "snapshot"; name?: string; description?: string }
  | { action: "restore" | "delete-snapshot"; snapshot: string };

/** The customer an operation is for, from its file and its plan. */
export interface OperationTarget extends QuotaHolder {
  vmid: number;
  state: "active" | "suspended" | "decommissioned";
}

export type Outcome = "started" | "done" | "refused" | "failed";

/** One line of the operations log. */
export interface OperationRecord {
  time: string;
  /** Who asked (a person's name, or the provisioning service). */
  actor: string;
  customer: string;
  file: string;
  vmid: number;
  /** The node the container was found on. */
  node?: string;
  action: CustomerOperation;
  snapshot?: string;
  outcome: Outcome;
  message: string;
  /** PVE's task ids (UPIDs), for the task logs on the node. */
  tasks?: string[];
}

export interface OperationContext {
  /** A client with the customer token (lib/pve/client.ts). */
  client: PveClient;
  actor: string;
  /** Where records go (a log file, the service's log). */
  record: (r: OperationRecord) => void | Promise<void>;
  now?: () => Date;
  /** How PVE's tasks, and the power state after one, are waited for. */
  wait?: TaskWaitOptions;
}

export interface OperationResult {
  outcome: Exclude<Outcome, "started">;
  message: string;
  node?: string;
  /** Restore points after the operation (`snapshots`, `snapshot`, `delete-snapshot`). */
  restorePoints?: ContainerSnapshot[];
  /** What refused it, when a file's field did (the state, the plan's quota). */
  problem?: { file: string; field: string; message: string };
  tasks: string[];
}

/** Why the file's state forbids the operation (undefined: allowed). Pure. */
export function stateRefusal(
  target: OperationTarget,
  action: CustomerOperation,
): { file: string; field: string; message: string } | undefined {
  const refuse = (message: string) => ({ file: target.file, field: "state", message });
  if (target.state === "decommissioned" && action !== "snapshots")
    return refuse(`${target.slug} is decommissioned: its container stays stopped until it is removed`);
  if (target.state === "suspended" && (action === "start" || action === "restart"))
    return refuse(`${target.slug} is suspended: unsuspend it (customer unsuspend, then deploy) to start it`);
  return undefined;
}

const sleepFor = (ctx: OperationContext) =>
  ctx.wait?.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

/** Waits until the container's power state is `want` (an HA start or stop is carried out after its task). */
async function waitForPower(ctx: OperationContext, node: string, vmid: number, want: string): Promise<void> {
  const now = ctx.wait?.now ?? Date.now;
  const timeoutMs = ctx.wait?.timeoutMs ?? 600_000;
  const started = now();
  for (;;) {
    const status = await containerStatus(ctx.client, node, vmid);
    if (status === want) return;
    if (now() - started >= timeoutMs)
      throw new Error(`CT ${vmid} is still ${status} after ${Math.round(timeoutMs / 1000)} s (asked: ${want})`);
    await sleepFor(ctx)(ctx.wait?.pollMs ?? 1000);
  }
}

/** Runs one operation for one customer; never throws for PVE's or the platform's refusals (see `outcome`). */
export async function runCustomerOperation(
  target: OperationTarget,
  request: OperationRequest,
  ctx: OperationContext,
): Promise<OperationResult> {
  const now = ctx.now ?? (() => new Date());
  const tasks: string[] = [];
  const snapshotName =
    request.action === "snapshot"
      ? (request.name ?? defaultSnapshotName(now()))
      : request.action === "restore" || request.action === "delete-snapshot"
        ? request.snapshot
        : undefined;
  let node: string | undefined;
  const record = async (outcome: Outcome, message: string) =>
    ctx.record({
      time: now().toISOString(),
      actor: ctx.actor,
      customer: target.slug,
      file: target.file,
      vmid: target.vmid,
      ...(node ? { node } : {}),
      action: request.action,
      ...(snapshotName !== undefined ? { snapshot: snapshotName } : {}),
      outcome,
      message,
      ...(tasks.length > 0 ? { tasks: [...tasks] } : {}),
    });
  const finish = async (
    outcome: OperationResult["outcome"],
    message: string,
    extra: Partial<OperationResult> = {},
  ): Promise<OperationResult> => {
    await record(outcome, message);
    return { outcome, message, ...(node ? { node } : {}), tasks, ...extra };
  };
  const refuse = (problem: { file: string; field: string; message: string }) =>
    finish("refused", `${problem.file}: ${problem.field}: ${problem.message}`, { problem });

  const byState = stateRefusal(target, request.action);
  if (byState) return refuse(byState);
  if (request.action === "snapshot") {
    const bad = snapshotNameProblem(snapshotName!);
    if (bad) return finish("refused", `snapshot name: ${bad}`);
  }

  let ct: ListedGuest;
  try {
    const listed = await listedGuest(ctx.client, target.vmid);
    const notOurs = notTheCustomersContainer(target, listed);
    if (notOurs) return refuse({ file: target.file, field: "vmid", message: `${notOurs}: refused` });
    ct = listed!;
    node = ct.node;
  } catch (err) {
    return finish("failed", (err as Error).message);
  }

  const path = containerPath(ct.node, target.vmid);
  const task = async (upid: string, what: string) => {
    tasks.push(upid);
    await waitForTask(ctx.client, upid, what, ctx.wait);
  };
  const start = async () => {
    await task(await ctx.client.post<string>(`${path}/status/start`, {}), `starting CT ${target.vmid}`);
    await waitForPower(ctx, ct.node, target.vmid, "running");
  };
  const stop = async () => {
    // A clean shutdown (MariaDB flushes), then a hard stop if it takes over a minute.
    await task(
      await ctx.client.post<string>(`${path}/status/shutdown`, { timeout: 60, forceStop: true }),
      `stopping CT ${target.vmid}`,
    );
    await waitForPower(ctx, ct.node, target.vmid, "stopped");
  };

  try {
    switch (request.action) {
      case "snapshots": {
        const points = restorePoints(await containerSnapshots(ctx.client, ct.node, target.vmid));
        const counted = countedRestorePoints(points).length;
        return finish(
          "done",
          `${points.length} restore point${points.length === 1 ? "" : "s"} (${counted} of ${target.quotas.backups} the ${target.plan} plan allows besides "${INITIAL_RESTORE_POINT}")`,
          { restorePoints: points },
        );
      }
      case "start": {
        if (ct.status === "running") return finish("done", `CT ${target.vmid} is already running`);
        await record("started", `starting CT ${target.vmid} on ${ct.node}`);
        await start();
        return finish("done", `CT ${target.vmid} is running`);
      }
      case "stop": {
        if (ct.status === "stopped") return finish("done", `CT ${target.vmid} is already stopped`);
        await record("started", `stopping CT ${target.vmid} on ${ct.node}`);
        await stop();
        return finish(
          "done",
          `CT ${target.vmid} is stopped${target.state === "active" ? " (an active site: the drift check reports it, pulumi up --refresh starts it again; suspend the customer to keep it stopped)" : ""}`,
        );
      }
      case "restart": {
        if (ct.status !== "running")
          return finish("refused", `CT ${target.vmid} is ${ct.status}: start it instead (customer start)`);
        await record("started", `restarting CT ${target.vmid} on ${ct.node}`);
        await task(await ctx.client.post<string>(`${path}/status/reboot`, {}), `restarting CT ${target.vmid}`);
        await waitForPower(ctx, ct.node, target.vmid, "running");
        return finish("done", `CT ${target.vmid} restarted`);
      }
      case "snapshot": {
        const existing = await containerSnapshots(ctx.client, ct.node, target.vmid);
        if (existing.some((s) => s.name === snapshotName))
          return finish("refused", `CT ${target.vmid} already has a restore point "${snapshotName}"`);
        const overQuota = restorePointQuotaProblem(target, existing);
        if (overQuota) return refuse(overQuota);
        await record("started", `taking restore point ${snapshotName} of CT ${target.vmid}`);
        await task(
          await ctx.client.post<string>(`${path}/snapshot`, {
            snapname: snapshotName,
            description: request.description ?? `taken by ${ctx.actor} (customer ${target.slug})`,
          }),
          `restore point ${snapshotName!} of CT ${target.vmid}`,
        );
        return finish("done", `restore point ${snapshotName} taken`, {
          restorePoints: restorePoints(await containerSnapshots(ctx.client, ct.node, target.vmid)),
        });
      }
      case "restore": {
        const points = restorePoints(await containerSnapshots(ctx.client, ct.node, target.vmid));
        if (!points.some((s) => s.name === snapshotName))
          return finish(
            "refused",
            `CT ${target.vmid} has no restore point "${snapshotName}" (it has: ${points.map((s) => s.name).join(", ") || "none"})`,
          );
        const wasRunning = ct.status === "running";
        await record(
          "started",
          `restoring CT ${target.vmid} to ${snapshotName}${wasRunning ? " (stopping it first)" : ""}`,
        );
        if (wasRunning) await stop();
        try {
          await task(
            await ctx.client.post<string>(`${path}/snapshot/${encodeURIComponent(snapshotName!)}/rollback`, {}),
            `restoring CT ${target.vmid} to ${snapshotName}`,
          );
        } catch (err) {
          if (wasRunning) await start().catch(() => undefined);
          throw err;
        }
        if (wasRunning && target.state === "active") await start();
        return finish("done", `CT ${target.vmid} restored to ${snapshotName}${wasRunning ? " and running" : ""}`);
      }
      case "delete-snapshot": {
        if (snapshotName === INITIAL_RESTORE_POINT)
          return finish(
            "refused",
            `"${INITIAL_RESTORE_POINT}" is the site's restore point after the install: it is kept (restore to it instead)`,
          );
        const points = restorePoints(await containerSnapshots(ctx.client, ct.node, target.vmid));
        if (!points.some((s) => s.name === snapshotName))
          return finish(
            "refused",
            `CT ${target.vmid} has no restore point "${snapshotName}" (it has: ${points.map((s) => s.name).join(", ") || "none"})`,
          );
        await record("started", `deleting restore point ${snapshotName} of CT ${target.vmid}`);
        await task(
          await ctx.client.delete<string>(`${path}/snapshot/${encodeURIComponent(snapshotName!)}`),
          `deleting restore point ${snapshotName} of CT ${target.vmid}`,
        );
        return finish("done", `restore point ${snapshotName} deleted`, {
          restorePoints: restorePoints(await containerSnapshots(ctx.client, ct.node, target.vmid)),
        });
      }
    }
  } catch (err) {
    return finish("failed", (err as Error).message);
  }
}
