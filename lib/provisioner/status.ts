/**
 * `GET /status?service_id=`: a site as the customer files describe it (with every accepted event),
 * what the last deploy left (the stack's `sitesBySlug` output) and, with a Proxmox token, what the
 * container is doing now. Field names follow the seed's backend (service_id, vmid, private_ip,
 * subdomain, public_ip, status, node, resources, domains: the site's and its proven custom domains).
 */
import { customerOfService } from "../customers/customerChanges";
import { servedDomains } from "../customers/customDomains";
import type { DeployedOutputsReader } from "./deployedOutputs";
import { describeEvent } from "./events";
import { error, subdomainOf, type Ledger, type Reply } from "./ledger";
import type { LiveGuest, LiveState } from "./liveState";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Seconds as the seed's backend shows uptime ("5 days", "3 hours", "12 minutes"). */
export function formatUptime(seconds: number): string {
  const units: Array<[number, string]> = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? "" : "s"}`;
  }
  return `${Math.floor(seconds)} seconds`;
}

function resources(g: LiveGuest): Record<string, string> {
  return {
    ...(g.cpu !== undefined ? { cpu: `${(g.cpu * 100).toFixed(1)}%` } : {}),
    ...(g.mem !== undefined && g.maxmem !== undefined
      ? { memory: `${Math.round(g.mem / MIB)}MB / ${Math.round(g.maxmem / MIB)}MB` }
      : {}),
    ...(g.disk !== undefined && g.maxdisk !== undefined
      ? { disk: `${(g.disk / GIB).toFixed(1)}GB / ${(g.maxdisk / GIB).toFixed(1)}GB` }
      : {}),
    ...(g.uptime !== undefined ? { uptime: formatUptime(g.uptime) } : {}),
  };
}

export async function siteStatus(
  serviceId: number,
  deps: { ledger: Ledger; deployed: DeployedOutputsReader; live?: LiveState },
): Promise<Reply> {
  const { ledger } = deps;
  const site = customerOfService(ledger.files, serviceId);
  if (!site) return error(404, `service_id: no site for service ${serviceId}`);
  const config = ledger.baseState.config;
  const zones = Object.keys(config.cloudflare.zones);
  const onBranch = customerOfService(ledger.baseState.files, serviceId);
  const pending = ledger.pendingFor(serviceId);
  const outputs = await deps.deployed.read();
  const deployed = outputs?.sites.get(site.slug);
  const live = deps.live ? await deps.live.guest(site.data.vmid) : undefined;

  const status =
    live?.guest?.status ??
    (pending.length > 0 || !onBranch
      ? "pending"
      : deployed?.state === onBranch.data.state
        ? deployed.state
        : outputs
          ? "deploying"
          : "committed");
  return {
    status: 200,
    body: {
      success: true,
      service_id: String(serviceId),
      vmid: site.data.vmid,
      private_ip: site.data.ip,
      subdomain: subdomainOf(site.data.domain, zones),
      domain: site.data.domain,
      public_ip: config.ingress.publicIp,
      status,
      state: site.data.state,
      plan: site.data.plan ?? config.defaultPlan,
      node: live?.guest?.node ?? site.data.node,
      ...(site.data.email ? { email: site.data.email } : {}),
      ...(live?.guest ? { resources: resources(live.guest) } : {}),
      domains: servedDomains(site.data),
      provisioning: {
        pending_events: pending.map((e) => ({ event: describeEvent(e.event), accepted_at: e.at })),
        on_branch: onBranch ? { state: onBranch.data.state, plan: onBranch.data.plan ?? config.defaultPlan } : null,
        deployed: deployed ?? null,
        deployed_outputs: outputs ? { read_at: outputs.readAt.toISOString() } : null,
        ...(live?.error ? { live_error: live.error } : {}),
      },
    },
  };
}
