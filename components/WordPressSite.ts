import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as cloudflare from "@pulumi/cloudflare";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { installCommand, installerAsset, INSTALLER_PATH, siteEnv } from "../lib/wordpress/installer";
import type { Customer } from "../lib/customers/schema";
import type { SiteReplacement } from "../lib/customers/replacement";
import { replacementPendingNote } from "../lib/replacementNote";
import { CUSTOMER_FIELD_INPUTS, createOnlyInputs, replacementOptions } from "../lib/providerFacts";
import { customerBackupJob } from "../lib/backups/customerBackupJob";
import type { CustomerBackupsConfig } from "../lib/config/schema";
import type { HaBinding } from "./HaPlacement";
import { NpmProxyHost } from "./NpmProxyHost";
import { PveBackupJob } from "./PveBackupJob";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { PveSnapshot } from "./PveSnapshot";
import { requireProviders } from "./providerOptions";

/** The LAN a site's container sits on. */
export interface SiteNetwork {
  /** Linux bridge of the LAN. */
  bridge: string;
  /** Prefix length of the LAN (e.g. 24). */
  prefixLength: number;
  /** Default gateway (the router). */
  gateway: string;
}

export interface WordPressSiteArgs {
  /**
   * The validated customer (from `customers/<slug>.yaml`), every default resolved, placed where its
   * container is declared (`declaredPlacement`: the deployed placement while a replacement is
   * being prepared).
   */
  customer: Customer;
  /**
   * A confirmed replacement of the site's container (lib/customers/replacement.ts). `prepare`: the
   * container stays where it is with its protection lifted and no HA; `execute`: it is re-created
   * where the file puts it.
   */
  replacement?: SiteReplacement;
  /** The LAN the container gets its static address on. */
  network: SiteNetwork;
  /** Volume ID of the Ubuntu 24.04 LXC template the container is created from. */
  templateVolumeId: string;
  /** Proxmox pool customer containers belong to (the customer token's scope). */
  proxmoxPool: string;
  /** Public ingress address the site's DNS record points at. */
  publicIp: string;
  /** Proxy the DNS record through Cloudflare. */
  proxied: boolean;
  /**
   * How the HA resource binds to the HA group (PVE 8), or the node-affinity rule each site gets
   * (PVE 9); its limits, and the provider HA resources are managed with (HaPlacement's: the
   * infrastructure token; the customer token has nothing on `/`).
   */
  haBinding: HaBinding;
  /** Resources the container waits for (the template download on its node, the pool). */
  dependsOn?: pulumi.Resource[];
  /** Address WordPress mails the admin at (the site is installed with --skip-email). */
  adminEmail: string;
  /** The cluster security group the container's firewall applies, and its outbound policy. */
  firewall: { securityGroup: string; outputPolicy: string };
  /**
   * Nginx Proxy Manager: where the site's proxy host is created. The provider logs in as the stack's
   * automation user (`nodepoint:npm`, `nodepoint:npmPassword`: components/NpmProxyHost.ts).
   */
  proxy: { apiUrl: string };
  /**
   * The WordPress installer's public SSH key (`ssh-ed25519 AAAA...`), put in root's `authorized_keys`
   * when the container is created. The private key is in no resource: the installer's SSH connection
   * authenticates with the ssh-agent at SSH_AUTH_SOCK of the machine running `pulumi up` (README,
   * "Running it for real"). Password login for root stays off, as the Ubuntu template has it.
   */
  installerPublicKey: string;
  /**
   * The container's scheduled backup (lib/backups/customerBackupJob.ts): the stack's `customerBackups`
   * and what the job waits for (the infrastructure jobs, narrowed so that none backs up customer
   * containers). Its provider uses the stack's infrastructure connection (lib/pve/stackConnection.ts).
   */
  backup: {
    settings: CustomerBackupsConfig;
    dependsOn: pulumi.Input<pulumi.Resource>[];
  };
}

/**
 * Container inputs that only matter when the container is created (lib/providerFacts.ts): changing
 * them later (a newer template build, a rotated root password) must never replace a customer's
 * container, and PVE lets only root@pam change features other than nesting afterwards.
 */
export const CREATE_ONLY_CONTAINER_INPUTS: readonly string[] = createOnlyInputs("container");

