/**
 * What a replacement in a plan diff will really do, step by step, in the order the Pulumi engine
 * runs it, and what would stop it. Read by `plan --diff` (lib/plan/diff.ts) for every replaced
 * resource and every guest prepared for a replacement (a merged `confirmReplace`).
 *
 * The order follows the engine: with `deleteBeforeReplace` the old object is deleted, then the new
 * one created; otherwise the new one is created first and the old one deleted at the end of the
 * update. Resources that `replaceWith` it are replaced after it (their own delete skipped when they
 * are `deletedWith` it); resources added that depend on it are created after it. What stops it:
 * Pulumi refuses to replace a resource protected both in the state and in the program (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, `new.Protect && old.Protect`, since pulumi/pulumi#8873), and
 * the type's `deleteRefusedWhile` facts (a container with PVE's protection flag, or an HA resource).
 */
import { factsOf, TYPES } from "../providerFacts";
import type { RecordedResource } from "./offlineRuntime";

const GUESTS: readonly string[] = [TYPES.container, TYPES.vm];

/** How a resource is named in a step: `nordlicht-ct (CT 1001 on node1)`. */
export function describe(r: RecordedResource): string {
  const vmid = r.inputs["vmId"];
  const node = r.inputs["nodeName"];
  if (r.type === TYPES.container && vmid !== undefined) return `${r.name} (CT ${String(vmid)} on ${String(node)})`;
  if (r.type === TYPES.vm && vmid !== undefined) return `${r.name} (VM ${String(vmid)} on ${String(node)})`;
  if (r.type === TYPES.haResource) return `HA resource ${String(r.inputs["resourceId"])}`;
  if (r.type === TYPES.haRule) return `HA rule ${String(r.inputs["rule"])}`;
  return `${r.name} (${r.type.split(":").pop() ?? r.type})`;
}

/** The HA resource a guest is (`ct:<vmid>` / `vm:<vmid>`), as a resourceId. */
function sidOf(guest: RecordedResource): string | undefined {
  const vmid = guest.inputs["vmId"];
  if (vmid === undefined) return undefined;
  return `${guest.type === TYPES.container ? "ct" : "vm"}:${String(vmid)}`;
}

/** Why the engine or the real system would stop the replacement of `after` (replacing `before`). */
export function replacementBlockers(before: RecordedResource, after: RecordedResource, old: PlanIndex): string[] {
  const out: string[] = [];
  if (before.options.protect && after.options.protect)
    out.push(
      "Pulumi refuses: it is protected in the state and in the program (confirmReplace lifts protection one merge before)",
    );
  for (const fact of factsOf(before.type)?.deleteRefusedWhile ?? []) {
    if (fact.path === "protection" && before.inputs["protection"] === true)
      out.push(`PVE refuses the delete: ${fact.note ?? fact.path} (${fact.source})`);
    if (fact.path.startsWith("(HA resource")) {
      const sid = sidOf(before);
      const ha = old.resources.find((r) => r.type === TYPES.haResource && r.inputs["resourceId"] === sid);
      if (ha) out.push(`PVE refuses the delete: ${fact.note ?? fact.path}, ${sid} (${fact.source})`);
    }
  }
  return out;
}

/** A plan document's resources, by URN. */
export interface PlanIndex {
  resources: readonly RecordedResource[];
  byUrn: ReadonlyMap<string, RecordedResource>;
}

export function indexPlan(resources: readonly RecordedResource[]): PlanIndex {
  return { resources, byUrn: new Map(resources.map((r) => [r.urn, r])) };
}

/**
 * The steps of replacing `after` (was `before`), numbered, in the engine's order, with what is lost.
 * `added` are the resources the diff adds (those depending on it are created after it).
 */
export function replacementStepsOf(
  before: RecordedResource,
  after: RecordedResource,
  now: PlanIndex,
  added: readonly RecordedResource[],
): string[] {
  const guest = GUESTS.includes(after.type);
  const lost = guest ? ": every byte on its disks is lost" : "";
  const steps: string[] = [];
  const create = `create ${describe(after)}`;
  const remove = `delete ${describe(before)}${lost}`;
  if (after.options.deleteBeforeReplace) steps.push(remove, create);
  else steps.push(create);
  for (const r of now.resources) {
    if (!r.options.replaceWith.includes(after.urn)) continue;
    const skipped = r.options.deletedWith === after.urn ? " (its old one went with it)" : "";
    steps.push(`re-create ${describe(r)}${skipped}`);
  }
  // Added resources that wait for it, directly or through one another (an HA resource, then its rule).
  const reached = new Set([after.urn]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of added) {
      if (reached.has(r.urn) || !r.options.dependsOn.some((d) => reached.has(d))) continue;
      reached.add(r.urn);
      steps.push(`create ${describe(r)}`);
      grew = true;
    }
  }
  if (!after.options.deleteBeforeReplace) steps.push(remove);
  return steps.map((s, i) => `${i + 1}. ${s}`);
}

/**
 * A guest the plan prepares for a replacement (a merged `confirmReplace`): its `replaceOnChanges`
 * names the confirmed inputs and its protection is lifted while nothing that replaces it changes.
 * Returns the warning, or undefined.
 */
export function preparedReplacement(
  before: RecordedResource | undefined,
  after: RecordedResource,
  removed: readonly RecordedResource[],
): string | undefined {
  if (!GUESTS.includes(after.type) || after.options.replaceOnChanges.length === 0 || after.options.protect)
    return undefined;
  const wasPrepared = before !== undefined && before.options.replaceOnChanges.length > 0 && !before.options.protect;
  if (wasPrepared) return undefined;
  const sid = sidOf(after);
  const gone = removed.filter(
    (r) =>
      (r.type === TYPES.haResource && r.inputs["resourceId"] === sid) ||
      (r.type === TYPES.haRule && Array.isArray(r.inputs["resources"]) && r.inputs["resources"].includes(sid)),
  );
  const steps = [
    "lift Pulumi's protect and PVE's protection flag",
    ...gone
      .sort((a) => (a.type === TYPES.haRule ? -1 : 1))
      .map((r) => `remove ${describe(r)} (PVE refuses to delete an HA resource's guest)`),
  ].map((s, i) => `${i + 1}. ${s}`);
  return (
    `PREPARES REPLACEMENT of ${describe(after)} (confirmed for ${after.options.replaceOnChanges.join(", ")}): ` +
    `${steps.join("; ")}. Nothing is destroyed by this change. The next merge, which removes confirmReplace, ` +
    `deletes the container and creates it again: THE SITE'S DATA WILL BE LOST (all of it, unless restored from a backup).`
  );
}
