/**
 * The applier: one worker per repository that turns accepted events into commits, one batch at a
 * time, in the order they were accepted.
 *
 * A cycle: fetch the branch; settle the events the branch already carries (their trailer is in its
 * history: pushed before a crash, merged from a pull request); check out the branch's head; apply
 * every open event with the customer-file changes; regenerate the committed desired state; commit
 * with a trailer per event; then
 * - commit mode: push to the branch (the deploy workflow applies it). A push the remote rejects
 *   because the branch moved is rebuilt on the new head and pushed again.
 * - pull-request mode: force-push the proposal branch (only over the commit it last pushed) and
 *   open or update the one pull request; events settle when it is merged, or are recorded as
 *   rejected when a reviewer closes it.
 * The journal records each outcome. Files that billing manages (`serviceId`) and that the last
 * deployed outputs show decommissioned get the second removal step: their file is removed.
 */
import type { ParsedCustomerFile } from "../customers/loadCustomers";
import { validateCustomers } from "../customers/validateCustomers";
import { configWithEffect, effectOf, withEffect, type Effect } from "./effects";
import { describeEvent, EVENT_TRAILER, type BillingEvent, type EventRecord, type JournalRecord } from "./events";
import type { DeployedOutputsReader } from "./deployedOutputs";
import type { PullRequests } from "./github";
import type { Journal } from "./journal";
import type { Base, Ledger } from "./ledger";
import type { WorkingCopy } from "./workingCopy";

export interface ApplierLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface ApplierOptions {
  branch: string;
  mode: "commit" | "pull-request";
  /** Pull-request mode: the branch proposals are pushed to, and the GitHub client. */
  proposalBranch: string;
  pulls?: PullRequests;
  pollMs: number;
  log: ApplierLog;
}

interface Applied {
  record: EventRecord;
  effect: Effect;
}

const settledOutcome = (effect: Effect): "applied" | "noop" | "refused" =>
  effect.kind === "write" || effect.kind === "remove" ? "applied" : effect.kind === "none" ? "noop" : "refused";

