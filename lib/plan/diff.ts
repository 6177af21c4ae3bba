/**
 * Compares two plan documents (desired states) for review: resources added, removed, changed with
 * the changed fields, and a warning for every change the provider answers by replacing the resource,
 * of every type the program uses (lib/providerFacts.ts holds which inputs replace and what a
 * replacement does), for every change with a known hazard, for an import ID that changes under an
 * object already in the state, and for every deletion of a protected resource. How it reads in a
 * pull request (grouped by customer) and the CI gate (`--fail-on`) are in diffReport.ts.
 */
import { ENGINE_FACTS, factsOf, inputAt, pathMatches, TYPES, type ReplaceFact } from "../providerFacts";
import type { PlanDocument } from "./planJson";
import type { RecordedResource } from "./offlineRuntime";
import { indexPlan, preparedReplacement, replacementBlockers, replacementStepsOf } from "./replacementSteps";
import { sharedBySites } from "./sharedResources";

export { pathMatches } from "../providerFacts";

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ResourceChange {
  urn: string;
  type: string;
  name: string;
  fields: FieldChange[];
  /** Changed option names (protect, import, ignoreChanges, ...). */
  options: string[];
  /** Each changed option with its value before and after (`provider`: the provider's URN). */
  optionChanges: FieldChange[];
  /** Why the provider would replace it, if it would. */
  replaceReasons: string[];
  /** Changes that do not replace but are known to do harm. */
  hazards: string[];
  /** The import ID changed under an object already in the state. */
  importChange?: { before: string; after: string };
  /** Whether the resource is protected (after the change). */
  protect: boolean;
}

export interface PlanDiff {
  added: RecordedResource[];
  removed: RecordedResource[];
  changed: ResourceChange[];
  warnings: string[];
}

/** Every leaf that differs, as a dotted path (`cpu.cores`, `networkInterfaces[0].bridge`). */
export function changedFields(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => changedFields(b, after[i], `${path}[${i}]`));
  }
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedFields(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [{ path, before, after }];
}

/** Whether a changed field is covered by `ignoreChanges` (Pulumi then keeps the old value). */
function ignored(path: string, ignoreChanges: readonly string[]): boolean {
  return ignoreChanges.some((i) => pathMatches(path, i));
}

function replaces(rule: ReplaceFact, f: FieldChange, after: RecordedResource): boolean {
  if (!pathMatches(f.path, rule.path)) return false;
  if (rule.unless && inputAt(after.inputs, rule.unless.input) === rule.unless.is) return false;
  if (rule.onlyWhen === "shrinks")
    return typeof f.before === "number" && typeof f.after === "number" && f.after < f.before;
  return true;
}

/** Whether the resource's own `replaceOnChanges` makes a change of this field a replacement. */
function forcedByOptions(path: string, after: RecordedResource): boolean {
  return (after.options.replaceOnChanges ?? []).some((p) => pathMatches(path, p));
}

/**
 * Why `after` is replaced: one line per changed field that forces it, by the provider's facts or the
 * resource's `replaceOnChanges` (ignored inputs never do).
 */
export function replaceReasons(after: RecordedResource, fields: readonly FieldChange[]): string[] {
  const facts = factsOf(after.type);
  const reasons: string[] = [];
  for (const f of fields) {
    if (ignored(f.path, after.options.ignoreChanges)) continue;
    const rule = facts?.replaceOnChange.find((r) => replaces(r, f, after));
    if (!rule && !forcedByOptions(f.path, after)) continue;
    const change = `${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`;
    reasons.push(rule?.onlyWhen === "shrinks" ? `${f.path} shrinks ${change}` : `${f.path}: ${change}`);
  }
  return reasons;
}

/** Changes that do not replace but are known to do harm (`hazards` of the type's facts). */
export function hazards(after: RecordedResource, fields: readonly FieldChange[]): string[] {
  const out: string[] = [];
  for (const h of factsOf(after.type)?.hazards ?? []) {
    for (const f of fields) {
      if (!pathMatches(f.path, h.path) || ignored(f.path, after.options.ignoreChanges)) continue;
      if (forcedByOptions(f.path, after)) continue; // declared a replacement: shown as one
      out.push(`${f.path}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}: ${h.note ?? h.source}`);
    }
  }
  return out;
}

const GUEST_TYPES: readonly string[] = [TYPES.container, TYPES.vm];

/** An option's value with its absence, `false`, `null` and `[]` all meaning "not set" (older plan files lack newer options). */
const optionValue = (v: unknown): string =>
  v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) ? "unset" : JSON.stringify(v);

/** Each option (and the provider) whose value changed, with its value before and after. */
function changedOptions(o: RecordedResource, r: RecordedResource): FieldChange[] {
  const before: Record<string, unknown> = { ...o.options, provider: o.provider };
  const after: Record<string, unknown> = { ...r.options, provider: r.provider };
  return Object.keys(after)
    .filter((k) => optionValue(before[k]) !== optionValue(after[k]))
    .sort()
    .map((k) => ({ path: k, before: before[k], after: after[k] }));
}

/**
 * `before` with each resource that `after` renames (a new URN whose `aliases` name the old one, as the
 * engine matches them) under its new URN, and every reference to it (parent, dependsOn, replaceWith,
 * deletedWith) following: the rename then shows as what it is, an added alias, not a deletion and a
 * creation.
 */
