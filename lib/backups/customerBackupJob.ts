/**
 * The scheduled backup of one customer container, from its plan and the stack's `customerBackups`:
 * a vzdump job of that container alone, keeping the last N archives where N is the plan's `backups`
 * quota, to the customer backup target (node3's pool). Pure.
 *
 * One job per customer rather than one per plan: a plan's job would list its containers' VMIDs, a
 * value shared by every customer on the plan, so adding, moving or removing one customer would
 * rewrite what backs up all the others (and put every one-customer change into a shared resource).
 * Each customer's job changes only with that customer. PVE runs one vzdump at a time per node and
 * makes the others wait for its lock, giving up after `lockwait` (180 minutes by default; pve-manager
 * PVE/VZDump.pm getlock), so the jobs do not all start at once: each starts at its own minute of the
 * nightly window, spread by VMID (`spreadStart`).
 */
import type { CustomerBackupsConfig } from "../config/schema";
import type { Customer } from "../customers/schema";

/** What a customer's backup job is, in PveBackupJob's terms. */
export interface CustomerBackupJob {
  /** PVE job id (`pve-configid`, at most 50 characters): `customer-<vmid>`. */
  id: string;
  /** The calendar event: a time of day inside the window. */
  schedule: string;
  storage: string;
  /** The one guest it backs up. */
  vmid: number;
  mode: CustomerBackupsConfig["mode"];
  compress: CustomerBackupsConfig["compress"];
  /** Retention: the last N archives, N the plan's `backups` quota. */
  keep: { "keep-last": number };
  /** Shown in PVE's job list: whose container (PVE's list shows the retention beside it). */
  comment: string;
}

const MINUTES_PER_DAY = 24 * 60;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The step between the start minutes of consecutive VMIDs: near the golden section of the window and
 * coprime with its length, so consecutive VMIDs start far apart and the first `minutes` VMIDs in a row
 * all start at different minutes.
 */
export function spreadStride(minutes: number): number {
  if (minutes <= 2) return 1;
  const ideal = Math.round(minutes * 0.381966);
  for (let d = 0; d < minutes; d++)
    for (const s of [ideal + d, ideal - d]) if (s >= 1 && s < minutes && gcd(s, minutes) === 1) return s;
  return 1;
}

/** The time of day (`HH:MM`) the backup of `vmid` starts: the window's start plus the VMID's offset in it. */
export function spreadStart(window: CustomerBackupsConfig["window"], vmid: number): string {
  const [h, m] = window.start.split(":").map(Number) as [number, number];
  const offset = (vmid * spreadStride(window.minutes)) % window.minutes;
  const at = (h * 60 + m + offset) % MINUTES_PER_DAY;
  return `${String(Math.floor(at / 60)).padStart(2, "0")}:${String(at % 60).padStart(2, "0")}`;
}

/** The job id of a customer container's backup. */
export const customerBackupJobId = (vmid: number): string => `customer-${vmid}`;

/** The scheduled backup of a customer's container. */
export function customerBackupJob(
  customer: Pick<Customer, "slug" | "vmid" | "plan" | "quotas">,
  settings: CustomerBackupsConfig,
): CustomerBackupJob {
  const keep = customer.quotas.backups;
  return {
    id: customerBackupJobId(customer.vmid),
    schedule: spreadStart(settings.window, customer.vmid),
    storage: settings.storage,
    vmid: customer.vmid,
    mode: settings.mode,
    compress: settings.compress,
    keep: { "keep-last": keep },
    comment: `customer ${customer.slug}`,
  };
}
