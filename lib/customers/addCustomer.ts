import type { StackConfig } from "../config/schema";
import type { Topology } from "../config/topology";
import type { InputProblem } from "../errors";
import { allocateIp, allocateVmid } from "../planning/allocation";
import { placeGuest } from "../planning/capacity";
import { stringify } from "yaml";
import { hostNameProblems } from "./hostNames";
import { parseCustomerText, slugProblems, type ParsedCustomerFile } from "./loadCustomers";
import { retiredIds } from "./retired";
import type { CustomerFile } from "./schema";
import { validateCustomers } from "./validateCustomers";

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
 * Decides a new customer's file: checks the request, allocates the lowest free VMID and IP and
 * places it, then validates the file exactly as the plan will read it (its YAML text parsed back,
 * schema, then all customers together). Whatever this accepts, the plan accepts. Pure; the CLI and
 * the provisioner only write what this returns. A refusal's problems name the field at fault:
 * `(file name)` for the slug, `domain`, `plan`, or `vmid`/`ip`/`node` when pools or capacity are
 * exhausted.
 */
export function planNewCustomer(
  config: StackConfig,
  topology: Topology,
  existing: readonly ParsedCustomerFile[],
  request: AddCustomerRequest,
  file: string,
): AddCustomerResult {
  const refuse = (problems: Array<{ field: string; message: string }>): AddCustomerResult => ({
    ok: false,
    problems: problems.map((p) => ({ file, ...p })),
  });
  const fail = (field: string, message: string) => refuse([{ field, message }]);

  const badSlug = slugProblems(request.slug);
  if (badSlug.length > 0) return refuse(badSlug);
  if (existing.some((c) => c.slug === request.slug))
    return fail("(file name)", `customer "${request.slug}" already exists`);
  const badDomain = hostNameProblems(request.domain);
  if (badDomain.length > 0) return refuse(badDomain.map((message) => ({ field: "domain", message })));
  const planName = request.plan ?? config.defaultPlan;
  const plan = config.plans[planName];
  if (!plan)
    return fail("plan", `plan "${planName}" is not one of the stack's plans (${Object.keys(config.plans).join(", ")})`);

  // Retired VMIDs and IPs (removed customers') are never handed out again (lib/customers/retired.ts).
  const retired = retiredIds(config);
  const vmid = allocateVmid(config.customerPools.vmids, [
    ...existing.map((c) => c.data.vmid),
    ...topology.infraVmids,
    ...retired.vmids.keys(),
  ]);
  if (vmid === undefined)
    return fail(
      "vmid",
      `the customer VMID range ${config.customerPools.vmids.first}-${config.customerPools.vmids.last} is exhausted`,
    );
  const ip = allocateIp(
    config.customerPools.ips,
    [...existing.map((c) => c.data.ip), ...retired.ips.keys()],
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
    const need = {
      cores: plan.cores,
      memoryMiB: plan.memoryMiB,
      diskGiB: plan.diskGiB,
      storage: config.customerPools.storage,
    };
    node = placeGuest(report, candidates, need);
    if (!node)
      return fail(
        "node",
        `no customer node (${candidates.join(", ")}) has room for ${plan.cores} cores, ${plan.memoryMiB} MiB and ${plan.diskGiB} GiB on ${config.customerPools.storage}`,
      );
  }

  const data: CustomerFile = {
    domain: request.domain.toLowerCase(),
    plan: planName,
    vmid,
    ip,
    node,
    ...(request.ha !== undefined ? { ha: request.ha } : {}),
    state: "active",
  };
  // The file as the plan will read it: its YAML text parsed back through the same parser.
  const readBack = parseCustomerText(stringify(data), `${request.slug}.yaml`, file);
  if (!readBack.file) return { ok: false, problems: readBack.problems };
  const check = validateCustomers(config, topology, [...existing, readBack.file]);
  if (check.problems.length > 0) return { ok: false, problems: check.problems };
  return { ok: true, file: readBack.file.data };
}
