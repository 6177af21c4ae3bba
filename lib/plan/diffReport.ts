/**
 * How a plan diff reads in a pull request: warnings first, then the changes grouped by customer
 * (each customer headed by its container's VMID, IP, node and domain, before → after where they
 * change), then the platform's own; every added or removed resource with its key figures, every
 * changed input and option with its value before and after. And the CI gate: which kinds of change
 * (`--fail-on`) make the check fail.
 */
import { COMPONENT_TYPES } from "../componentTypes";
import { TYPES } from "../providerFacts";
import { shortType, type FieldChange, type PlanDiff, type ResourceChange } from "./diff";
import type { RecordedResource } from "./offlineRuntime";
import type { PlanDocument } from "./planJson";
import { keyFigures } from "./render";

/** Kinds of change `--fail-on` can refuse. */
export const GATE_KINDS = ["add", "change", "replace", "delete"] as const;
export type GateKind = (typeof GATE_KINDS)[number];

/** What `--fail-on` means by each kind. */
export const GATE_KIND_MEANING: Readonly<Record<GateKind, string>> = {
  add: "a resource is added",
  change: "a resource is changed in place",
  replace: "a resource is replaced (deleted and created again: a guest loses its data), its import ID included",
  delete: "a resource is deleted",
};

/** One line per change of a kind in `kinds`: why the gate fails (empty: it passes). */
export function gateFindings(diff: PlanDiff, kinds: readonly GateKind[]): string[] {
  const out: string[] = [];
  const want = new Set(kinds);
  const replaced = (c: ResourceChange) => c.replaceReasons.length > 0 || c.importChange !== undefined;
  if (want.has("replace"))
    for (const c of diff.changed.filter(replaced))
      out.push(
        `replace: ${c.name} (${shortType(c.type)}): ${[...c.replaceReasons, ...(c.importChange ? [`import ID ${c.importChange.before} -> ${c.importChange.after}`] : [])].join("; ")}`,
      );
  if (want.has("delete")) for (const r of diff.removed) out.push(`delete: ${r.name} (${shortType(r.type)})`);
  if (want.has("change"))
    for (const c of diff.changed.filter((x) => !replaced(x))) out.push(`change: ${c.name} (${shortType(c.type)})`);
  if (want.has("add")) for (const r of diff.added) out.push(`add: ${r.name} (${shortType(r.type)})`);
  return out;
}

/** Parses `--fail-on replace,delete`; throws on an unknown kind (a usage error). */
export function parseGateKinds(text: string): GateKind[] {
  const kinds = text
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  const unknown = kinds.filter((k) => !(GATE_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0)
    throw new Error(
      `--fail-on takes a comma-separated list of ${GATE_KINDS.join(", ")}${unknown.length ? ` (not: ${unknown.join(", ")})` : ""}`,
    );
  return kinds as GateKind[];
}

/** A customer as its resources show it: the container's VMID, IP and node, the site's domain. */
interface CustomerFacts {
  vmid?: unknown;
  ip?: unknown;
  node?: unknown;
  domain?: unknown;
}

const SITE_URN = `::${COMPONENT_TYPES.wordPressSite}::`;

/** The customer (slug) a resource belongs to: the WordPressSite it is, or that is among its ancestors. */
function customerOf(r: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): string | undefined {
  for (let at: RecordedResource | undefined = r, depth = 0; at && depth < 20; depth++) {
    if (at.type === COMPONENT_TYPES.wordPressSite) return at.name;
    const parent = at.parent;
    if (parent.includes(SITE_URN) && !parent.slice(parent.indexOf(SITE_URN) + SITE_URN.length).includes("::"))
      return parent.slice(parent.lastIndexOf("::") + 2);
    at = byUrn.get(parent);
  }
  return undefined;
}

function factsOfCustomer(resources: readonly RecordedResource[]): CustomerFacts {
  const facts: CustomerFacts = {};
  for (const r of resources) {
    if (r.type === TYPES.container) {
      const ipConfigs = (r.inputs["initialization"] as { ipConfigs?: Array<{ ipv4?: { address?: string } }> })
        ?.ipConfigs;
      facts.vmid = r.inputs["vmId"];
      facts.ip = ipConfigs?.[0]?.ipv4?.address?.split("/")[0];
      facts.node = r.inputs["nodeName"];
    } else if (r.type === TYPES.dnsRecord) facts.domain ??= r.inputs["name"];
    else if (r.type === TYPES.npmProxyHost) facts.domain ??= r.inputs["domain"];
  }
  return facts;
}

const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));

/** `1001` or `1001 → 1500`; `?` when unknown on both sides. */
function beforeAfter(before: unknown, after: unknown): string {
  const text = (v: unknown) => (v === undefined ? "?" : String(v));
  if (after === undefined) return text(before);
  if (before === undefined || before === after) return text(after);
  return `${text(before)} → ${text(after)}`;
}

