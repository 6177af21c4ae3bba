/**
 * The provisioner's picture of the customer files: those on the branch (the base, at a commit) plus
 * every accepted event not yet on it, replayed in order. Requests are decided against this picture,
 * so two orders in a row never get the same site even before either is committed.
 *
 * Decisions here are synchronous: between deciding a request and recording its event nothing else
 * runs, so requests are decided one at a time in arrival order without a lock.
 */
import { randomUUID } from "node:crypto";
import type { StackConfig } from "../config/schema";
import type { Topology } from "../config/topology";
import {
  changeCustomerPlan,
  createFromOrder,
  customerOfService,
  decommissionCustomer,
  suspendCustomer,
  unsuspendCustomer,
  type ChangeRefusal,
  type CustomerSet,
  type FileChange,
} from "../customers/customerChanges";
import type { ParsedCustomerFile } from "../customers/loadCustomers";
import { zoneOf } from "../customers/validateCustomers";
import type { InputProblem } from "../errors";
import { configWithEffect, effectOf, withEffect, type EffectOptions } from "./effects";
import type { BillingEvent, EventRecord, JournalRecord } from "./events";

/** An HTTP answer in the contract's shape. */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** What a request comes to: the answer, and the event to record before answering (if any). */
export interface Decision {
  reply: Reply;
  event?: BillingEvent;
}

/** The customer files at one commit of the branch. */
export interface Base {
  commit: string;
  config: StackConfig;
  topology: Topology;
  files: ParsedCustomerFile[];
  /** Files on the branch that do not parse or validate: creates are refused while there are any. */
  problems: InputProblem[];
  /** Domains other stacks serve (unique across clusters). */
  takenElsewhere: ReadonlySet<string>;
  /** The zone new sites get their domain in. */
  zone: string;
}

export interface Proposal {
  pr: number;
  head: string;
  base: string;
  ids: string[];
}

export const error = (status: number, message: string): Reply => ({ status, body: { success: false, error: message } });
const ok = (extra: Record<string, unknown> = {}): Reply => ({ status: 200, body: { success: true, ...extra } });
const problemMessage = (problems: readonly InputProblem[]): string =>
  problems.map((p) => `${p.field}: ${p.message}`).join("; ");
const refusalReply = (r: ChangeRefusal): Reply =>
  error({ invalid: 400, "not-found": 404, conflict: 409 }[r.reason], problemMessage(r.problems));

export class Ledger {
  private base: Base;
  /** Accepted events not yet settled, in order. */
  private pending: EventRecord[] = [];
  /** Pull-request mode: proposals (a pull request at a head commit) of pending events, newest last. */
  private proposals: Proposal[] = [];
  private current: ParsedCustomerFile[] = [];
  /** The stack config with the VMIDs and IPs of pending removals retired too. */
  private config: StackConfig;
  private seq = 0;

  constructor(
    base: Base,
    private readonly suffix: () => string,
  ) {
    this.base = base;
    this.current = [...base.files];
    this.config = base.config;
  }

  /** Rebuilds the ledger from the journal's open records (after a restart). */
  restore(records: readonly JournalRecord[]): void {
    const settled = new Set(records.flatMap((r) => (r.t === "settled" ? [r.id] : [])));
    const events = new Map<string, EventRecord>();
    for (const r of records) {
      if (r.t === "event") {
        this.seq = Math.max(this.seq, r.seq + 1);
        if (!settled.has(r.id)) events.set(r.id, r);
      } else if (r.t === "amended") {
        const e = events.get(r.id);
        if (e?.event.kind === "create-site")
          events.set(r.id, { ...e, event: { ...e.event, slug: r.slug, file: r.file, data: r.data } });
      } else if (r.t === "proposed") {
        this.proposals.push({ pr: r.pr, head: r.head, base: r.base, ids: r.ids });
      }
    }
    this.pending = [...events.values()].sort((a, b) => a.seq - b.seq);
    this.proposals = this.proposals.filter((p) => p.ids.some((id) => events.has(id)));
    this.replay();
  }

