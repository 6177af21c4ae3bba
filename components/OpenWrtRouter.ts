import * as pulumi from "@pulumi/pulumi";
import { routerRuleProblems } from "../lib/config/clusterRules";
import type { ContainerGuestConfig } from "../lib/config/schema";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { declareInfraContainer } from "./ServiceContainer";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";
import type { InfraGuestArgs } from "./infraGuest";

/** The router container (privileged, marked `router`, on the WAN), the networks (WAN is PPPoE on the WAN bridge, tagged with the ISP's VLAN), the pool. */
export type OpenWrtRouterArgs = InfraGuestArgs<ContainerGuestConfig>;

/**
 * The OpenWrt router CT. All internet traffic flows through it, so it boots first (startup order
 * from config) and is never replaced: protected, and adopted as it is. PPPoE, WireGuard, zones and
 * NAT live inside OpenWrt's own config, not in Proxmox.
 */
export class OpenWrtRouter extends pulumi.ComponentResource {
  /** Router address on the LAN: the gateway customers use. */
  readonly lanAddress: string;
  readonly wanVlan: number;
  readonly container: proxmoxve.ContainerLegacy;

  constructor(name: string, args: OpenWrtRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.openWrtRouter, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    const { guest } = args;
    const broken = [
      ...(guest.router ? [] : [{ field: "router", message: "the router container must be marked router" }]),
      ...routerRuleProblems(guest),
    ];
    if (broken.length > 0)
      throw new pulumi.ResourceError(`${name}: ${broken.map((p) => `${p.field}: ${p.message}`).join("; ")}`, this);
    this.lanAddress = args.networks.lan.gateway;
    this.wanVlan = args.networks.wan.vlanId;
    this.container = declareInfraContainer(name, args, this);
    this.registerOutputs({ lanAddress: this.lanAddress, wanVlan: this.wanVlan });
  }
}