/** A URN as reviewers know it: the resource's name. */
const nameOfUrn = (v: unknown) =>
  typeof v === "string" && v.startsWith("urn:pulumi:") ? v.slice(v.lastIndexOf("::") + 2) : v;

/** `before -> after`; two lists of plain values as what left and what came (`dependsOn`, `ignoreChanges`, tags). */
function beforeToAfter(f: FieldChange): string {
  const value = (v: unknown) => (v === "" || v === null ? "(none)" : show(nameOfUrn(v)));
  const plain = (v: unknown): v is unknown[] => Array.isArray(v) && v.every((x) => x === null || typeof x !== "object");
  if (plain(f.before) && plain(f.after)) {
    const was = f.before.map((x) => JSON.stringify(x));
    const now = f.after.map((x) => JSON.stringify(x));
    const gone = f.before.filter((_, i) => !now.includes(was[i]!));
    const came = f.after.filter((_, i) => !was.includes(now[i]!));
    if (gone.length + came.length > 0)
      return [
        ...(gone.length ? [`removed ${gone.map(value).join(", ")}`] : []),
        ...(came.length ? [`added ${came.map(value).join(", ")}`] : []),
      ].join("; ");
  }
  return `${value(f.before)} -> ${value(f.after)}`;
}

function changeLines(c: ResourceChange): string[] {
  const lines = [`- **change** \`${shortType(c.type)}\` ${c.name}${c.replaceReasons.length ? " (replace)" : ""}`];
  for (const f of c.fields) lines.push(`  - \`${f.path}\`: ${beforeToAfter(f)}`);
  for (const o of c.optionChanges) lines.push(`  - option \`${o.path}\`: ${beforeToAfter(o)}`);
  return lines;
}

function resourceLine(verb: "add" | "remove", r: RecordedResource): string {
  const figures = keyFigures(r);
  return `- **${verb}** \`${shortType(r.type)}\` ${r.name}${figures ? `: ${figures}` : ""}`;
}

/**
 * Markdown for a pull request's job summary. `docs` are the two plans `diff` compares: they give
 * each customer's facts (VMID, IP, node, domain) and the tree the changes are grouped by.
 */
export function renderDiff(diff: PlanDiff, title: string, docs: { before: PlanDocument; after: PlanDocument }): string {
  const { added, removed, changed, warnings } = diff;
  if (added.length + removed.length + changed.length === 0) return `### ${title}\n\nno changes\n`;
  const replacements = changed.filter((c) => c.replaceReasons.length > 0).length;
  const out = [
    `### ${title}`,
    "",
    `${added.length} to add, ${changed.length} to change (${replacements} replaced), ${removed.length} to remove`,
    "",
  ];
  if (warnings.length > 0) out.push("**Warnings**", "", ...warnings.map((w) => `- :warning: ${w}`), "");

  const beforeRes = docs.before.resources;
  const afterRes = docs.after.resources;
  const byUrn = new Map([...beforeRes, ...afterRes].map((r) => [r.urn, r]));
  const groups = new Map<string, string[]>();
  const status = new Map<string, string>();
  const line = (slug: string, text: string[]) => groups.set(slug, [...(groups.get(slug) ?? []), ...text]);
  const changedByUrn = new Map(changed.map((c) => [c.urn, c]));
  for (const r of added) {
    const slug = customerOf(r, byUrn) ?? "";
    if (r.type === COMPONENT_TYPES.wordPressSite) status.set(slug, "new customer");
    line(slug, [resourceLine("add", r)]);
  }
  for (const r of removed) {
    const slug = customerOf(r, byUrn) ?? "";
    if (r.type === COMPONENT_TYPES.wordPressSite) status.set(slug, "customer removed");
    line(slug, [resourceLine("remove", r)]);
  }
  for (const r of afterRes.filter((x) => changedByUrn.has(x.urn)))
    line(customerOf(r, byUrn) ?? "", changeLines(changedByUrn.get(r.urn)!));

  const ofSlug = (list: readonly RecordedResource[], slug: string) => list.filter((r) => customerOf(r, byUrn) === slug);
  const slugs = [...groups.keys()].filter((s) => s !== "").sort();
  for (const slug of slugs) {
    const was = factsOfCustomer(ofSlug(beforeRes, slug));
    const now = factsOfCustomer(ofSlug(afterRes, slug));
    const removedSite = status.get(slug) === "customer removed";
    const pick = (k: keyof CustomerFacts) => beforeAfter(was[k], removedSite ? undefined : now[k]);
    out.push(
      `#### Customer \`${slug}\`: CT ${pick("vmid")}, ${pick("ip")}, ${pick("node")}, ${pick("domain")}${status.has(slug) ? ` (${status.get(slug)})` : ""}`,
      "",
      ...groups.get(slug)!,
      "",
    );
  }
  if (groups.has("")) out.push("#### Platform", "", ...groups.get("")!, "");
  return out.join("\n");
}
