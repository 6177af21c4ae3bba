import { CUSTOMER_FIELD_INPUTS, CUSTOMER_REPLACING_FIELDS, inputAt, TYPES } from "../providerFacts";
import type { PreviousPlacement } from "./validateCustomers";

export const CUSTOMER_CONTAINER_TYPE = TYPES.container;
export const SITE_TYPE = "nodepoint:customers:WordPressSite";

interface PlannedResource {
  type: string;
  name: string;
  parent: string;
  inputs: Record<string, unknown>;
}

/**
 * What each customer's container was declared with in a committed desired state (plan JSON):
 * slug → VMID, node and root disk storage, the fields whose change replaces the container.
 */
export function previousPlacements(plan: { resources?: PlannedResource[] }): Map<string, PreviousPlacement> {
  const out = new Map<string, PreviousPlacement>();
  for (const r of plan.resources ?? []) {
    if (r.type !== CUSTOMER_CONTAINER_TYPE || !r.parent.includes(`::${SITE_TYPE}::`)) continue;
    const slug = r.parent.slice(r.parent.lastIndexOf("::") + 2);
    const placement: PreviousPlacement = {};
    for (const field of CUSTOMER_REPLACING_FIELDS) {
      const value = inputAt(r.inputs, CUSTOMER_FIELD_INPUTS[field]);
      if (typeof value === "number" || (typeof value === "string" && value !== "")) placement[field] = value;
    }
    out.set(slug, placement);
  }
  return out;
}
