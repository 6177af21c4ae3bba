/**
 * The nodepoint platform on cluster0, as desired state.
 *
 * Reads the stack config (Pulumi.<stack>.yaml), the credentials (secret config) and every
 * customer file (customers/*.yaml), validates them all together, then declares:
 * the automation tokens' users, roles, ACLs and pools, node notes, storage, backup jobs, templates, the
 * OpenWrt router, the service guests, HA placement and one WordPressSite per customer.
 *
 * Not declared, on purpose (see README, "What is not managed"): the nodes and corosync cluster
 * (the API cannot create them), the DRBD storage `global-lvm` (no provider type; LINSTOR owns
 * it) and SDN `localnetwork` (PVE's synthetic zone for the nodes' local bridges, not a real zone).
 */
import { AutomationAccess } from "./components/AutomationAccess";
import { BackupJobs } from "./components/BackupJobs";
import { ClusterNodes } from "./components/ClusterNodes";
import { CustomerIsolation } from "./components/CustomerIsolation";
import { HaPlacement } from "./components/HaPlacement";
import { OpenWrtRouter } from "./components/OpenWrtRouter";
import { ServiceContainer } from "./components/ServiceContainer";
import { ServiceVm } from "./components/ServiceVm";
import { StoragePools } from "./components/StoragePools";
import { Templates } from "./components/Templates";
import { WordPressSite } from "./components/WordPressSite";
import { declaredPlacement } from "./lib/customers/replacement";
import { prefixLength } from "./lib/net/ipv4";
import { automationAccess, INFRASTRUCTURE_POOL } from "./lib/permissions/access";
import { loadPlatformInputs } from "./lib/platformInputs";
import { createAccessProvider, createProviders, customerConnection } from "./lib/providers";
import { declareInTurns, SITES_IN_FLIGHT, SITES_PER_TURN } from "./lib/declareInTurns";
import { registrationsSettled } from "./lib/registrationsSettled";
import { withoutSdkDebugLogs } from "./lib/sdkDebugLogs";
import { withoutPromiseStacks } from "./lib/sdkPromiseStacks";

// The SDK's three debug lines per resource, sent to the engine one at a time, cost a quarter of
// the program's time under `pulumi up` (lib/sdkDebugLogs.ts; NODEPOINT_SDK_DEBUG_LOGS keeps them).
withoutSdkDebugLogs();

const { config, secrets, customers, capacity: capacityOfCluster, replacements, installerKey } = loadPlatformInputs();

// The inputs are valid: from here on the SDK's per-promise stack traces are not taken (unless
// PULUMI_DEBUG_PROMISE_LEAKS asks for them, lib/sdkPromiseStacks.ts); under the CLI each of their
// frames goes through the TypeScript loader's source maps: 0.2 s of the program's start-up.
withoutPromiseStacks();

// Users, tokens, roles, ACL entries and pools, as reviewed in lib/permissions/access.ts, with the
// administrator token. Both automation users and tokens are made by hand to bootstrap and adopted
// (their values live in the stack config, once; README, "Running it for real").
const proxmoxAccess = createAccessProvider(config, secrets);
const access = new AutomationAccess(
  "automation-access",
  { access: automationAccess(config), adopt: ["infrastructure", "customer"] },
  { providers: [proxmoxAccess] },
);
const providers = createProviders(config, secrets, proxmoxAccess, {
  infrastructure: { grants: access.grants("infrastructure") },
  customer: { grants: access.grants("customer") },
});
const provider = providers.proxmoxInfra;

const cluster = new ClusterNodes(
  config.cluster.name,
  { clusterName: config.cluster.name, nodes: config.nodes },
  { provider },
);
// Storage checks and backup jobs call PVE's API themselves (lib/pve/), with the infrastructure
// connection of the stack config (lib/pve/stackConnection.ts).
const infraGrants = access.grants("infrastructure");
const storage = new StoragePools(
  "storage",
  { pools: config.storage, clusterNodes: cluster.names },
  { dependsOn: infraGrants },
);
const backupJobs = new BackupJobs("backups", { jobs: config.backupJobs }, { dependsOn: [...infraGrants, storage] });
const templates = new Templates(
  "templates",
  {
    lxcTemplate: config.lxcTemplate,
    vmTemplates: config.guests.flatMap((g) => (g.kind === "vm-template" ? [g] : [])),
    networks: config.networks,
    pool: INFRASTRUCTURE_POOL,
  },
  { provider, dependsOn: [storage] },
);

