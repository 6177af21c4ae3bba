/**
 * Resources several customer sites depend on (the customer pool, the isolation IP sets and security
 * group, the template files): a change to one of them reaches every such customer, so `plan --diff`
 * names it. Customers otherwise share no mutable resource (each site has its own container, firewall,
 * HA resource and HA rule).
 */
import { COMPONENT_TYPES } from "../componentTypes";
import type { RecordedResource } from "./offlineRuntime";

const SITE_TYPE = COMPONENT_TYPES.wordPressSite;

/** The site (component URN) a resource belongs to, walking up its parents; undefined outside sites. */
function siteOf(r: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): string | undefined {
  for (let cur: RecordedResource | undefined = r; cur; cur = byUrn.get(cur.parent))
    if (cur.type === SITE_TYPE) return cur.urn;
  return undefined;
}

/**
 * URN → number of customer sites that depend on it (directly, or on a component it belongs to),
 * for every resource outside the sites that two or more sites depend on.
 */
export function sharedBySites(resources: readonly RecordedResource[]): Map<string, number> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const dependents = new Map<string, Set<string>>();
  for (const r of resources) {
    const site = siteOf(r, byUrn);
    if (!site) continue;
    for (const dep of r.options.dependsOn) {
      if (siteOf(byUrn.get(dep) ?? r, byUrn) === site) continue;
      dependents.set(dep, (dependents.get(dep) ?? new Set()).add(site));
    }
  }
  const shared = new Map<string, number>();
  for (const r of resources) {
    if (siteOf(r, byUrn)) continue;
    // Depended on itself, or through a component it belongs to.
    let sites = 0;
    for (let cur: RecordedResource | undefined = r; cur; cur = byUrn.get(cur.parent))
      sites = Math.max(sites, dependents.get(cur.urn)?.size ?? 0);
    if (sites >= 2) shared.set(r.urn, sites);
  }
  return shared;
}
