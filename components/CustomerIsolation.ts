import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { CustomerFirewallConfig } from "../lib/config/schema";

export interface CustomerIsolationArgs {
  /** The security group's name and the outbound policy. */
  firewall: CustomerFirewallConfig;
  /** Addresses of the reverse proxy (Nginx Proxy Manager) that may reach sites on 80/443. */
  proxySources: readonly string[];
  /** Management network that may reach sites over SSH. */
  managementCidr: string;
  /** Provider holding the infrastructure-scope token (cluster firewall objects need Sys.Modify). */
  provider: pulumi.ProviderResource;
}

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
 * The datacenter firewall must be on for guest firewalls to act; it is adopted as it is, with the
 * hosts' own input policy left at ACCEPT so enabling it cannot lock anyone out of the nodes.
 */
export class CustomerIsolation extends pulumi.ComponentResource {
  readonly securityGroup: string;

  constructor(name: string, args: CustomerIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:customers:CustomerIsolation", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const datacenter = new proxmoxve.cluster.FirewallLegacy(
      "datacenter-firewall",
      { enabled: true, inputPolicy: "ACCEPT", outputPolicy: "ACCEPT" },
      { ...child, import: "cluster" },
    );
    const proxy = new proxmoxve.firewall.IpsetLegacy(
      PROXY_IPSET,
      { name: PROXY_IPSET, comment: "Nginx Proxy Manager", cidrs: args.proxySources.map((ip) => ({ name: ip })) },
      child,
    );
    const mgmt = new proxmoxve.firewall.IpsetLegacy(
      MANAGEMENT_IPSET,
      { name: MANAGEMENT_IPSET, comment: "management network", cidrs: [{ name: args.managementCidr }] },
      child,
    );
    new proxmoxve.cluster.firewall.security.GroupLegacy(
      args.firewall.securityGroup,
      {
        name: args.firewall.securityGroup,
        comment: "customer WordPress containers",
        rules: securityGroupRules(args.firewall),
      },
      { ...child, dependsOn: [datacenter, proxy, mgmt] },
    );
    this.securityGroup = args.firewall.securityGroup;
    this.registerOutputs({ securityGroup: this.securityGroup });
  }
}
