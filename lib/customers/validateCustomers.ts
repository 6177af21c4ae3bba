import type { StackConfig } from "../config/schema";
import { PVE_BOUNDS, patternProblem } from "../config/pveBounds";
import type { Topology } from "../config/topology";
import type { InputProblem } from "../errors";
import { cidrContains, ipToInt } from "../net/ipv4";
import { capacityExcesses, capacityReport, type CapacityReport, type GuestAllocation } from "../planning/capacity";
import type { Baseline } from "./baseline";
import type { ParsedCustomerFile } from "./loadCustomers";
import { replacementDecisions, type SiteReplacement } from "./replacement";
import { retiredUseProblems, unretiredProblems } from "./retired";
import type { Customer } from "./schema";
import { reservedNameProblem } from "./hostNames";
import { customDomainField, customDomainProblems, customDomainsOf } from "./customDomains";

export interface CustomerValidation {
  customers: Customer[];
  problems: InputProblem[];
  /** Allocated vs capacity with every valid customer counted (what the capacity check judged). */
  capacity: CapacityReport;
  /** Confirmed replacements of customers' containers, by slug (lib/customers/replacement.ts). */
  replacements: Map<string, SiteReplacement>;
}

/** The zone a domain lies in (longest match), or undefined. */
export function zoneOf(domain: string, zones: readonly string[]): string | undefined {
  const d = domain.toLowerCase();
  return [...zones].sort((a, b) => b.length - a.length).find((z) => d === z || d.endsWith(`.${z}`));
}

/** The allocation a customer makes, for capacity accounting and placement. */
export function customerAllocation(
  c: Pick<Customer, "file" | "node" | "cores" | "memoryMiB" | "diskGiB" | "storage">,
): GuestAllocation {
  return {
    owner: c.file,
    node: c.node,
    cores: c.cores,
    memoryMiB: c.memoryMiB,
    disk: { storage: c.storage, sizeGiB: c.diskGiB },
  };
}

/**
 * Why Proxmox VE would refuse the slug as the host name a customer's container is created with
 * (`hostname`, format `dns-name`; limits from lib/config/pveBounds.generated.json). Customer containers
 * carry no tags (README, "Access"), so nothing else of the slug reaches PVE.
 */
export function containerNameProblems(slug: string): Array<{ field: string; message: string }> {
  const host = patternProblem(PVE_BOUNDS.lxc.hostname, "container host name", slug);
  return host ? [{ field: "(file name)", message: `slug "${slug}" is the container's host name and ${host}` }] : [];
}

/**
 * Checks all customer files together (duplicates, pools, nodes, HA, bounds, capacity, replacing
 * changes against `baseline`, the committed desired state) and resolves defaults. Pure: every
 * problem is returned, each naming the file and field.
 */