export function followRenames(before: PlanDocument, after: PlanDocument): PlanDocument {
  const oldUrns = new Set(before.resources.map((r) => r.urn));
  const newUrns = new Set(after.resources.map((r) => r.urn));
  const renamed = new Map<string, RecordedResource>();
  for (const r of after.resources) {
    if (oldUrns.has(r.urn)) continue;
    const former = (r.options.aliases ?? []).find((a) => oldUrns.has(a) && !newUrns.has(a) && !renamed.has(a));
    if (former) renamed.set(former, r);
  }
  if (renamed.size === 0) return before;
  const urn = (u: string): string => renamed.get(u)?.urn ?? u;
  return {
    ...before,
    resources: before.resources.map((r) => ({
      ...r,
      urn: urn(r.urn),
      name: renamed.get(r.urn)?.name ?? r.name,
      parent: urn(r.parent),
      options: {
        ...r.options,
        dependsOn: r.options.dependsOn.map(urn),
        replaceWith: r.options.replaceWith.map(urn),
        deletedWith: r.options.deletedWith === null ? null : urn(r.options.deletedWith),
      },
    })),
  };
}

export function diffPlans(beforeAsCommitted: PlanDocument, after: PlanDocument): PlanDiff {
  const before = followRenames(beforeAsCommitted, after);
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const added = after.resources.filter((r) => !old.has(r.urn));
  const removed = before.resources.filter((r) => !now.has(r.urn));
  const changed: ResourceChange[] = [];
  for (const r of after.resources) {
    const o = old.get(r.urn);
    if (!o) continue;
    const fields = changedFields(o.inputs, r.inputs);
    const optionChanges = changedOptions(o, r);
    if (fields.length === 0 && optionChanges.length === 0) continue;
    const importChange =
      o.options.import && r.options.import && o.options.import !== r.options.import
        ? { before: o.options.import, after: r.options.import }
        : undefined;
    changed.push({
      urn: r.urn,
      type: r.type,
      name: r.name,
      fields,
      options: optionChanges.map((c) => c.path),
      optionChanges,
      replaceReasons: replaceReasons(r, fields),
      hazards: hazards(r, fields),
      ...(importChange ? { importChange } : {}),
      protect: r.options.protect,
    });
  }
  return {
    added,
    removed,
    changed,
    warnings: [
      ...warningsOf(changed, removed, replacementNotes(before, after, added, removed, changed)),
      ...sharedWarnings(changed, after),
    ],
  };
}

/** A changed resource that several customer sites depend on reaches all of them: named. */
function sharedWarnings(changed: readonly ResourceChange[], after: PlanDocument): string[] {
  const shared = sharedBySites(after.resources);
  // A rename (an added alias and nothing else) changes nothing in the cluster.
  const onlyRenamed = (c: ResourceChange) => c.fields.length === 0 && c.options.every((o) => o === "aliases");
  return changed.flatMap((c) => {
    const sites = shared.get(c.urn);
    return sites === undefined || onlyRenamed(c)
      ? []
      : [
          `SHARED ${c.name} (${shortType(c.type)}): ${sites} customer sites depend on it; this change reaches every one of them.`,
        ];
  });
}

/** Per changed URN: the steps of its replacement and what stops it, or why a guest is prepared for one. */
function replacementNotes(
  beforeDoc: PlanDocument,
  afterDoc: PlanDocument,
  added: readonly RecordedResource[],
  removed: readonly RecordedResource[],
  changed: readonly ResourceChange[],
): Map<string, string> {
  const old = indexPlan(beforeDoc.resources);
  const now = indexPlan(afterDoc.resources);
  const notes = new Map<string, string>();
  for (const c of changed) {
    const before = old.byUrn.get(c.urn)!;
    const after = now.byUrn.get(c.urn)!;
    if (c.replaceReasons.length === 0) {
      const prepared = preparedReplacement(before, after, removed);
      if (prepared) notes.set(c.urn, prepared);
      continue;
    }
    const blockers = replacementBlockers(before, after, old);
    const steps = replacementStepsOf(before, after, now, added);
    notes.set(
      c.urn,
      `${blockers.length > 0 ? ` BLOCKED: ${blockers.join("; ")}.` : ""} Steps, in order: ${steps.join("; ")}.`,
    );
  }
  return notes;
}

function warningsOf(
  changed: readonly ResourceChange[],
  removed: readonly RecordedResource[],
  notes: ReadonlyMap<string, string>,
): string[] {
  const warnings: string[] = [];
  for (const c of changed) {
    const what = `${c.name} (${shortType(c.type)})`;
    const note = notes.get(c.urn);
    if (c.replaceReasons.length > 0) {
      const means = factsOf(c.type)?.replaceMeans ?? "the resource is deleted and created again";
      const loss = GUEST_TYPES.includes(c.type) ? " ITS DATA IS LOST." : "";
      warnings.push(`REPLACES ${what}: ${c.replaceReasons.join("; ")}. ${capitalize(means)}.${loss}${note ?? ""}`);
    } else if (note) warnings.push(note);
    const stops = c.protect ? " It is protected: `pulumi up` stops on it until a person lifts protection." : "";
    for (const h of c.hazards) warnings.push(`CAUTION ${what}: ${h}`);
    if (c.importChange)
      warnings.push(
        `IMPORT-REPLACES ${what}: import ID ${c.importChange.before} -> ${c.importChange.after}: ${ENGINE_FACTS.importIdChange.means}.${stops}`,
      );
  }
  for (const r of removed) {
    const what = `${r.name} (${shortType(r.type)})`;
    const guest = GUEST_TYPES.includes(r.type);
    if (r.options.protect)
      warnings.push(
        `DELETES protected ${what}: \`pulumi up\` will stop on it; ${guest ? "decommission it first" : "lift protection first if the deletion is meant"}.`,
      );
    else if (guest) warnings.push(`DELETES ${what}: the guest and its data will be destroyed.`);
  }
  return warnings;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function shortType(type: string): string {
  return type.split(":").pop() ?? type;
}