/**
 * One customer's WordPress site: an unprivileged LXC container from the shared template on the
 * DRBD pool, its generated credentials, its firewall (the shared security group), its HA resource
 * (when `ha`), its DNS record, its proxy host on Nginx Proxy Manager, the WordPress installer and its
 * scheduled backup.
 *
 * Lifecycle (`customer.state`): `active` runs and installs; `suspended` stops the container (HA
 * resource `stopped` so HA does not restart it) but keeps DNS and the proxy host; `decommissioned`
 * stops it, drops HA, DNS and the proxy host and lifts protection, so that deleting the customer
 * file afterwards can destroy it.
 *
 * Replacement (`args.replacement`, README "Lifecycle"): the container is always declared
 * `deleteBeforeReplace` (its VMID is fixed); its firewall and the installer are replaced with it
 * (`replaceWith`; the firewall goes with a deleted container, `deletedWith`); the HA resource and
 * rule are the site's own, created after the container and removed before it.
 *
 * Providers come in the resource options (`providers`): Proxmox VE with the customer token (its
 * privileges reach only the customer pool's members) and Cloudflare; the children inherit them. The
 * HA resource and rule use `haBinding.provider` (the infrastructure token).
 */
export class WordPressSite extends pulumi.ComponentResource {
  readonly url: string;
  readonly ip: string;
  readonly vmId: number;
  readonly node: string;
  readonly adminUser: string;
  readonly adminPassword: pulumi.Output<string>;
  readonly state: Customer["state"];
  readonly container: proxmoxve.ContainerLegacy;
  /** The HA resource, when the site has HA; `sid` is what an HA rule lists. */
  readonly haResource?: { sid: string; resource: proxmoxve.Haresource };

  constructor(name: string, args: WordPressSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.wordPressSite, name, {}, opts);
    requireProviders(this, name, ["proxmoxve", "cloudflare"]);
    const c = args.customer;
    this.url = `https://${c.domain}/`;
    this.ip = c.ip;
    this.vmId = c.vmid;
    this.node = c.node;
    this.state = c.state;
    this.adminUser = "admin";

