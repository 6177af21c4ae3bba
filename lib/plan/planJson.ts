import { createHash } from "node:crypto";
import type { RecordedResource } from "./offlineRuntime";

/** Text longer than this (a serialized dynamic provider, a shipped script) is shown by length and hash. */
export const LONG_TEXT = 1000;

/**
 * A dynamic resource's `__provider` input is code for the dynamic-provider plugin (for NpmProxyHost
 * the fixed loader of lib/npm/providerLoader.ts), not desired state, so it is elided.
 */
const DYNAMIC_PROVIDER_INPUT = "__provider";

/** `"[12970 chars sha256:0123456789ab]"`: reviewers see that a long value changed; its source is in the repo. */
export function condenseLongText(value: unknown): unknown {
  if (typeof value === "string" && value.length > LONG_TEXT)
    return `[${value.length} chars sha256:${createHash("sha256").update(value).digest("hex").slice(0, 12)}]`;
  if (Array.isArray(value)) return value.map(condenseLongText);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === DYNAMIC_PROVIDER_INPUT ? "[serialized dynamic provider]" : condenseLongText(v),
      ]),
    );
  return value;
}

/** The whole desired state of a stack, as `npm run plan -- --json` writes it. */
export interface PlanDocument {
  stack: string;
  resources: RecordedResource[];
}

/** Deep copy with object keys sorted, so equal input always serializes to identical bytes. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** Resources ordered by URN, every object's keys sorted. */
export function planDocument(stack: string, resources: readonly RecordedResource[]): PlanDocument {
  const sorted = [...resources].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  return {
    stack,
    resources: sorted.map((r) => sortKeysDeep({ ...r, inputs: condenseLongText(r.inputs) }) as RecordedResource),
  };
}

export function serializePlan(doc: PlanDocument): string {
  return `${JSON.stringify(sortKeysDeep(doc), null, 2)}\n`;
}