for (const guest of config.guests) {
  const guestArgs = { networks: config.networks, pool: INFRASTRUCTURE_POOL };
  if (guest.kind === "container" && guest.router) new OpenWrtRouter("router", { guest, ...guestArgs }, { provider });
  else if (guest.kind === "container") new ServiceContainer(guest.name, { guest, ...guestArgs }, { provider });
  else if (guest.kind === "vm") new ServiceVm(guest.name, { guest, ...guestArgs }, { provider });
}

const ha = new HaPlacement("ha", { ha: config.ha }, { provider });
const customerPool = access.pool(config.customerPools.proxmoxPool);

const isolation = new CustomerIsolation(
  "customer-isolation",
  {
    firewall: config.customerFirewall,
    proxySources: config.npm.sourceIps,
    managementCidr: config.networks.management.cidr,
  },
  { provider },
);
// Customer operations (npm run customer -- start|stop|snapshot|restore ...) use the customer token:
// the endpoint and its value from the stack config, a secret (README, "Customer operations").
const customerApi = customerConnection(config, secrets);

// One site per customer, at most SITES_IN_FLIGHT of them declared and not yet answered by the
// engine, SITES_PER_TURN per turn of the event loop (lib/declareInTurns.ts: why).
const pacing = { perTurn: SITES_PER_TURN, inFlight: SITES_IN_FLIGHT, settled: registrationsSettled };
const sites = declareInTurns(customers, pacing, (file) => {
  // Where the container is declared: where it is deployed while a replacement is being prepared.
  const replacement = replacements.get(file.slug);
  const customer = declaredPlacement(file, replacement);
  // The customer token for the container and its firewall (its privileges reach only the customer
  // pool's members), Cloudflare for the DNS record; HA resources use the HA placement's provider.
  return new WordPressSite(
    customer.slug,
    {
      customer,
      ...(replacement ? { replacement } : {}),
      network: {
        bridge: config.networks.lan.bridge,
        prefixLength: prefixLength(config.networks.lan.cidr),
        gateway: config.networks.lan.gateway,
      },
      templateVolumeId: templates.lxcTemplateVolumeId,
      proxmoxPool: config.customerPools.proxmoxPool,
      publicIp: config.ingress.publicIp,
      proxied: config.cloudflare.proxied,
      haBinding: ha.binding,
      dependsOn: [
        customerPool,
        isolation,
        ...(templates.lxcTemplateFiles[customer.node] ? [templates.lxcTemplateFiles[customer.node]!] : []),
      ],
      adminEmail: config.sites.adminEmail,
      firewall: { securityGroup: isolation.securityGroup, outputPolicy: config.customerFirewall.outputPolicy },
      // The proxy hosts' provider logs in with nodepoint:npm's identity and nodepoint:npmPassword itself.
      proxy: { apiUrl: config.npm.apiUrl },
      // The WordPress installer's key (README, "The provisioning flow"): its public half, derived from
      // the stack's secret nodepoint:installerSshKey, goes into every container when it is created;
      // the installer logs in through the ssh-agent of the machine running `pulumi up`.
      installerPublicKey: installerKey.openssh,
      backup: { settings: config.customerBackups, dependsOn: backupJobs.settled },
    },
    { providers: [providers.proxmoxCustomers, providers.cloudflare] },
  );
});

/** Cluster facts: node names and the quorum the cluster needs. */
export const clusterInfo = { name: config.cluster.name, nodes: cluster.names, quorum: cluster.quorum };
/** Allocated vs capacity per node and storage pool (what `npm run plan` tabulates). */
export const capacity = capacityOfCluster;
/** Per customer: site URL, IP, VMID, node, state, admin user and (secret) admin password. */
export const sitesBySlug = sites.then((declared) =>
  Object.fromEntries(
    declared.map((s, i) => [
      customers[i]!.slug,
      {
        url: s.url,
        adminUrl: `${s.url}wp-admin/`,
        ip: s.ip,
        vmId: s.vmId,
        node: s.node,
        state: s.state,
        adminUser: s.adminUser,
        adminPassword: s.adminPassword,
      },
    ]),
  ),
);
/**
 * The API connection of customer operations: the endpoint and the customer token, a secret
 * (`pulumi stack output customerOperationsApi --show-secrets`, which `npm run customer -- start ...`
 * reads when NODEPOINT_CUSTOMER_TOKEN is not set).
 */
export const customerOperationsApi = customerApi;
