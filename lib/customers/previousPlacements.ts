import type { PreviousPlacement } from "./validateCustomers";

export const CUSTOMER_CONTAINER_TYPE = "proxmoxve:index/containerLegacy:ContainerLegacy";
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
    const disk = r.inputs["disk"] as { datastoreId?: string } | undefined;
    out.set(slug, {
      ...(typeof r.inputs["vmId"] === "number" ? { vmid: r.inputs["vmId"] } : {}),
      ...(typeof r.inputs["nodeName"] === "string" ? { node: r.inputs["nodeName"] } : {}),
      ...(disk?.datastoreId ? { storage: disk.datastoreId } : {}),
    });
  }
  return out;
}
