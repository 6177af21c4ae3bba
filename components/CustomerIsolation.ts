import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { CustomerFirewallConfig } from "../lib/config/schema";
import { replacementOptions } from "../lib/providerFacts";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";
import { formerlyNamed } from "./childNames";

export interface CustomerIsolationArgs {
  /** The security group's name and the outbound policy. */
  firewall: CustomerFirewallConfig;
  /** Addresses of the reverse proxy (Nginx Proxy Manager) that may reach sites on 80/443. */
  proxySources: readonly string[];
  /** Management network that may reach sites over SSH. */
  managementCidr: string;
}

/** The datacenter firewall options, every one declared (see the class comment). */
export const DATACENTER_FIREWALL = {
  enabled: true,
  ebtables: true,
  inputPolicy: "ACCEPT",
  outputPolicy: "ACCEPT",
  forwardPolicy: "ACCEPT",
  logRatelimit: { enabled: true, burst: 5, rate: "1/second" },
} as const;

/** IP set names, as rules reference them (`+name`). */
export const PROXY_IPSET = "nodepoint-proxy";
export const MANAGEMENT_IPSET = "nodepoint-mgmt";

/** The security group's rules: inbound HTTP/HTTPS from the proxy, SSH from management, nothing else. */
export function securityGroupRules(firewall: CustomerFirewallConfig) {
  return [
    {
      type: "in",
      action: "ACCEPT",
      proto: "tcp",
      dport: "80,443",
      source: `+${PROXY_IPSET}`,
      comment: "web traffic from Nginx Proxy Manager",
    },
    {
      type: "in",
      action: "ACCEPT",
      proto: "tcp",
      dport: "22",
      source: `+${MANAGEMENT_IPSET}`,
      comment: "SSH from the management network",
    },
    ...firewall.outbound.map((o) => ({
      type: "out",
      action: "ACCEPT",
      proto: o.proto,
      ...(o.dport ? { dport: o.dport } : {}),
      comment: o.comment ?? "allowed outbound",
    })),
  ];
}

/**
 * Customer isolation, expressed once at cluster level: two IP sets and one security group that
 * every customer container's firewall references. Each container's own firewall (in WordPressSite)
 * drops all other inbound traffic, so customers cannot reach each other.
 *
 * The datacenter firewall must be on for guest firewalls to act. Its options are a cluster singleton
 * that always exists and that the importer cannot read back as declared (options absent from
 * cluster.fw read back unset), so they are not imported: `create` writes every one of them, each
 * declared here so no provider default slips in (lib/providerFacts.ts, clusterFirewall). ebtables stays
 * on (PVE's default; the provider would send off, and guests' MAC filtering relies on it); the hosts'
 * own input policy is ACCEPT, so enabling the firewall cannot lock anyone out of the nodes (the
 * WireGuard management range is not PVE's local network); log rate limit and forward policy are PVE's
 * defaults. Deleting the resource leaves the options in PVE.
 */
export class CustomerIsolation extends pulumi.ComponentResource {
  readonly securityGroup: string;

  constructor(name: string, args: CustomerIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.customerIsolation, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    const child = { parent: this };
    const datacenter = new proxmoxve.cluster.FirewallLegacy(`${name}-datacenter-firewall`, DATACENTER_FIREWALL, {
      ...child,
      ...formerlyNamed("datacenter-firewall"),
    });
    const proxy = new proxmoxve.firewall.IpsetLegacy(
      `${name}-${PROXY_IPSET}`,
      { name: PROXY_IPSET, comment: "Nginx Proxy Manager", cidrs: args.proxySources.map((ip) => ({ name: ip })) },
      // A changed list replaces the set, which keeps its name: removed first, never emptied after.
      { ...child, ...replacementOptions("ipSet"), ...formerlyNamed(PROXY_IPSET) },
    );
    const mgmt = new proxmoxve.firewall.IpsetLegacy(
      `${name}-${MANAGEMENT_IPSET}`,
      { name: MANAGEMENT_IPSET, comment: "management network", cidrs: [{ name: args.managementCidr }] },
      { ...child, ...replacementOptions("ipSet"), ...formerlyNamed(MANAGEMENT_IPSET) },
    );
    new proxmoxve.cluster.firewall.security.GroupLegacy(
      `${name}-${args.firewall.securityGroup}`,
      {
        name: args.firewall.securityGroup,
        comment: "customer WordPress containers",
        rules: securityGroupRules(args.firewall),
      },
      { ...child, dependsOn: [datacenter, proxy, mgmt], ...formerlyNamed(args.firewall.securityGroup) },
    );
    this.securityGroup = args.firewall.securityGroup;
    this.registerOutputs({ securityGroup: this.securityGroup });
  }
}