export class Applier {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private failures = 0;
  private scannedAtStart = false;
  /** Pushes rejected in a row (the branch keeps moving): retried at once up to a limit, then backed off. */
  private rejections = 0;
  /** Times of the last cycles, for /health. */
  lastSuccess: Date | undefined;
  lastError: { at: Date; message: string } | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly journal: Journal,
    private readonly wc: WorkingCopy,
    private readonly deployed: DeployedOutputsReader,
    private readonly options: ApplierOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** New work: run a cycle now (unless backing off after failures). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let again = false;
      try {
        again = await this.cycle();
        this.failures = 0;
        this.lastSuccess = new Date();
      } catch (err) {
        this.failures++;
        const message = (err as Error).message;
        this.lastError = { at: new Date(), message };
        this.options.log.error(`applying events failed (attempt ${this.failures}; events are kept): ${message}`);
      }
      if (this.stopping) break;
      if (again && this.failures === 0) continue;
      const delay =
        this.failures > 0 ? Math.min(this.options.pollMs, 500 * 2 ** Math.min(this.failures, 10)) : this.options.pollMs;
      await this.sleep(delay, this.failures === 0);
    }
  }

  private sleep(ms: number, wakeOnKick: boolean): Promise<void> {
    if (wakeOnKick && this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.kicked = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = () => {
        if (wakeOnKick || this.stopping) done();
      };
    });
  }

  /** One cycle; true when there may be more to do right away. */
  async cycle(): Promise<boolean> {
    await this.syncBase();
    if (this.options.mode === "pull-request") await this.reconcileProposals();
    await this.scheduleRemovals();
    const events = [...this.ledger.pendingEvents];
    if (events.length === 0) return false;
    return this.options.mode === "commit" ? this.deliverCommit(events) : this.deliverProposal(events);
  }

  // --------------------------------------------------------------------------------------------

  /** Brings the ledger's base to the branch's head, settling the events the branch carries. */
  private async syncBase(): Promise<void> {
    const { branch } = this.options;
    await this.wc.fetch(this.options.mode === "pull-request" ? [branch, this.options.proposalBranch] : [branch]);
    const head = await this.wc.remoteHead(branch);
    if (!head) throw new Error(`the remote has no branch ${branch}`);
    const old = this.ledger.baseCommit;
    const pending = this.ledger.pendingEvents;
    let onBranch = new Map<string, string>();
    if (pending.length > 0 && (!this.scannedAtStart || head !== old)) {
      const range =
        this.scannedAtStart && (await this.wc.isAncestor(old, head))
          ? [`${old}..${head}`]
          : ["-n", "5000", `--since=${sinceOf(pending)}`, head];
      onBranch = await this.wc.eventIdsIn(range);
    }
    this.scannedAtStart = true;
    const settled = pending.filter((e) => onBranch.has(e.id));
    if (head === old && settled.length === 0) return;
    await this.wc.checkout(head);
    const base = await this.wc.loadBase(head);
    this.ledger.advance(
      base,
      settled.map((e) => e.id),
    );
    const at = new Date().toISOString();
    await this.appendAll(
      settled.map((e): JournalRecord => ({
        t: "settled",
        id: e.id,
        outcome: "applied",
        commit: onBranch.get(e.id)!,
        note: "found on the branch",
        at,
      })),
    );
    if (settled.length > 0)
      this.options.log.info(`${settled.length} event(s) found already on ${branch} (${head.slice(0, 12)})`);
  }

  /** Step 2 of delete-site: billing-managed files whose decommission the last deploy shows are removed. */
  private async scheduleRemovals(): Promise<void> {
    const waiting = this.ledger.baseState.files.filter(
      (f) =>
        f.data.serviceId !== undefined &&
        f.data.state === "decommissioned" &&
        !this.ledger.pendingFor(f.data.serviceId).some((e) => e.event.kind === "remove-site"),
    );
    if (waiting.length === 0 || !this.deployed.enabled) return;
    const outputs = await this.deployed.read();
    if (!outputs) return;
    for (const f of waiting) {
      if (outputs.sites.get(f.slug)?.state !== "decommissioned") continue;
      const record = this.ledger.record({ kind: "remove-site", serviceId: f.data.serviceId!, slug: f.slug });
      this.ledger.accept(record);
      await this.append(record);
      this.options.log.info(`${f.file}: decommission is deployed; removing the file (service ${f.data.serviceId})`);
    }
  }

  /** Applies `events` on the base's working tree; returns each effect (the tree holds the result). */
  private async applyOnBase(events: readonly EventRecord[]): Promise<Applied[]> {
    const base = this.ledger.baseState;
    await this.wc.checkout(base.commit);
    // Creates were fully checked when decided; a cheap pass (names, VMIDs, IPs) and one check of
    // the whole result suffice unless the branch changed under them, then each is checked in turn.
    let effects = await this.effectsOf(events, false);
    const before = validateCustomers(base.config, base.topology, base.files).problems.length;
    const after = validateCustomers(base.config, base.topology, effects.files).problems.length;
    if (after > before) effects = await this.effectsOf(events, true);
    const applied: Applied[] = [];
    for (const [i, record] of events.entries()) {
      const effect = effects.list[i]!;
      if (effect.kind === "write" && effect.reallocated && record.event.kind === "create-site") {
        const site = { slug: effect.slug, file: effect.file, data: effect.data };
        await this.append({ t: "amended", id: record.id, ...site });
        this.ledger.amend(record.id, site);
        this.options.log.warn(
          `service ${record.event.serviceId}: ${record.event.data.domain} (CT ${record.event.data.vmid}, ${record.event.data.ip}) was taken on the branch meanwhile; planned anew as ${effect.data.domain} (CT ${effect.data.vmid}, ${effect.data.ip})`,
        );
      }
      if (effect.kind === "refused")
        this.options.log.warn(`${describeEvent(record.event)}: cannot apply: ${effect.note}`);
      this.wc.writeEffect(effect);
      applied.push({ record, effect });
    }
    return applied;
  }

  /** The effects of `events` in order on the base's files, yielding to requests between events. */
  private async effectsOf(
    events: readonly EventRecord[],
    fullCheck: boolean,
  ): Promise<{ list: Effect[]; files: ParsedCustomerFile[] }> {
    const base = this.ledger.baseState;
    let files: ParsedCustomerFile[] = [...base.files];
    let config = base.config;
    const list: Effect[] = [];
    for (const record of events) {
      const effect = effectOf(
        { config, topology: base.topology, files },
        record.event,
        this.ledger.effectOptions(fullCheck),
      );
      files = withEffect(files, effect);
      config = configWithEffect(config, effect);
      list.push(effect);
      if (fullCheck) await new Promise((r) => setImmediate(r));
    }
    return { list, files };
  }

  /** Regenerates the desired state (when committed) and commits; undefined when nothing changed. */
  private async commitApplied(applied: readonly Applied[], subject: string): Promise<string | undefined> {
    if (!applied.some((a) => a.effect.kind === "write" || a.effect.kind === "remove")) return undefined;
    const base = this.ledger.baseState;
    const desired = await this.wc.desiredStateFile();
    if (desired) await this.wc.regenerateDesiredState(desired);
    const stackFile = applied.some((a) => a.effect.kind === "remove") ? [this.wc.stackFile] : [];
    return this.wc.commit(
      [base.config.customersDir, ...stackFile, ...(desired ? [desired] : [])],
      commitMessage(subject, applied),
    );
  }

  private async deliverCommit(events: readonly EventRecord[]): Promise<boolean> {
    const applied = await this.applyOnBase(events);
    const commit = await this.commitApplied(applied, subjectOf(applied));
    if (commit) {
      const pushed = await this.wc.push(this.options.branch);
      if (!pushed.ok) {
        if (pushed.rejected) return this.rejected(this.options.branch);
        throw new Error(`push to ${this.options.branch} failed: ${pushed.message}`);
      }
      this.rejections = 0;
      this.options.log.info(`pushed ${commit.slice(0, 12)} to ${this.options.branch}: ${subjectOf(applied)}`);
    }
    if (commit) this.deployed.invalidate();
    await this.settleAll(applied, commit, commit ? await this.wc.loadBase(commit) : undefined);
    return this.ledger.pendingEvents.length > 0;
  }

  /**
   * Records the outcome of applied events. The ledger moves to `base` (the commit that carries
   * them) in the same step, so no request ever sees the events gone but the branch not yet moved.
   */
  private async settleAll(applied: readonly Applied[], commit: string | undefined, base?: Base): Promise<void> {
    const ids = applied.map((a) => a.record.id);
    if (base) this.ledger.advance(base, ids);
    else this.ledger.settle(ids);
    const at = new Date().toISOString();
    await this.appendAll(
      applied.map((a): JournalRecord => {
        const outcome = settledOutcome(a.effect);
        return {
          t: "settled",
          id: a.record.id,
          outcome,
          ...(commit && outcome === "applied" ? { commit } : {}),
          ...(a.effect.kind === "none" || a.effect.kind === "refused" ? { note: a.effect.note } : {}),
          at,
        };
      }),
    );
  }

  // --------------------------------------------------------------------------------------------
  // Pull-request mode

  /** Settles the events of merged pull requests; records the events of closed ones as rejected. */
  private async reconcileProposals(): Promise<void> {
    const pulls = this.options.pulls!;
    const numbers = [...new Set(this.ledger.proposalList.map((p) => p.pr))];
    for (const number of numbers) {
      const pr = await pulls.get(number);
      if (pr.state === "open") continue;
      const proposals = this.ledger.proposalList.filter((p) => p.pr === number);
      const open = new Set(this.ledger.pendingEvents.map((e) => e.id));
      if (pr.merged) {
        const merged = proposals.find((p) => p.head === pr.headSha);
        if (!merged) {
          this.options.log.warn(
            `pull request #${number} was merged at ${pr.headSha.slice(0, 12)}, not a commit the provisioner pushed; its events are applied again on the new base (changes already there are no-ops)`,
          );
          this.ledger.forgetProposals(number);
          continue;
        }
        // Settle only once the base carries the merge, so the events never drop out of the picture early.
        if (pr.mergeCommitSha && !(await this.wc.isAncestor(pr.mergeCommitSha, this.ledger.baseCommit))) continue;
        const ids = merged.ids.filter((id) => open.has(id));
        this.ledger.settle(ids);
        this.ledger.forgetProposals(number);
        const at = new Date().toISOString();
        await this.appendAll(
          ids.map((id): JournalRecord => ({
            t: "settled",
            id,
            outcome: "applied",
            ...(pr.mergeCommitSha ? { commit: pr.mergeCommitSha } : {}),
            note: `merged in pull request #${number}`,
            at,
          })),
        );
        this.options.log.info(`pull request #${number} merged: ${ids.length} event(s) settled`);
      } else {
        const ids = [...new Set(proposals.flatMap((p) => p.ids))].filter((id) => open.has(id));
        const at = new Date().toISOString();
        await this.appendAll(
          ids.map((id): JournalRecord => ({
            t: "settled",
            id,
            outcome: "rejected",
            note: `pull request #${number} was closed without merging`,
            at,
          })),
        );
        this.ledger.settle(ids);
        this.ledger.forgetProposals(number);
        this.options.log.error(
          `pull request #${number} was closed without merging: ${ids.length} event(s) recorded as rejected, not applied`,
        );
      }
    }
  }

  private async deliverProposal(events: readonly EventRecord[]): Promise<boolean> {
    const pulls = this.options.pulls!;
    const latest = this.ledger.proposalList.at(-1);
    const ids = events.map((e) => e.id);
    const upToDate =
      latest !== undefined &&
      latest.base === this.ledger.baseCommit &&
      latest.ids.length === ids.length &&
      latest.ids.every((id, i) => id === ids[i]) &&
      (await this.wc.remoteHead(this.options.proposalBranch)) === latest.head;
    if (upToDate) return false;

    const applied = await this.applyOnBase(events);
    const refused = applied.filter((a) => a.effect.kind === "refused");
    if (refused.length > 0) await this.settleAll(refused, undefined);
    const proposed = applied.filter((a) => a.effect.kind !== "refused");
    const commit = await this.commitApplied(proposed, subjectOf(proposed));
    if (!commit) {
      await this.settleAll(proposed, undefined);
      const open = await pulls.findOpen();
      if (open) {
        await pulls.close(open.number);
        this.options.log.warn(`pull request #${open.number} closed: nothing left to propose`);
      }
      return this.ledger.pendingEvents.length > 0;
    }
    const old = await this.wc.remoteHead(this.options.proposalBranch);
    const pushed = await this.wc.push(this.options.proposalBranch, { old });
    if (!pushed.ok) {
      if (pushed.rejected) return this.rejected(this.options.proposalBranch);
      throw new Error(`push to ${this.options.proposalBranch} failed: ${pushed.message}`);
    }
    this.rejections = 0;
    const pr = await pulls.openOrUpdate(`provisioner: ${subjectOf(proposed)}`, pullRequestBody(proposed));
    const record: JournalRecord = {
      t: "proposed",
      ids: proposed.map((a) => a.record.id),
      pr: pr.number,
      head: commit,
      base: this.ledger.baseCommit,
    };
    await this.append(record);
    this.ledger.propose({ pr: pr.number, head: commit, base: this.ledger.baseCommit, ids: record.ids });
    await this.wc.fetch([this.options.proposalBranch]);
    this.options.log.info(`pull request #${pr.number} proposes ${proposed.length} event(s) at ${commit.slice(0, 12)}`);
    return false;
  }

  /** A push the remote rejected because the branch moved: rebuild on its new head (at once, a few times). */
  private rejected(branch: string): boolean {
    this.rejections++;
    if (this.rejections > 5) {
      this.rejections = 0;
      throw new Error(`push to ${branch} rejected 5 times in a row (the branch keeps moving); trying again later`);
    }
    this.options.log.info(`push rejected (${branch} moved): applying the events again on its new head`);
    return true;
  }

  private async append(record: JournalRecord): Promise<void> {
    await this.journal.append(record);
  }

  /** Appends records together (one disk flush for the lot). */
  private async appendAll(records: readonly JournalRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.journal.append(r)));
  }
}

