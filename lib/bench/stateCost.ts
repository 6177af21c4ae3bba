/**
 * What a customer site costs in the stack's state: the bytes of the inputs the engine stores for
 * every resource of the site (its WordPressSite component and everything under it), in the
 * checkpoint's form (lib/runtimePath/checkpoint.ts). Outputs are not counted: for these providers
 * they repeat the inputs plus a few computed values.
 */
import { COMPONENT_TYPES } from "../componentTypes";
import type { RecordedResource } from "../plan/offlineRuntime";
import { checkpointBytes } from "../runtimePath/checkpoint";

const SITE_TYPE = COMPONENT_TYPES.wordPressSite;

/** At most this many bytes of stored inputs per site (issue 13: nothing repeated per site that could be stored once). */
export const SITE_INPUT_BUDGET = 4096;

/** Stored input bytes per site (by the site component's name), from the registrations and their wire inputs. */
export function siteInputBytes(
  resources: readonly RecordedResource[],
  inputsOf: (urn: string) => Record<string, unknown> | undefined,
): Map<string, number> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const siteOf = (r: RecordedResource | undefined): RecordedResource | undefined => {
    for (let at = r; at; at = byUrn.get(at.parent)) if (at.type === SITE_TYPE) return at;
    return undefined;
  };
  const bytes = new Map<string, number>();
  for (const r of resources) {
    const site = siteOf(r);
    if (!site) continue;
    bytes.set(site.name, (bytes.get(site.name) ?? 0) + checkpointBytes(inputsOf(r.urn) ?? {}));
  }
  return bytes;
}

/** Stored input bytes of every resource of the stack. */
export function stackInputBytes(
  resources: readonly RecordedResource[],
  inputsOf: (urn: string) => Record<string, unknown> | undefined,
): number {
  return resources.reduce((sum, r) => sum + checkpointBytes(inputsOf(r.urn) ?? {}), 0);
}
