/**
 * Compares two plan documents (desired states) for review: resources added, removed, changed with
 * the changed fields, and a warning for every change the provider answers by replacing a container
 * or VM (destroying a customer's data) or that deletes a protected guest.
 */
import type { PlanDocument } from "./planJson";
import type { RecordedResource } from "./offlineRuntime";

export const CONTAINER_TYPE = "proxmoxve:index/containerLegacy:ContainerLegacy";
export const VM_TYPE = "proxmoxve:index/vmLegacy:VmLegacy";

/**
 * Inputs whose change makes the provider replace the guest (ForceNew in bpg/terraform-provider-proxmox:
 * proxmoxtf/resource/container/container.go and vm/vm.go, as of the provider 8.x bridges).
 * A path matches the changed field itself or anything under it.
 */
export const REPLACE_ON_CHANGE: Readonly<Record<string, readonly string[]>> = {
  [CONTAINER_TYPE]: [
    "vmId",
    "nodeName",
    "unprivileged",
    "template",
    "poolId",
    "operatingSystem",
    "disk.datastoreId",
    "mountPoints",
    "initialization.userAccount",
    "clone",
  ],
  [VM_TYPE]: [
    "vmId",
    "nodeName",
    "clone",
    "disks[*].fileId",
    "initialization.type",
    "initialization.userDataFileId",
    "initialization.vendorDataFileId",
    "initialization.networkDataFileId",
    "initialization.metaDataFileId",
    "amdSev",
    "efiDisk.type",
    "tpmState.version",
  ],
};

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
  /** Why the provider would replace it, if it would. */
  replaceReasons: string[];
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

/** `disks[3].fileId` matches `disks[*].fileId`; `operatingSystem.templateFileId` matches `operatingSystem`. */
export function pathMatches(path: string, pattern: string): boolean {
  const norm = path.replace(/\[\d+\]/g, "[*]");
  return norm === pattern || norm.startsWith(`${pattern}.`) || norm.startsWith(`${pattern}[`);
}

function replaceReasons(before: RecordedResource, after: RecordedResource, fields: readonly FieldChange[]): string[] {
  const rules = REPLACE_ON_CHANGE[after.type];
  if (!rules) return [];
  const ignored = after.options.ignoreChanges;
  const reasons: string[] = [];
  for (const f of fields) {
    if (ignored.some((i) => pathMatches(f.path, i.replace(/\[\d+\]/g, "[*]")))) continue;
    const rule = rules.find((r) => pathMatches(f.path, r));
    if (!rule) continue;
    if (after.type === VM_TYPE && rule === "nodeName" && after.inputs["migrate"] === true) continue;
    reasons.push(`${f.path}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
  }
  if (after.type === CONTAINER_TYPE) {
    const size = (r: RecordedResource) => (r.inputs["disk"] as { size?: number } | undefined)?.size;
    const [b, a] = [size(before), size(after)];
    if (b !== undefined && a !== undefined && a < b && !ignored.includes("disk"))
      reasons.push(`disk.size shrinks ${b} -> ${a} (only growing is in place)`);
  }
  return reasons;
}

export function diffPlans(before: PlanDocument, after: PlanDocument): PlanDiff {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const added = after.resources.filter((r) => !old.has(r.urn));
  const removed = before.resources.filter((r) => !now.has(r.urn));
  const changed: ResourceChange[] = [];
  for (const r of after.resources) {
    const o = old.get(r.urn);
    if (!o) continue;
    const fields = changedFields(o.inputs, r.inputs);
    const options = Object.keys(r.options)
      .filter(
        (k) =>
          JSON.stringify((o.options as unknown as Record<string, unknown>)[k]) !==
          JSON.stringify((r.options as unknown as Record<string, unknown>)[k]),
      )
      .sort();
    if (fields.length === 0 && options.length === 0 && o.provider === r.provider) continue;
    changed.push({
      urn: r.urn,
      type: r.type,
      name: r.name,
      fields,
      options: o.provider === r.provider ? options : [...options, "provider"],
      replaceReasons: replaceReasons(o, r, fields),
    });
  }
  const warnings: string[] = [];
  for (const c of changed) {
    if (c.replaceReasons.length > 0)
      warnings.push(
        `REPLACES ${c.name} (${shortType(c.type)}): ${c.replaceReasons.join("; ")}. The guest and its data would be destroyed and recreated.`,
      );
  }
  for (const r of removed) {
    if ((r.type === CONTAINER_TYPE || r.type === VM_TYPE) && r.options.protect)
      warnings.push(
        `DELETES protected ${r.name} (${shortType(r.type)}): \`pulumi up\` will stop on it; decommission it first.`,
      );
    else if (r.type === CONTAINER_TYPE || r.type === VM_TYPE)
      warnings.push(`DELETES ${r.name} (${shortType(r.type)}): the guest and its data will be destroyed.`);
  }
  return { added, removed, changed, warnings };
}

function shortType(type: string): string {
  return type.split(":").pop() ?? type;
}

const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));

/** Markdown for a pull request's job summary. */
export function renderDiff(diff: PlanDiff, title: string): string {
  const { added, removed, changed, warnings } = diff;
  if (added.length + removed.length + changed.length === 0) return `### ${title}\n\nno changes\n`;
  const out = [
    `### ${title}`,
    "",
    `${added.length} to add, ${changed.length} to change, ${removed.length} to remove`,
    "",
  ];
  if (warnings.length > 0) out.push("**Warnings**", "", ...warnings.map((w) => `- :warning: ${w}`), "");
  if (added.length) out.push("**Added**", "", ...added.map((r) => `- \`${shortType(r.type)}\` ${r.name}`), "");
  if (removed.length) out.push("**Removed**", "", ...removed.map((r) => `- \`${shortType(r.type)}\` ${r.name}`), "");
  if (changed.length) {
    out.push("**Changed**", "");
    for (const c of changed) {
      out.push(`- \`${shortType(c.type)}\` ${c.name}${c.replaceReasons.length ? " (replace)" : ""}`);
      for (const f of c.fields) out.push(`  - \`${f.path}\`: ${show(f.before)} -> ${show(f.after)}`);
      for (const o of c.options) out.push(`  - option \`${o}\` changed`);
    }
    out.push("");
  }
  return out.join("\n");
}