/** The oldest pending event's time minus a day (commit dates of other machines may be off a little). */
function sinceOf(events: readonly EventRecord[]): string {
  const oldest = Math.min(...events.map((e) => Date.parse(e.at)));
  return new Date(oldest - 24 * 3600 * 1000).toISOString();
}

function subjectOf(applied: readonly Applied[]): string {
  if (applied.length === 1) return describeEvent(applied[0]!.record.event);
  const services = [...new Set(applied.map((a) => a.record.event.serviceId))];
  return `${applied.length} billing events (services ${services.slice(0, 8).join(", ")}${services.length > 8 ? ", ..." : ""})`;
}

function effectLine(a: Applied): string {
  const e = a.effect;
  const what = describeEvent(a.record.event);
  switch (e.kind) {
    case "write":
      return `- ${what}: ${e.created ? "added" : "changed"} ${e.file}${e.reallocated ? " (planned anew: the decided site was taken meanwhile)" : ""}`;
    case "remove":
      return `- ${what}: removed ${e.file}; retired VMID ${e.retire.vmid} and IP ${e.retire.ip}`;
    case "none":
      return `- ${what}: nothing to change (${e.note})`;
    case "refused":
      return `- ${what}: not applied (${e.note})`;
  }
}

function commitMessage(subject: string, applied: readonly Applied[]): string {
  const line = `provisioner: ${subject}`;
  const body = applied.map(effectLine).join("\n");
  const trailers = applied.map((a) => `${EVENT_TRAILER}: ${a.record.id}`).join("\n");
  return `${line}\n\nBilling events from Paymenter, applied by the provisioner:\n${body}\n\n${trailers}\n`;
}

function pullRequestBody(applied: readonly Applied[]): string {
  return [
    "Billing events from Paymenter, applied to the customer files by the provisioner (`npm run provisioner`).",
    "Merging deploys them (deploy workflow). Closing this pull request without merging records these events as rejected.",
    "",
    ...applied.map(effectLine),
    "",
    "The desired-state diff below is what `pulumi up` will do.",
  ].join("\n");
}

export type { BillingEvent };
