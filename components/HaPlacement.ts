import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { HaConfig } from "../lib/config/schema";

export interface HaPlacementArgs {
  /** Where HA resources may run (node1/node2, the nodes with the DRBD pool) and their limits. */
  ha: HaConfig;
  /** Provider holding the infrastructure-scope API token (HA rules and groups are cluster-wide). */
  provider: pulumi.ProviderResource;
}

/** How one HA resource is tied to the placement: PVE 8 names the group on the resource itself. */
export interface HaBinding {
  /** Group name (PVE 8); undefined with rules, where PVE 9 rejects the `group` parameter. */
  group?: string;
  /** Resources the HA resource must wait for. */
  dependsOn: pulumi.Resource[];
}

/**
 * Keeps HA resources on the DRBD nodes. PVE 8: an HA group the resources name. PVE 9 migrated groups
 * to rules: a node-affinity rule that lists the resources (which must exist first), so the rule is
 * declared once every HA resource is known, through `bindResources`.
 */
export class HaPlacement extends pulumi.ComponentResource {
  readonly binding: HaBinding;
  private readonly args: HaPlacementArgs;
  private bound = false;

  constructor(name: string, args: HaPlacementArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:ha:HaPlacement", name, {}, opts);
    this.args = args;
    const { ha } = args;
    if (ha.mode === "group") {
      const group = new proxmoxve.Hagroup(
        ha.name,
        {
          group: ha.name,
          nodes: { ...ha.nodes },
          restricted: ha.strict,
          noFailback: false,
          comment: "Managed by Pulumi: HA resources stay on the DRBD nodes",
        },
        { parent: this, provider: args.provider },
      );
      this.binding = { group: ha.name, dependsOn: [group] };
    } else {
      this.binding = { dependsOn: [] };
    }
  }

  /**
   * Declares the PVE 9 rule over every HA resource (sorted by SID, so the rule's inputs do not
   * depend on the order customers were read in). With no HA resource there is nothing to rule.
   */
  bindResources(resources: ReadonlyArray<{ sid: string; resource: pulumi.Resource }>): void {
    if (this.bound) throw new pulumi.ResourceError("HA resources were already bound", this);
    this.bound = true;
    const { ha } = this.args;
    if (ha.mode === "rule" && resources.length > 0) {
      const sorted = [...resources].sort((a, b) => compareSids(a.sid, b.sid));
      new proxmoxve.Harule(
        ha.name,
        {
          rule: ha.name,
          type: "node-affinity",
          nodes: { ...ha.nodes },
          strict: ha.strict,
          resources: sorted.map((r) => r.sid),
          comment: "Managed by Pulumi: HA resources stay on the DRBD nodes",
        },
        { parent: this, provider: this.args.provider, dependsOn: sorted.map((r) => r.resource) },
      );
    }
    this.registerOutputs({ mode: ha.mode, name: ha.name, resources: resources.length });
  }
}

/** Orders `ct:1000` before `ct:1002` before `vm:100` (by kind, then numerically). */
export function compareSids(a: string, b: string): number {
  const [ka = "", na = "0"] = a.split(":");
  const [kb = "", nb = "0"] = b.split(":");
  return ka === kb ? Number(na) - Number(nb) : ka < kb ? -1 : 1;
}
