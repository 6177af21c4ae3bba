/**
 * The changes a customer's life brings to its file, as pure decisions on parsed customer files:
 * create from a billing order, suspend, unsuspend, change plan, decommission, remove. The `customer`
 * CLI and the provisioner (billing events) both use these, so a change means the same whoever makes
 * it. No I/O: callers read the files, call one of these, then write what it returns
 * (`customerFileText` for a new file, `editCustomerText` to change an existing one keeping its
 * comments).
 */
import { posix } from "node:path";
import { parseDocument, stringify } from "yaml";
import type { StackConfig } from "../config/schema";
import type { Topology } from "../config/topology";
import type { InputProblem } from "../errors";
import { planNewCustomer } from "./addCustomer";
import { retirementOf, type RetiredEntry } from "./retired";
import type { ParsedCustomerFile } from "./loadCustomers";
import type { CustomerFile } from "./schema";
import { subdomainFromEmail } from "./subdomain";
import { validateCustomers } from "./validateCustomers";

/** Every customer file of one stack, with the stack's config: what a change is decided against. */
export interface CustomerSet {
  config: StackConfig;
  topology: Topology;
  files: readonly ParsedCustomerFile[];
}

/**
 * Why a change was refused: `invalid` (the request itself is wrong), `not-found` (no such customer),
 * `conflict` (the customer's state or the cluster's capacity forbids it). Nothing is to be written.
 */
export interface ChangeRefusal {
  ok: false;
  reason: "invalid" | "not-found" | "conflict";
  problems: InputProblem[];
}

/** A decided change of one existing file: the new content, or `undefined` when there is nothing to do. */
export type FileChange = { ok: true; data: CustomerFile | undefined } | ChangeRefusal;

const refuse = (reason: ChangeRefusal["reason"], file: string, field: string, message: string): ChangeRefusal => ({
  ok: false,
  reason,
  problems: [{ file, field, message }],
});

/** The relative path (as messages show it) of a customer's file in the stack's customer directory. */
export function customerFilePath(config: Pick<StackConfig, "customersDir">, slug: string): string {
  return posix.join(config.customersDir.replaceAll("\\", "/"), `${slug}.yaml`);
}

/** The customer whose file carries Paymenter's service id, if any. */
export function customerOfService(
  files: readonly ParsedCustomerFile[],
  serviceId: number,
): ParsedCustomerFile | undefined {
  return files.find((f) => f.data.serviceId === serviceId);
}

// ---------------------------------------------------------------------------------------------
// Create from a billing order

/** What Paymenter's createServer hook sends about the new site. */
export interface Order {
  serviceId: number;
  email: string;
  /** A plan of the stack; omitted: the stack's default plan. */
  plan?: string;
}

export interface CreateOptions {
  /** The DNS zone the site's domain is made in (`<subdomain>.<zone>`). */
  zone: string;
  /** A short random suffix, for a subdomain that is taken. */
  suffix: () => string;
  /** Domains other stacks (clusters) already serve: taken here too. */
  takenElsewhere?: ReadonlySet<string>;
  /** Suffixed subdomains tried after the plain one before giving up. */
  attempts?: number;
}

export type CreateResult = { ok: true; slug: string; file: string; data: CustomerFile } | ChangeRefusal;

/**
 * Decides a new customer's file from an order: the seed's subdomain rule (the e-mail's local part,
 * a random suffix on a collision), then `customer add`'s allocation and placement (lowest free VMID
 * and IP, the node with the most free memory), with the order's service id and e-mail. Refuses
 * (`conflict`) a service id that already has a site, and when pools or capacity are exhausted.
 */
