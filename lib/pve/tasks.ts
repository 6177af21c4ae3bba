/**
 * PVE's worker tasks. A call that changes a guest (start, stop, snapshot, rollback, ...) answers at
 * once with the task's UPID (`UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`); the work
 * runs on the node in the UPID, and `GET /nodes/{node}/tasks/{upid}/status` tells when it stopped and
 * how (`exitstatus`: `OK`, `WARNINGS: <n>`, or the error). A token reads its own tasks without any
 * privilege (pve-manager PVE/API2/Tasks.pm: the task's owner, else Sys.Audit on /nodes/<node>).
 */
import type { PveClient } from "./client";

export interface TaskWaitOptions {
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Between two looks (default 1 s). */
  pollMs?: number;
  /** How to wait (tests pass one that does not). */
  sleep?: (ms: number) => Promise<void>;
  /** The clock (default Date.now). */
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The node a task runs on, from its UPID. */
export function upidNode(upid: string): string {
  const m = /^UPID:([^:]+):/.exec(upid);
  if (!m) throw new Error(`not a PVE task id: ${upid}`);
  return m[1]!;
}

/** How a stopped task ended: `ok` (`OK` or `WARNINGS: n`), or the failure PVE recorded. */
export function taskOutcome(
  exitstatus: string | undefined,
): { ok: true; warnings?: string } | { ok: false; error: string } {
  if (exitstatus === "OK") return { ok: true };
  if (exitstatus && /^WARNINGS: \d+$/.test(exitstatus)) return { ok: true, warnings: exitstatus };
  return { ok: false, error: exitstatus || "ended without an exit status" };
}

/**
 * Waits until the task stops; fails with PVE's exit status when it did not succeed, or when it still
 * runs after the timeout (the task keeps running in PVE: its log on the node says how it ends).
 */
export async function waitForTask(
  client: PveClient,
  upid: string,
  what: string,
  options: TaskWaitOptions = {},
): Promise<{ warnings?: string }> {
  const node = upidNode(upid);
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const started = now();
  for (;;) {
    const status = await client.get<{ status: string; exitstatus?: string }>(
      `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}/status`,
    );
    if (status.status === "stopped") {
      const outcome = taskOutcome(status.exitstatus);
      if (!outcome.ok) throw new Error(`${what} failed: ${outcome.error} (PVE task ${upid})`);
      return outcome.warnings ? { warnings: outcome.warnings } : {};
    }
    if (now() - started >= timeoutMs)
      throw new Error(
        `${what}: PVE task ${upid} still runs after ${Math.round(timeoutMs / 1000)} s; it goes on in PVE (its log on ${node} says how it ends)`,
      );
    await sleep(options.pollMs ?? 1000);
  }
}