  /** The records that still matter: open events (as amended), and proposals of open events. What the journal is compacted to. */
  openRecords(): JournalRecord[] {
    const ids = new Set(this.pending.map((e) => e.id));
    return [
      ...this.pending,
      ...this.proposals
        .filter((p) => p.ids.some((id) => ids.has(id)))
        .map((p): JournalRecord => ({ t: "proposed", pr: p.pr, head: p.head, base: p.base, ids: p.ids })),
    ];
  }

  get baseCommit(): string {
    return this.base.commit;
  }
  get baseState(): Base {
    return this.base;
  }
  get pendingEvents(): readonly EventRecord[] {
    return this.pending;
  }
  get proposalList(): readonly Proposal[] {
    return this.proposals;
  }
  /** The customer files as they will be once every accepted event is applied. */
  get files(): readonly ParsedCustomerFile[] {
    return this.current;
  }

  private get zones(): string[] {
    return Object.keys(this.base.config.cloudflare.zones);
  }

  effectOptions(fullCheck: boolean): EffectOptions {
    return { zone: this.base.zone, suffix: this.suffix, takenElsewhere: this.base.takenElsewhere, fullCheck };
  }

  private set(files: readonly ParsedCustomerFile[] = this.current, config = this.config): CustomerSet {
    return { config, topology: this.base.topology, files };
  }

  // ------------------------------------------------------------------------------------------
  // Requests

  createSite(order: { serviceId: number; email: string; plan: string; publicIp: string }): Decision {
    const config = this.config;
    if (!(order.plan in config.plans))
      return {
        reply: error(
          400,
          `plan: "${order.plan}" is not a plan of this platform (${Object.keys(config.plans).join(", ")})`,
        ),
      };
    if (order.publicIp !== config.ingress.publicIp)
      return {
        reply: error(
          400,
          `public_ip: ${order.publicIp} is not where this platform's sites are served (${config.ingress.publicIp}); set the extension's Public IP to it`,
        ),
      };
    const existing = customerOfService(this.current, order.serviceId);
    if (existing) {
      if (existing.data.email?.toLowerCase() !== order.email.toLowerCase())
        return {
          reply: error(409, `service_id: ${order.serviceId} already has a site, ordered with another e-mail`),
        };
      if (existing.data.state === "decommissioned")
        return { reply: error(409, `service_id: ${order.serviceId} was terminated (${existing.data.domain})`) };
      return { reply: createdReply(existing, this.zones) };
    }
    if (this.base.problems.length > 0)
      return {
        reply: error(
          500,
          `the customer files on the branch have problems, so no site can be allocated safely until they are fixed: ${problemMessage(this.base.problems.slice(0, 5))}`,
        ),
      };
    const r = createFromOrder(
      this.set(),
      { serviceId: order.serviceId, email: order.email, plan: order.plan },
      { zone: this.base.zone, suffix: this.suffix, takenElsewhere: this.base.takenElsewhere },
    );
    if (!r.ok) return { reply: refusalReply(r) };
    const event: BillingEvent = {
      kind: "create-site",
      serviceId: order.serviceId,
      email: order.email,
      plan: order.plan,
      slug: r.slug,
      file: r.file,
      data: r.data,
    };
    return { reply: createdReply({ slug: r.slug, data: r.data }, this.zones), event };
  }

  suspend(serviceId: number): Decision {
    return this.stateChange(serviceId, "suspend", suspendCustomer);
  }

  unsuspend(serviceId: number): Decision {
    return this.stateChange(serviceId, "unsuspend", unsuspendCustomer);
  }

  deleteSite(serviceId: number): Decision {
    return this.stateChange(serviceId, "delete-site", decommissionCustomer);
  }