export function validateCustomers(
  config: StackConfig,
  topology: Topology,
  files: readonly ParsedCustomerFile[],
  baseline?: Baseline,
  stackFile = "Pulumi.yaml",
): CustomerValidation {
  const problems: InputProblem[] = [];
  const customers: Customer[] = [];
  const pools = config.customerPools;
  const zones = Object.keys(config.cloudflare.zones);
  const seenVmid = new Map<number, string>();
  const seenIp = new Map<string, string>();
  const seenDomain = new Map<string, string>();
  const seenService = new Map<number, string>();
  const seenCustomDomain = new Map<string, string>();
  const storageById = new Map(config.storage.map((s) => [s.id, s]));

  for (const { slug, file, data } of files) {
    const add = (field: string, message: string) => problems.push({ file, field, message });
    const before = problems.length;

    const planName = data.plan ?? config.defaultPlan;
    for (const p of containerNameProblems(slug)) add(p.field, p.message);

    const domain = data.domain.toLowerCase();
    const zone = zoneOf(domain, zones);
    if (!zone) add("domain", `${data.domain} is not inside any of the stack's Cloudflare zones (${zones.join(", ")})`);
    const reserved = zone ? reservedNameProblem(data.domain, zone) : undefined;
    if (reserved) add("domain", reserved);
    const dupDomain = seenDomain.get(domain);
    if (dupDomain) add("domain", `${data.domain} is already used by ${dupDomain}`);
    seenDomain.set(domain, file);

    const plan = config.plans[planName];
    if (!plan)
      add(
        "plan",
        `plan "${planName}" is not defined in the stack config (plans: ${Object.keys(config.plans).join(", ")})`,
      );
    const customDomains = data.customDomains ?? [];
    if (plan)
      for (const p of customDomainProblems(customDomains, { plan: planName, quota: plan.customDomains }, zones))
        add(p.field, p.message);
    customDomains.forEach((e, i) => {
      const d = e.domain.toLowerCase();
      const other = seenCustomDomain.get(d);
      if (other && other !== file) add(customDomainField(i, "domain"), `${e.domain} is already used by ${other}`);
      else seenCustomDomain.set(d, file);
    });
    if (data.serviceId !== undefined) {
      const dupService = seenService.get(data.serviceId);
      if (dupService) add("serviceId", `${data.serviceId} is already the service of ${dupService}`);
      seenService.set(data.serviceId, file);
    }

    if (data.vmid < pools.vmids.first || data.vmid > pools.vmids.last)
      add("vmid", `${data.vmid} is outside the customer range ${pools.vmids.first}-${pools.vmids.last}`);
    if (topology.infraVmids.has(data.vmid)) add("vmid", `${data.vmid} belongs to an infrastructure guest`);
    const dupVmid = seenVmid.get(data.vmid);
    if (dupVmid) add("vmid", `${data.vmid} is already used by ${dupVmid}`);
    seenVmid.set(data.vmid, file);

    const ipInt = ipToInt(data.ip);
    if (ipInt < ipToInt(pools.ips.first) || ipInt > ipToInt(pools.ips.last))
      add("ip", `${data.ip} is outside the customer pool ${pools.ips.first}-${pools.ips.last}`);
    if (!cidrContains(config.networks.lan.cidr, data.ip))
      add("ip", `${data.ip} is outside the LAN ${config.networks.lan.cidr}`);
    if (topology.reservedIps.has(data.ip)) add("ip", `${data.ip} is a node, gateway or infrastructure address`);
    const dupIp = seenIp.get(data.ip);
    if (dupIp) add("ip", `${data.ip} is already used by ${dupIp}`);
    seenIp.set(data.ip, file);

    const storage = data.storage ?? pools.storage;
    const nodeExists = config.nodes.some((n) => n.name === data.node);
    if (!nodeExists) add("node", `unknown node "${data.node}" (nodes: ${config.nodes.map((n) => n.name).join(", ")})`);
    else if (!topology.customerNodes.includes(data.node))
      add(
        "node",
        `${data.node} does not have the customer storage ${pools.storage} (customer nodes: ${topology.customerNodes.join(", ")})`,
      );
    const pool = storageById.get(storage);
    if (!pool) add("storage", `unknown storage "${storage}"`);
    else {
      if (!pool.content.includes("rootdir")) add("storage", `storage "${storage}" cannot hold container root disks`);
      if (nodeExists && !pool.nodes.includes(data.node))
        add("storage", `storage "${storage}" is not available on ${data.node}`);
    }

    // A decommissioned customer has no HA, whatever its file or plan says (no edit needed to remove it).
    const ha = (data.ha ?? plan?.ha ?? false) && data.state !== "decommissioned";
    if (ha) {
      if (!(data.node in config.ha.nodes))
        add("ha", `HA cannot run on ${data.node}: HA resources are kept on ${Object.keys(config.ha.nodes).join(", ")}`);
      if (pool && pool.type !== "drbd" && !(pool.type === "dir" && pool.shared))
        add("ha", `HA needs shared storage; "${storage}" is local to one node`);
    }

    const size = {
      cores: data.cores ?? plan?.cores ?? 0,
      memoryMiB: data.memoryMiB ?? plan?.memoryMiB ?? 0,
      diskGiB: data.diskGiB ?? plan?.diskGiB ?? 0,
    };
    for (const kind of ["cores", "memoryMiB", "diskGiB"] as const) {
      const override = data[kind];
      const bounds = pools.bounds[kind];
      if (override !== undefined && (override < bounds.first || override > bounds.last))
        add(kind, `${override} is outside the allowed ${bounds.first}-${bounds.last}`);
    }

    if (problems.length === before && zone && plan) {
      customers.push({
        slug,
        file,
        domain,
        plan: planName,
        quotas: { backups: plan.backups, customDomains: plan.customDomains },
        ...(data.serviceId !== undefined ? { serviceId: data.serviceId } : {}),
        ...(data.email !== undefined ? { email: data.email } : {}),
        vmid: data.vmid,
        ip: data.ip,
        node: data.node,
        ha,
        ...size,
        storage,
        state: data.state,
        zone,
        zoneId: config.cloudflare.zones[zone] ?? "",
        customDomains: customDomainsOf(data.customDomains),
      });
    }
  }

  const replacement = replacementDecisions(customers, files, baseline);
  problems.push(...replacement.problems);
  problems.push(
    ...retiredUseProblems(files, config, stackFile),
    ...unretiredProblems(
      files.map((f) => ({ slug: f.slug, vmid: f.data.vmid })),
      baseline,
      config,
      stackFile,
    ),
  );

  const capacity = capacityReport(
    topology.nodes,
    topology.pools,
    [...topology.infraAllocations, ...customers.map(customerAllocation)],
    topology.overcommit,
  );
  if (problems.length === 0) problems.push(...capacityProblems(capacity, customers, stackFile));
  return { customers, problems, capacity, replacements: replacement.replacements };
}

/** Over-capacity nodes and pools, each attributed to the last customer file (by slug) that lands there. */
function capacityProblems(report: CapacityReport, customers: readonly Customer[], stackFile: string): InputProblem[] {
  return capacityExcesses(report).map((x) => {
    const [pool, scope] = x.where.split("@");
    const last = [...customers]
      .reverse()
      .find((c) =>
        x.kind === "storage" ? c.storage === pool && (scope === "shared" || c.node === scope) : c.node === x.where,
      );
    const what = { cpu: "CPU", memory: "memory", storage: "disk space" }[x.kind];
    const carried = x.kind === "memory" ? "carry" : "hold";
    return {
      // With no customer there, the infrastructure alone is over the limit: the stack file is at fault.
      file: last?.file ?? stackFile,
      field: last ? (x.kind === "storage" ? "diskGiB" : "node") : `nodepoint:customerPools.overcommit.${x.kind}`,
      message: `${x.where} would ${carried} ${x.allocated} ${x.unit} of ${what}, above its capacity × overcommit: ${x.capacity} × ${x.ratio} = ${x.limit} ${x.unit}`,
    };
  });
}
