import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { quorumOf } from "../lib/config/clusterRules";
import type { NodeConfig } from "../lib/config/schema";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";

export interface ClusterNodesArgs {
  /** Name of the corosync cluster; informational, the provider cannot manage it. */
  clusterName: string;
  /** The physical nodes, with their roles and capacities. */
  nodes: readonly NodeConfig[];
}

/**
 * The cluster's nodes. Nodes and corosync membership cannot be created through the API, so they
 * are typed data here. A node's notes are written only when its config has `notes`: the provider
 * reads the live notes back on import (so new notes never import), and an undeclared description
 * would clear them, so unconfigured notes are left alone (lib/providerFacts.ts, nodeConfig).
 */
export class ClusterNodes extends pulumi.ComponentResource {
  /** Node names, in config order. */
  readonly names: string[];
  /** Votes needed for quorum (a majority of the nodes). */
  readonly quorum: number;

  constructor(name: string, args: ClusterNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.clusterNodes, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    this.names = args.nodes.map((n) => n.name);
    this.quorum = quorumOf(args.nodes.length);
    for (const node of args.nodes) {
      if (node.notes === undefined) continue;
      new proxmoxve.node.Config(
        `${name}-${node.name}-notes`,
        { nodeName: node.name, description: node.notes },
        { parent: this },
      );
    }
    this.registerOutputs({ names: this.names, quorum: this.quorum });
  }
}