    const rootPassword = new random.RandomPassword(
      `${name}-root-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const adminPassword = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 24, special: true, overrideSpecial: "-_.+!" },
      { parent: this },
    );
    this.adminPassword = pulumi.secret(adminPassword.result);

    // Marked secret here too: the program never relies on the engine to hide a credential.
    const rootSecret = pulumi.secret(rootPassword.result);
    this.container = this.declareContainer(name, args, rootSecret);
    if (c.ha && args.replacement?.phase !== "prepare") this.haResource = this.declareHa(name, args);
    const firewall = this.declareFirewall(name, args);
    if (c.state !== "decommissioned") {
      const dns = this.declareDns(name, args);
      this.declareProxyHost(name, args, dns);
      this.declareCustomDomains(name, args);
    }
    if (c.state === "active") this.declareInitialRestorePoint(name, args, this.declareInstaller(name, args, firewall));
    if (c.state !== "decommissioned") this.declareBackup(name, args);

    this.registerOutputs({
      url: this.url,
      ip: this.ip,
      vmId: this.vmId,
      node: this.node,
      adminUser: this.adminUser,
      adminPassword: this.adminPassword,
      state: this.state,
    });
  }

  private declareContainer(
    name: string,
    args: WordPressSiteArgs,
    rootPassword: pulumi.Output<string>,
  ): proxmoxve.ContainerLegacy {
    const c = args.customer;
    const running = c.state === "active";
    const preparing = args.replacement?.phase === "prepare" ? args.replacement : undefined;
    // Protection (Pulumi's and PVE's) is lifted for a decommission, and for a confirmed replacement
    // until it runs: PVE refuses to delete a protected container.
    const keep = c.state !== "decommissioned" && !preparing;
    const pending = preparing
      ? ` ${replacementPendingNote(preparing.fields.map((f) => ({ field: f, from: preparing.from[f], to: preparing.to[f] })))}`
      : "";
    return new proxmoxve.ContainerLegacy(
      `${name}-ct`,
      {
        vmId: c.vmid,
        nodeName: c.node,
        poolId: args.proxmoxPool,
        // The customer is named by its file (the slug); every byte here is stored with each site.
        description: `WordPress site ${c.domain}, ${c.plan} plan. Managed by Pulumi from customers/${c.slug}.yaml.${pending}`,
        // No tags: PVE checks tags on /vms/<vmid> alone at creation, which the customer token's pool
        // grant does not reach, so any tag makes the create fail (README, "Access").
        unprivileged: true,
        features: { nesting: true },
        operatingSystem: { templateFileId: args.templateVolumeId, type: "ubuntu" },
        cpu: { cores: c.cores },
        memory: { dedicated: c.memoryMiB, swap: 512 },
        disk: { datastoreId: c.storage, size: c.diskGiB },
        networkInterfaces: [{ name: "eth0", bridge: args.network.bridge, firewall: true }],
        initialization: {
          hostname: c.slug,
          ipConfigs: [{ ipv4: { address: `${c.ip}/${args.network.prefixLength}`, gateway: args.network.gateway } }],
          userAccount: { password: rootPassword, keys: [args.installerPublicKey] },
        },
        startOnBoot: running,
        started: running,
        protection: keep,
      },
      {
        parent: this,
        protect: keep,
        ignoreChanges: [...CREATE_ONLY_CONTAINER_INPUTS],
        ...replacementOptions("container"),
        // Records which fields the prepared replacement is for (the next plan reads it back).
        ...(preparing ? { replaceOnChanges: preparing.fields.map((f) => CUSTOMER_FIELD_INPUTS[f]) } : {}),
        ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}),
      },
    );
  }

  /**
   * The HA resource `ct:<vmid>` and, with PVE 9 rules, the site's own node-affinity rule
   * `rule-<vmid>` (as the seed's platform does), so that adding or removing an HA customer touches
   * no other resource. Created after the container, deleted before it (PVE refuses to delete an HA
   * resource's guest); a changed `resourceId` replaces the resource.
   */
  private declareHa(name: string, args: WordPressSiteArgs): { sid: string; resource: proxmoxve.Haresource } {
    const c = args.customer;
    const sid = `ct:${c.vmid}`;
    const options = { parent: this, provider: args.haBinding.provider };
    const resource = new proxmoxve.Haresource(
      `${name}-ha`,
      {
        resourceId: sid,
        type: "ct",
        state: c.state === "active" ? "started" : "stopped",
        maxRestart: args.haBinding.limits.maxRestart,
        maxRelocate: args.haBinding.limits.maxRelocate,
        ...(args.haBinding.group ? { group: args.haBinding.group } : {}),
        comment: `customer ${c.slug}`,
      },
      { ...options, dependsOn: [this.container, ...args.haBinding.dependsOn], ...replacementOptions("haResource") },
    );
    const rule = args.haBinding.rule;
    if (rule)
      new proxmoxve.Harule(
        `${name}-ha-rule`,
        {
          rule: `rule-${c.vmid}`,
          type: "node-affinity",
          nodes: { ...rule.nodes },
          strict: rule.strict,
          resources: [sid],
          // The customer only: the rule's purpose is the same for every site, so it is not repeated
          // in each one's state (README, "Cost on the real path: state per site").
          comment: `customer ${c.slug}`,
        },
        { ...options, dependsOn: [resource], ...replacementOptions("haRule") },
      );
    return { sid, resource };
  }

  /**
   * Installs WordPress inside the running container over SSH from the machine running `pulumi up`,
   * as root with the installer key (from the ssh-agent). It starts once the container runs and its firewall admits SSH
   * from the management network (where that machine must be). The script is copied as a file asset
   * (the state keeps its path and hash, not its text), then run; it is idempotent and re-runs when
   * it changes (the command names its hash) or the site's settings do; the settings travel on
   * stdin, a secret. A re-created container is empty: both are replaced with it.
   */
  private declareInstaller(name: string, args: WordPressSiteArgs, firewall: pulumi.Resource[]): pulumi.Resource {
    const c = args.customer;
    const env = pulumi.secret(
      this.adminPassword.apply((adminPassword) =>
        siteEnv({
          url: this.url,
          domain: c.domain,
          title: c.domain,
          adminUser: this.adminUser,
          adminPassword,
          adminEmail: args.adminEmail,
        }),
      ),
    );
    const connection = {
      host: c.ip,
      user: "root",
      // No key: pulumi-command then authenticates with the ssh-agent at SSH_AUTH_SOCK, which the
      // program checked holds the installer key (lib/ssh/installerAgent.ts); nothing of it per site.
      // A new container boots and starts sshd first: keep dialling for up to 5 minutes.
      dialErrorLimit: 20,
    };
    const script = new command.remote.CopyToRemote(
      `${name}-installer`,
      { connection, source: installerAsset(), remotePath: INSTALLER_PATH },
      { parent: this, dependsOn: [this.container, ...firewall], replaceWith: [this.container] },
    );
    return new command.remote.Command(
      `${name}-wordpress`,
      {
        connection,
        // Also what runs on an update (a new script or new settings): the script is idempotent.
        create: installCommand(),
        stdin: env,
        logging: "stderr",
      },
      {
        parent: this,
        dependsOn: [this.container, ...firewall, script],
        replaceWith: [this.container],
        additionalSecretOutputs: ["stdin"],
      },
    );
  }

  /**
   * The restore point `initial`, taken once the installer succeeded (the seed's platform does the
   * same), so a customer can go back to the freshly installed site (`customer restore <slug> initial`).
   * Taken again after a re-created container's new install (`replaceWith`); the program never deletes
   * it (a suspended or decommissioned site keeps it, with its container).
   */
  private declareInitialRestorePoint(name: string, args: WordPressSiteArgs, installer: pulumi.Resource): void {
    const c = args.customer;
    new PveSnapshot(
      `${name}-initial`,
      {
        slug: c.slug,
        vmid: c.vmid,
        snapname: "initial",
        description: "WordPress as installed",
      },
      { parent: this, dependsOn: [installer], replaceWith: [this.container] },
    );
  }

  /**
   * The container's scheduled backup to the customer backup target, keeping as many archives as the
   * plan's `backups` quota. Suspended sites keep theirs; a decommissioned site's job goes (its archives
   * stay on the storage).
   */
  private declareBackup(name: string, args: WordPressSiteArgs): void {
    const job = customerBackupJob(args.customer, args.backup.settings);
    new PveBackupJob(
      `${name}-backup`,
      {
        id: job.id,
        schedule: job.schedule,
        storage: job.storage,
        vmid: [job.vmid],
        mode: job.mode,
        compress: job.compress,
        keep: job.keep,
        comment: job.comment,
        adopt: false,
      },
      { parent: this, dependsOn: [this.container, ...args.backup.dependsOn] },
    );
  }

  /**
   * The container's own firewall: on, inbound dropped but for the shared security group. Written
   * again for a re-created container (`replaceWith`); PVE deletes a guest's firewall with the guest
   * (pve-container src/PVE/API2/LXC.pm:907), so their own delete is skipped then (`deletedWith`).
   */
  private declareFirewall(name: string, args: WordPressSiteArgs): pulumi.Resource[] {
    const c = args.customer;
    const options = {
      parent: this,
      dependsOn: [this.container],
      replaceWith: [this.container],
      deletedWith: this.container,
    };
    const firewallOptions = new proxmoxve.firewall.OptionsLegacy(
      `${name}-firewall`,
      {
        nodeName: c.node,
        containerId: c.vmid,
        enabled: true,
        inputPolicy: "DROP",
        outputPolicy: args.firewall.outputPolicy,
        macfilter: true,
        ipfilter: true,
        dhcp: false,
        ndp: false,
        radv: false,
      },
      options,
    );
    const rules = new proxmoxve.firewall.RulesLegacy(
      `${name}-firewall-rules`,
      {
        nodeName: c.node,
        containerId: c.vmid,
        rules: [{ securityGroup: args.firewall.securityGroup, comment: "nodepoint customer isolation" }],
      },
      { ...options, ...replacementOptions("guestFirewallRules") },
    );
    return [firewallOptions, rules];
  }

  /**
   * The site's proxy host on Nginx Proxy Manager: domain to the container on port 80, Let's Encrypt,
   * SSL forced. After the DNS record: Let's Encrypt's HTTP challenge resolves the domain.
   */
  private declareProxyHost(name: string, args: WordPressSiteArgs, dns: cloudflare.DnsRecord): void {
    const c = args.customer;
    new NpmProxyHost(
      `${name}-proxy`,
      {
        apiUrl: args.proxy.apiUrl,
        domain: c.domain,
        forwardHost: c.ip,
        forwardPort: 80,
        sslForced: true,
      },
      { parent: this, dependsOn: [this.container, dns] },
    );
  }

  /**
   * A proxy host with its own certificate for each custom domain whose ownership is proven
   * (lib/customers/customDomains.ts: `verifiedAt` in the file); an unproven one gets nothing. No DNS
   * record: the customer's DNS points the domain at the public ingress (checked when it was proven).
   */
  private declareCustomDomains(name: string, args: WordPressSiteArgs): void {
    const c = args.customer;
    for (const { domain } of c.customDomains.filter((d) => d.verified))
      new NpmProxyHost(
        `${name}-domain-${domain}`,
        {
          apiUrl: args.proxy.apiUrl,
          domain,
          forwardHost: c.ip,
          forwardPort: 80,
          sslForced: true,
        },
        { parent: this, dependsOn: [this.container] },
      );
  }

  private declareDns(name: string, args: WordPressSiteArgs): cloudflare.DnsRecord {
    const c = args.customer;
    return new cloudflare.DnsRecord(
      `${name}-dns`,
      {
        zoneId: c.zoneId,
        name: c.domain,
        type: "A",
        content: args.publicIp,
        ttl: args.proxied ? 1 : 300,
        proxied: args.proxied,
        comment: `customer ${c.slug} (managed by Pulumi)`,
      },
      { parent: this },
    );
  }
}
