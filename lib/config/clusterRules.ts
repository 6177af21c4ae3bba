import type { ContainerGuestConfig } from "./schema";

/**
 * Rules of the cluster's shape, each stated once: the stack config's validation reports them for
 * the file, and the components that depend on them refuse what breaks them.
 */

/** Votes a corosync cluster of `nodes` one-vote members needs to stay quorate (a majority). */
export function quorumOf(nodes: number): number {
  return Math.floor(nodes / 2) + 1;
}

/** A broken router rule: the guest's field it concerns and why. */
export interface RouterRuleProblem {
  field: "privileged" | "networks" | "router";
  message: string;
}

/**
 * The router rules for one infrastructure container: the router (OpenWrt, marked `router`) is
 * privileged and on the WAN, and no other container is either. Pure.
 */
export function routerRuleProblems(
  guest: Pick<ContainerGuestConfig, "router" | "privileged" | "networks">,
): RouterRuleProblem[] {
  const problems: RouterRuleProblem[] = [];
  if (guest.router) {
    if (!guest.privileged)
      problems.push({
        field: "privileged",
        message: "the router container must be privileged (it owns the network interfaces)",
      });
    if (!guest.networks.includes("wan"))
      problems.push({ field: "networks", message: "the router container needs the wan network" });
  } else {
    if (guest.networks.includes("wan"))
      problems.push({ field: "networks", message: "only the router container may sit on the WAN" });
    if (guest.privileged)
      problems.push({ field: "privileged", message: "only the router container may be privileged" });
  }
  return problems;
}
