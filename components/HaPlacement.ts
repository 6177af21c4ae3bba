import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { HaConfig } from "../lib/config/schema";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";
import { formerlyNamed } from "./childNames";

export interface HaPlacementArgs {
  /** Where HA resources may run (the nodes with the customers' replicated storage) and their limits. */
  ha: HaConfig;
}

/**
 * How one HA resource is kept on the DRBD nodes: PVE 8 names a shared group on the resource; PVE 9
 * gives each resource a node-affinity rule of its own (declared by the site, `rule-<vmid>`).
 */
export interface HaBinding {
  /** Group name (PVE 8); undefined with rules, where PVE 9 rejects the `group` parameter. */
  group?: string;
  /** What each resource's own rule says (PVE 9); undefined with groups. */
  rule?: { nodes: Record<string, number>; strict: boolean };
  /** Resources the HA resource must wait for. */
  dependsOn: pulumi.Resource[];
  /** Restarts on the same node, then relocations, every HA resource is given. */
  limits: { maxRestart: number; maxRelocate: number };
  /**
   * The provider HA resources and rules are managed with: HaPlacement's own (the infrastructure
   * token). PVE checks every HA resource call as Sys.Console on `/`, with no per-guest check, so a
   * token allowed to make them could put any guest (infrastructure VMs too) under HA and stop it.
   */
  provider: pulumi.ProviderResource;
}

const PURPOSE = "HA resources stay on the DRBD nodes";

/**
 * Keeps HA resources on the DRBD nodes. PVE 8: one HA group the resources name (adding a resource
 * does not change it). PVE 9 migrated groups to rules, and a rule lists its resources: one rule per
 * resource, as the seed's platform makes (`rule-<vmid>`), so that adding or removing an HA customer
 * changes no shared resource. Each site declares its own (components/WordPressSite.ts).
 *
 * Its provider (resource options: the infrastructure token) manages the group and, through
 * `binding.provider`, every site's HA resource and rule.
 */
export class HaPlacement extends pulumi.ComponentResource {
  readonly binding: HaBinding;

  constructor(name: string, args: HaPlacementArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.haPlacement, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    const { ha } = args;
    const common = {
      limits: { maxRestart: ha.maxRestart, maxRelocate: ha.maxRelocate },
      provider: this.getProvider("proxmoxve:index:Any")!,
    };
    if (ha.mode === "group") {
      const group = new proxmoxve.Hagroup(
        `${name}-${ha.name}`,
        {
          group: ha.name,
          nodes: { ...ha.nodes },
          restricted: ha.strict,
          noFailback: false,
          comment: `Managed by Pulumi: ${PURPOSE}`,
        },
        { parent: this, ...formerlyNamed(ha.name) },
      );
      this.binding = { ...common, group: ha.name, dependsOn: [group] };
    } else {
      this.binding = {
        ...common,
        rule: { nodes: { ...ha.nodes }, strict: ha.strict },
        dependsOn: [],
      };
    }
    this.registerOutputs({ mode: ha.mode, name: ha.name });
  }
}
