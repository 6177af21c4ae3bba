import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { NodeConfig } from "../lib/config/schema";

const ROLE_DESCRIPTIONS: Record<NodeConfig["role"], string> = {
  "primary-compute": "Primary compute: production workloads and customer containers (HA)",
  "secondary-compute": "Secondary compute: infrastructure services, HA failover target",
  "router-services": "Router and lightweight services (OpenWrt CT, billing, reverse proxy)",
};

export interface ClusterNodesArgs {
  /** Name of the corosync cluster (e.g. `cluster0`); informational, the provider cannot manage it. */
  clusterName: string;
  /** The physical nodes, with their roles and capacities. */
  nodes: readonly NodeConfig[];
  /** Provider holding the infrastructure-scope API token. */
  provider: pulumi.ProviderResource;
}

/**
 * The cluster's nodes. Nodes and corosync membership cannot be created through the API, so they
 * are typed data here; per node the program manages what the provider supports and the seed
 * implies: the node's notes, which state its role.
 */
export class ClusterNodes extends pulumi.ComponentResource {
  /** Node names, in config order. */
  readonly names: string[];
  /** Votes needed for quorum (a majority of the nodes). */
  readonly quorum: number;

  constructor(name: string, args: ClusterNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:cluster:ClusterNodes", name, {}, opts);
    this.names = args.nodes.map((n) => n.name);
    this.quorum = quorumOf(args.nodes.length);
    for (const node of args.nodes) {
      new proxmoxve.node.Config(
        node.name,
        {
          nodeName: node.name,
          description: `${ROLE_DESCRIPTIONS[node.role]}. ${node.cores} cores, ${node.memoryMiB / 1024} GiB RAM, ${node.diskGB} GB disk, ${node.ip}. Member of ${args.clusterName}. Managed by Pulumi (nodepoint).`,
        },
        { parent: this, provider: args.provider, import: node.name },
      );
    }
    this.registerOutputs({ names: this.names, quorum: this.quorum });
  }
}

/** Votes a corosync cluster of `nodes` one-vote members needs to stay quorate. */
export function quorumOf(nodes: number): number {
  return Math.floor(nodes / 2) + 1;
}