  upgrade(serviceId: number, plan: string): Decision {
    const config = this.config;
    if (!(plan in config.plans))
      return {
        reply: error(400, `plan: "${plan}" is not a plan of this platform (${Object.keys(config.plans).join(", ")})`),
      };
    return this.stateChange(serviceId, "upgrade", (c) => changeCustomerPlan(this.set(), c, plan), plan);
  }

  private stateChange(
    serviceId: number,
    kind: "suspend" | "unsuspend" | "delete-site" | "upgrade",
    decide: (c: ParsedCustomerFile) => FileChange,
    plan?: string,
  ): Decision {
    const customer = customerOfService(this.current, serviceId);
    if (!customer) return { reply: error(404, `service_id: no site for service ${serviceId}`) };
    const change = decide(customer);
    if (!change.ok) return { reply: refusalReply(change) };
    if (!change.data) return { reply: ok() };
    const event: BillingEvent = kind === "upgrade" ? { kind, serviceId, plan: plan! } : { kind, serviceId };
    return { reply: ok(), event };
  }

  // ------------------------------------------------------------------------------------------
  // Changes of the picture

  /** The journal record of a newly accepted event (the next sequence number). */
  record(event: BillingEvent): EventRecord {
    return { t: "event", seq: this.seq++, id: randomUUID(), at: new Date().toISOString(), event };
  }

  /** Adds an accepted event to the picture. */
  accept(record: EventRecord): void {
    this.pending.push(record);
    const effect = effectOf(this.set(), record.event, this.effectOptions(false));
    this.current = withEffect(this.current, effect);
    this.config = configWithEffect(this.config, effect);
  }

  /** A create planned anew by the applier. */
  amend(id: string, site: { slug: string; file: string; data: ParsedCustomerFile["data"] }): void {
    this.pending = this.pending.map((e) =>
      e.id === id && e.event.kind === "create-site" ? { ...e, event: { ...e.event, ...site } } : e,
    );
    this.replay();
  }

  /** The branch moved to `base` (our push, a merge, someone else's commit); `settled` events are on it or done. */
  advance(base: Base, settled: Iterable<string>): void {
    this.base = base;
    this.settle(settled);
  }

  /** Events that are done (or refused, or rejected by a reviewer) leave the picture. */
  settle(ids: Iterable<string>): void {
    const done = new Set(ids);
    this.pending = this.pending.filter((e) => !done.has(e.id));
    this.proposals = this.proposals.filter((p) => p.ids.some((id) => !done.has(id)));
    this.replay();
  }

  propose(p: Proposal): void {
    this.proposals.push(p);
  }

  /** A pull request that is closed: its proposals no longer say anything. */
  forgetProposals(pr: number): void {
    this.proposals = this.proposals.filter((p) => p.pr !== pr);
  }

  private replay(): void {
    let files = [...this.base.files];
    let config = this.base.config;
    for (const e of this.pending) {
      const effect = effectOf(this.set(files, config), e.event, this.effectOptions(false));
      files = withEffect(files, effect);
      config = configWithEffect(config, effect);
    }
    this.current = files;
    this.config = config;
  }

  /** Pending events of one service, oldest first. */
  pendingFor(serviceId: number): EventRecord[] {
    return this.pending.filter((e) => e.event.serviceId === serviceId);
  }
}

/** The contract's reply to createServer: `{"success":true,"vmid","private_ip","subdomain"}`. */
function createdReply(c: Pick<ParsedCustomerFile, "slug" | "data">, zones: readonly string[]): Reply {
  return {
    status: 200,
    body: { success: true, vmid: c.data.vmid, private_ip: c.data.ip, subdomain: subdomainOf(c.data.domain, zones) },
  };
}

/** The part of a site's domain before its zone (`shop` of `shop.nodepoint.eu`), as the seed names it. */
export function subdomainOf(domain: string, zones: readonly string[]): string {
  const zone = zoneOf(domain, zones);
  return zone && domain.length > zone.length ? domain.slice(0, domain.length - zone.length - 1) : domain;
}
