import type { StackConfig } from "../config/schema";
import type { Topology } from "../config/topology";
import type { InputProblem } from "../errors";
import { allocateIp, allocateVmid } from "../planning/allocation";
import { placeGuest } from "../planning/capacity";
import type { ParsedCustomerFile } from "./loadCustomers";
import { SLUG_PATTERN, type CustomerFile } from "./schema";
import { validateCustomers, zoneOf } from "./validateCustomers";

export interface AddCustomerRequest {
  slug: string;
  domain: string;
  /** One of the stack's plans; omitted: the stack's default plan. */
  plan?: string;
  /** Node to place on; by default the customer node with the most free memory. */
  node?: string;
  /** Force HA on (the plan's default otherwise). */
  ha?: boolean;
}

export type AddCustomerResult = { ok: true; file: CustomerFile } | { ok: false; problems: InputProblem[] };

/**
 * Decides a new customer's file: validates the request, allocates the lowest free VMID and IP and
 * places it, then validates the result together with every existing customer. Pure; the CLI only
 * writes what this returns.
 */
export function planNewCustomer(
  config: StackConfig,
  topology: Topology,
  existing: readonly ParsedCustomerFile[],
  request: AddCustomerRequest,
  file: string,
): AddCustomerResult {
  const problems: InputProblem[] = [];
  const fail = (field: string, message: string): AddCustomerResult => ({
    ok: false,
    problems: [...problems, { file, field, message }],
  });

  if (!SLUG_PATTERN.test(request.slug))
    return fail(
      "(file name)",
      `slug "${request.slug}" must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen`,
    );
  if (existing.some((c) => c.slug === request.slug))
    return fail("(file name)", `customer "${request.slug}" already exists`);
  const domain = request.domain.toLowerCase();
  const taken = existing.find((c) => c.data.domain.toLowerCase() === domain);
  if (taken) return fail("domain", `${request.domain} is already used by ${taken.file}`);
  if (!zoneOf(domain, Object.keys(config.cloudflare.zones)))
    return fail(
      "domain",
      `${request.domain} is not inside any of the stack's Cloudflare zones (${Object.keys(config.cloudflare.zones).join(", ")})`,
    );
  const planName = request.plan ?? config.defaultPlan;
  const plan = config.plans[planName];
  if (!plan)
    return fail("plan", `plan "${planName}" is not one of the stack's plans (${Object.keys(config.plans).join(", ")})`);

  const vmid = allocateVmid(config.customerPools.vmids, [...existing.map((c) => c.data.vmid), ...topology.infraVmids]);
  if (vmid === undefined)
    return fail(
      "vmid",
      `the customer VMID range ${config.customerPools.vmids.first}-${config.customerPools.vmids.last} is exhausted`,
    );
  const ip = allocateIp(
    config.customerPools.ips,
    existing.map((c) => c.data.ip),
    topology.reservedIps,
  );
  if (ip === undefined)
    return fail(
      "ip",
      `the customer IP pool ${config.customerPools.ips.first}-${config.customerPools.ips.last} is exhausted`,
    );

  const ha = request.ha ?? plan.ha;
  let node = request.node;
  if (!node) {
    const report = validateCustomers(config, topology, existing).capacity;
    const candidates = topology.customerNodes.filter((n) => !ha || n in config.ha.nodes);
    node = placeGuest(
      report,
      candidates,
      { memoryMiB: plan.memoryMiB, diskGiB: plan.diskGiB, storage: config.customerPools.storage },
      config.customerPools.overcommit,
    );
    if (!node)
      return fail(
        "node",
        `no customer node (${candidates.join(", ")}) has room for ${plan.memoryMiB} MiB and ${plan.diskGiB} GiB on ${config.customerPools.storage}`,
      );
  }

  const data: CustomerFile = {
    domain,
    plan: planName,
    vmid,
    ip,
    node,
    ...(request.ha !== undefined ? { ha: request.ha } : {}),
    state: "active",
  };
  const check = validateCustomers(config, topology, [...existing, { slug: request.slug, file, data }]);
  const own = check.problems;
  if (own.length > 0) return { ok: false, problems: own };
  return { ok: true, file: data };
}
