/**
 * What a deploy must touch, from the desired-state diff of a push (issue 13): when every change
 * belongs to customer sites, those customers' resources alone (`pulumi up --target`), so the
 * engine's work for one customer's change does not grow with the number of customers; anything
 * else (a shared resource changed, no desired state to compare with, code the desired state does
 * not show) deploys the whole stack. The nightly drift check (drift.yml) always runs the whole stack.
 */
import { COMPONENT_TYPES } from "../componentTypes";

/** The parts of a planned resource the decision reads (a plan document's resources). */
export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
}

export type DeployScope =
  { mode: "targeted"; customers: string[]; targets: string[] } | { mode: "full"; reason: string };

/**
 * Files whose change the desired state shows in full: customer files and the desired state itself.
 * A push that changes anything else (the program, a provider's code, the stack file) deploys in full.
 */
export const CUSTOMER_ONLY_PATHS = [/^customers\//, /^desired-state\//];

/** The customer site (component name) each resource belongs to, through its parents. */
function siteOwners(resources: readonly PlannedResource[]): Map<string, string | undefined> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const owners = new Map<string, string | undefined>();
  const ownerOf = (r: PlannedResource): string | undefined => {
    if (owners.has(r.urn)) return owners.get(r.urn);
    const parent = byUrn.get(r.parent);
    const owner = r.type === COMPONENT_TYPES.wordPressSite ? r.name : parent ? ownerOf(parent) : undefined;
    owners.set(r.urn, owner);
    return owner;
  };
  for (const r of resources) ownerOf(r);
  return owners;
}

/** Everything of a resource the deploy acts on (not just its inputs: options, provider, parent). */
const fingerprint = (r: PlannedResource): string => JSON.stringify(r);

/**
 * The deploy's scope for a push: `before` the desired state the stack was deployed from (undefined:
 * none, e.g. a new stack), `after` the pushed one, `changedPaths` the files the push changed.
 * Targets are the URNs of every resource of each changed customer, in both states (a removed
 * resource is targeted so that the targeted update deletes it), sorted.
 */
export function deployScope(
  before: readonly PlannedResource[] | undefined,
  after: readonly PlannedResource[],
  changedPaths: readonly string[],
): DeployScope {
  const other = changedPaths.filter((p) => !CUSTOMER_ONLY_PATHS.some((re) => re.test(p)));
  if (other.length > 0)
    return {
      mode: "full",
      reason: `the push changes more than customers and their desired state: ${other.join(", ")}`,
    };
  if (!before) return { mode: "full", reason: "no deployed desired state to compare with" };
  const [ownersBefore, ownersAfter] = [siteOwners(before), siteOwners(after)];
  const old = new Map(before.map((r) => [r.urn, r]));
  const now = new Map(after.map((r) => [r.urn, r]));
  const changed = [...new Set([...old.keys(), ...now.keys()])].filter((urn) => {
    const [a, b] = [old.get(urn), now.get(urn)];
    return !a || !b || fingerprint(a) !== fingerprint(b);
  });
  const customers = new Set<string>();
  const shared: string[] = [];
  for (const urn of changed) {
    const owner = ownersAfter.get(urn) ?? ownersBefore.get(urn);
    if (owner === undefined) shared.push(urn);
    else customers.add(owner);
  }
  if (shared.length > 0)
    return {
      mode: "full",
      reason: `shared resources change: ${shared.slice(0, 5).join(", ")}${shared.length > 5 ? ", ..." : ""}`,
    };
  const targets = new Set<string>();
  for (const [owners, resources] of [
    [ownersBefore, before],
    [ownersAfter, after],
  ] as const)
    for (const r of resources) if (customers.has(owners.get(r.urn) ?? "")) targets.add(r.urn);
  return { mode: "targeted", customers: [...customers].sort(), targets: [...targets].sort() };
}
