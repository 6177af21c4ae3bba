/**
 * A customer's restore points (snapshots of its container) and the plan's quota on them. Pure.
 *
 * The plan's `backups` quota bounds both the scheduled backups kept (lib/backups/customerBackupJob.ts)
 * and the restore points a customer may hold besides `initial`, the platform's own one (taken after
 * the install, the seed's "reset"). PVE's own names are never the customer's: `current` (the running
 * state in PVE's list) and `vzdump` (the temporary snapshot of a backup in snapshot mode).
 */
import type { ContainerSnapshot } from "../pve/containers";

/** The restore point taken after the install. */
export const INITIAL_RESTORE_POINT = "initial";
/** Names PVE refuses for a snapshot (pve-container API2/LXC/Snapshot.pm). */
export const PVE_RESERVED_SNAPSHOT_NAMES = ["current", "vzdump"] as const;

/** What a customer's restore-point quota is counted against. */
export interface QuotaHolder {
  slug: string;
  /** The customer file, for messages. */
  file: string;
  plan: string;
  quotas: { backups: number };
}

/** Snapshots a customer sees as restore points: PVE's temporary `vzdump` left out. */
export function restorePoints(snapshots: readonly ContainerSnapshot[]): ContainerSnapshot[] {
  return snapshots.filter((s) => !(PVE_RESERVED_SNAPSHOT_NAMES as readonly string[]).includes(s.name));
}

/** Why PVE or the platform would refuse `name` for a customer's new restore point (undefined: fine). */
export function snapshotNameProblem(name: string): string | undefined {
  if (!/^[a-z][a-z0-9_-]+$/i.test(name))
    return `"${name}" is not a snapshot name PVE takes: a letter, then letters, digits, - and _ (at least 2 characters)`;
  if (name.length > 40) return `"${name}" is longer than PVE's 40 characters for a snapshot name`;
  if ((PVE_RESERVED_SNAPSHOT_NAMES as readonly string[]).includes(name)) return `"${name}" is reserved by PVE`;
  if (name === INITIAL_RESTORE_POINT) return `"${name}" is the platform's restore point after the install`;
  return undefined;
}

/** A name for a restore point taken at `now` (UTC): `r20260501-101500`. */
export function defaultSnapshotName(now: Date): string {
  const iso = now.toISOString();
  return `r${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}

/** Restore points that count against the quota: all but `initial`. */
export function countedRestorePoints(snapshots: readonly ContainerSnapshot[]): ContainerSnapshot[] {
  return restorePoints(snapshots).filter((s) => s.name !== INITIAL_RESTORE_POINT);
}

/**
 * Why a new restore point would go over the customer's quota (undefined: it fits), naming the
 * customer file and the field that sets the quota.
 */
export function restorePointQuotaProblem(
  customer: QuotaHolder,
  snapshots: readonly ContainerSnapshot[],
): { file: string; field: string; message: string } | undefined {
  const counted = countedRestorePoints(snapshots);
  const allowed = customer.quotas.backups;
  if (counted.length < allowed) return undefined;
  return {
    file: customer.file,
    field: "plan",
    message: `the ${customer.plan} plan allows ${allowed} restore point${allowed === 1 ? "" : "s"} besides "${INITIAL_RESTORE_POINT}" (nodepoint:plans.${customer.plan}.backups) and ${customer.slug} has ${counted.length} (${counted.map((s) => s.name).join(", ")}): delete one first (customer delete-snapshot), or move to a bigger plan`,
  };
}
