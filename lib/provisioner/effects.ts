/**
 * What one billing event does to a set of customer files, decided with the same functions as the
 * `customer` CLI (lib/customers/customerChanges.ts). Pure. The ledger replays events with it to know
 * the customer files as they will be; the applier uses it to change the files on the branch.
 *
 * Every effect is idempotent on its own result: a create whose service id already has a file, a
 * suspend of a suspended site, a removal of a removed file do nothing. So an event applied twice
 * (a crash between push and journal) changes nothing the second time.
 */
import {
  changeCustomerPlan,
  createFromOrder,
  customerOfService,
  decommissionCustomer,
  removeCustomer,
  suspendCustomer,
  unsuspendCustomer,
  type CustomerSet,
  type FileChange,
} from "../customers/customerChanges";
import type { StackConfig } from "../config/schema";
import type { ParsedCustomerFile } from "../customers/loadCustomers";
import type { RetiredEntry } from "../customers/retired";
import type { CustomerFile } from "../customers/schema";
import { validateCustomers } from "../customers/validateCustomers";
import type { InputProblem } from "../errors";
import type { BillingEvent } from "./events";

export type Effect =
  | {
      kind: "write";
      slug: string;
      file: string;
      data: CustomerFile;
      /** A new file (create-site). */
      created: boolean;
      /** The create's decided site collided with a change made meanwhile and was planned anew. */
      reallocated?: boolean;
    }
  | {
      kind: "remove";
      slug: string;
      file: string;
      /** The entry retiring its VMID and IP (`nodepoint:customerPools.retired`), written in the same change. */
      retire: RetiredEntry;
    }
  | { kind: "none"; note: string }
  | { kind: "refused"; note: string };

export interface EffectOptions {
  /** DNS zone of new sites, the collision suffix and other stacks' domains (for a create planned anew). */
  zone: string;
  suffix: () => string;
  takenElsewhere?: ReadonlySet<string>;
  /**
   * Check a create's decided site against every rule (capacity included) rather than only against
   * names, VMIDs and IPs in use. The applier checks fully; the ledger's replay checks cheaply (the
   * site was fully checked when it was decided).
   */
  fullCheck: boolean;
}

const problemText = (problems: readonly InputProblem[]): string =>
  problems.map((p) => `${p.file}: ${p.field}: ${p.message}`).join("; ");

/** The effect of `event` on `set`. */
export function effectOf(set: CustomerSet, event: BillingEvent, options: EffectOptions): Effect {
  const files = set.files;
  if (event.kind === "create-site") {
    const existing = customerOfService(files, event.serviceId);
    if (existing) return { kind: "none", note: `service ${event.serviceId} already has ${existing.file}` };
    if (siteFits(set, event, options.fullCheck))
      return { kind: "write", slug: event.slug, file: event.file, data: event.data, created: true };
    const again = createFromOrder(
      set,
      { serviceId: event.serviceId, email: event.email, plan: event.plan },
      {
        zone: options.zone,
        suffix: options.suffix,
        ...(options.takenElsewhere ? { takenElsewhere: options.takenElsewhere } : {}),
      },
    );
    if (!again.ok) return { kind: "refused", note: problemText(again.problems) };
    return { kind: "write", slug: again.slug, file: again.file, data: again.data, created: true, reallocated: true };
  }

  const customer = customerOfService(files, event.serviceId);
  if (event.kind === "remove-site") {
    if (!customer) return { kind: "none", note: `service ${event.serviceId} has no file any more` };
    const r = removeCustomer(customer);
    return r.ok ? { kind: "remove", slug: customer.slug, file: customer.file, retire: r.retire } : refused(r);
  }
  if (!customer) return { kind: "refused", note: `service ${event.serviceId} has no customer file` };
  let change: FileChange;
  switch (event.kind) {
    case "suspend":
      change = suspendCustomer(customer);
      break;
    case "unsuspend":
      change = unsuspendCustomer(customer);
      break;
    case "delete-site":
      change = decommissionCustomer(customer);
      break;
    case "upgrade":
      change = changeCustomerPlan(set, customer, event.plan);
      break;
  }
  if (!change.ok) return refused(change);
  if (!change.data) return { kind: "none", note: `${customer.file} is already ${describeState(customer)}` };
  return { kind: "write", slug: customer.slug, file: customer.file, data: change.data, created: false };
}

function refused(r: { problems: InputProblem[] }): Effect {
  return { kind: "refused", note: problemText(r.problems) };
}

function describeState(c: ParsedCustomerFile): string {
  return `${c.data.state}${c.data.plan ? `, plan ${c.data.plan}` : ""}`;
}

/** Whether a create's decided site can still be written as decided. */
function siteFits(set: CustomerSet, event: Extract<BillingEvent, { kind: "create-site" }>, full: boolean): boolean {
  const taken = set.files.some(
    (f) =>
      f.slug === event.slug ||
      f.data.domain.toLowerCase() === event.data.domain.toLowerCase() ||
      f.data.vmid === event.data.vmid ||
      f.data.ip === event.data.ip,
  );
  if (taken) return false;
  if (!full) return true;
  const before = validateCustomers(set.config, set.topology, set.files).problems.length;
  const after = validateCustomers(set.config, set.topology, [
    ...set.files,
    { slug: event.slug, file: event.file, data: event.data },
  ]).problems.length;
  return after <= before;
}

/** The files after an effect. */
export function withEffect(files: readonly ParsedCustomerFile[], effect: Effect): ParsedCustomerFile[] {
  if (effect.kind === "write") {
    const entry: ParsedCustomerFile = { slug: effect.slug, file: effect.file, data: effect.data };
    const i = files.findIndex((f) => f.slug === effect.slug);
    if (i < 0) return [...files, entry];
    const out = [...files];
    out[i] = entry;
    return out;
  }
  if (effect.kind === "remove") return files.filter((f) => f.slug !== effect.slug);
  return [...files];
}

/** The stack config after an effect: a removal retires its VMID and IP (never handed out again). */
export function configWithEffect(config: StackConfig, effect: Effect): StackConfig {
  if (effect.kind !== "remove") return config;
  return {
    ...config,
    customerPools: { ...config.customerPools, retired: [...config.customerPools.retired, effect.retire] },
  };
}