export function createFromOrder(set: CustomerSet, order: Order, options: CreateOptions): CreateResult {
  const { config, topology, files } = set;
  const existing = customerOfService(files, order.serviceId);
  if (existing)
    return refuse(
      "conflict",
      existing.file,
      "serviceId",
      `service ${order.serviceId} already has a site (${existing.data.domain})`,
    );
  const zone = options.zone;
  if (!(zone in config.cloudflare.zones))
    return refuse(
      "invalid",
      "(order)",
      "zone",
      `${zone} is not a Cloudflare zone of the stack (${Object.keys(config.cloudflare.zones).join(", ")})`,
    );
  const attempts = options.attempts ?? 20;
  const base = subdomainFromEmail(order.email);
  const slugs = new Set(files.map((f) => f.slug));
  const domains = new Set(files.map((f) => f.data.domain.toLowerCase()));
  let lastProblems: InputProblem[] = [];
  for (let i = 0; i < attempts; i++) {
    const slug = i === 0 ? base : `${base}-${options.suffix()}`;
    const domain = `${slug}.${zone}`;
    if (slugs.has(slug) || domains.has(domain) || options.takenElsewhere?.has(domain)) continue;
    const file = customerFilePath(config, slug);
    const planned = planNewCustomer(
      config,
      topology,
      files,
      { slug, domain, ...(order.plan !== undefined ? { plan: order.plan } : {}) },
      file,
    );
    if (planned.ok) {
      const data: CustomerFile = { ...planned.file, serviceId: order.serviceId, email: order.email };
      return { ok: true, slug, file, data };
    }
    lastProblems = planned.problems;
    // A name the stack refuses (reserved, or taken in a way the sets above do not show): try another.
    if (planned.problems.every((p) => p.field === "(file name)" || p.field === "domain")) continue;
    const exhausted = planned.problems.some((p) => ["vmid", "ip", "node", "diskGiB"].includes(p.field));
    return { ok: false, reason: exhausted ? "conflict" : "invalid", problems: planned.problems };
  }
  return {
    ok: false,
    reason: "conflict",
    problems: [
      ...lastProblems,
      {
        file: customerFilePath(config, base),
        field: "(file name)",
        message: `no free subdomain for ${order.email} after ${attempts} attempts`,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// State changes

/** `active` → `suspended` (container stopped, data, DNS and proxy kept). Already suspended: nothing to do. */
export function suspendCustomer(c: ParsedCustomerFile): FileChange {
  if (c.data.state === "decommissioned")
    return refuse("conflict", c.file, "state", `${c.slug} is decommissioned; a terminated site cannot be suspended`);
  if (c.data.state === "suspended") return { ok: true, data: undefined };
  return { ok: true, data: { ...c.data, state: "suspended" } };
}

/** `suspended` → `active`. Already active: nothing to do. */
export function unsuspendCustomer(c: ParsedCustomerFile): FileChange {
  if (c.data.state === "decommissioned")
    return refuse("conflict", c.file, "state", `${c.slug} is decommissioned; a terminated site cannot be resumed`);
  if (c.data.state === "active") return { ok: true, data: undefined };
  return { ok: true, data: { ...c.data, state: "active" } };
}

/**
 * The first of removal's two steps: `decommissioned` (container stopped, protection lifted, HA, DNS
 * and proxy host removed; data still on disk). Already decommissioned: nothing to do.
 */
export function decommissionCustomer(c: ParsedCustomerFile): FileChange {
  if (c.data.state === "decommissioned") return { ok: true, data: undefined };
  return { ok: true, data: { ...c.data, state: "decommissioned" } };
}

/**
 * The second step: the file may go once its decommission is deployed, and its VMID and IP are
 * retired with it (`retire`: the entry to add to the stack file's `nodepoint:customerPools.retired`,
 * lib/customers/retired.ts; the plan refuses a removal without it). Refused for a customer that is
 * not decommissioned: deleting the file of a live site would leave `pulumi up` stopping on its
 * protected container.
 */
export function removeCustomer(c: ParsedCustomerFile): { ok: true; retire: RetiredEntry } | ChangeRefusal {
  if (c.data.state !== "decommissioned")
    return refuse(
      "conflict",
      c.file,
      "state",
      `${c.slug} is ${c.data.state}: decommission it first (state: decommissioned) and deploy that, then remove the file`,
    );
  return { ok: true, retire: retirementOf({ slug: c.slug, vmid: c.data.vmid, ip: c.data.ip }) };
}

// ---------------------------------------------------------------------------------------------
// Plan change

/**
 * Moves a customer to another plan: the container gets the new plan's cores, memory and disk (size
 * overrides in the file go, as Paymenter's upgrade means "the new plan's size"), HA follows the plan
 * unless the file sets it. Refused (`conflict`) when the disk would shrink (the provider replaces
 * a container whose disk shrinks: the site's data would be lost), when the customer is
 * decommissioned, or when the cluster has no room; `invalid` for a plan the stack does not have.
 */
export function changeCustomerPlan(set: CustomerSet, c: ParsedCustomerFile, planName: string): FileChange {
  const { config } = set;
  const plan = config.plans[planName];
  if (!plan)
    return refuse(
      "invalid",
      c.file,
      "plan",
      `plan "${planName}" is not one of the stack's plans (${Object.keys(config.plans).join(", ")})`,
    );
  if (c.data.state === "decommissioned")
    return refuse("conflict", c.file, "state", `${c.slug} is decommissioned; its plan cannot change`);
  const currentPlan = config.plans[c.data.plan ?? config.defaultPlan];
  const { cores, memoryMiB, diskGiB, ...rest } = c.data;
  if (
    (c.data.plan ?? config.defaultPlan) === planName &&
    cores === undefined &&
    memoryMiB === undefined &&
    diskGiB === undefined
  )
    return { ok: true, data: undefined };
  const diskNow = diskGiB ?? currentPlan?.diskGiB ?? 0;
  if (plan.diskGiB < diskNow)
    return refuse(
      "conflict",
      c.file,
      "plan",
      `plan ${planName} has a ${plan.diskGiB} GiB disk, smaller than the site's ${diskNow} GiB: a container's disk cannot shrink (the provider would replace the container and destroy the site's data)`,
    );
  const data: CustomerFile = { ...rest, plan: planName };
  const changed = set.files.map((f) => (f.slug === c.slug ? { ...f, data } : f));
  const problems = problemsIntroduced(set, changed);
  if (problems.length > 0) {
    const capacity = problems.some((p) => p.message.includes("capacity"));
    return { ok: false, reason: capacity ? "conflict" : "invalid", problems };
  }
  return { ok: true, data };
}

/** Problems the changed files have that the current ones do not (a capacity excess is charged to whichever file sorts last on that node, so the whole set is compared). */
function problemsIntroduced(set: CustomerSet, changed: readonly ParsedCustomerFile[]): InputProblem[] {
  const key = (p: InputProblem) => `${p.file}\u0000${p.field}\u0000${p.message}`;
  const before = new Set(validateCustomers(set.config, set.topology, set.files).problems.map(key));
  return validateCustomers(set.config, set.topology, changed).problems.filter((p) => !before.has(key(p)));
}

// ---------------------------------------------------------------------------------------------
// File text

/** The text of a new customer file: the schema comment for editors, then the fields. */
export function customerFileText(data: CustomerFile, schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}\n${stringify(data)}`;
}

/**
 * An existing file's text changed to hold `after`: changed keys are set, removed keys deleted, new
 * keys appended; comments and the order of untouched keys are kept.
 */
export function editCustomerText(text: string, after: CustomerFile): string {
  const doc = parseDocument(text);
  const before = (doc.toJS() ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(before)) if (!(key in after)) doc.delete(key);
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) {
      doc.delete(key);
      continue;
    }
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) doc.set(key, value);
  }
  return doc.toString();
}
