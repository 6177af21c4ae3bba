import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { ContainerGuestConfig, NetworksConfig } from "../lib/config/schema";
import { statefulOptions } from "./adoption";
import { containerInterfaces } from "./guestNetworks";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";
import { formerlyNamed } from "./childNames";
import type { InfraGuestArgs } from "./infraGuest";

export type ServiceContainerArgs = InfraGuestArgs<ContainerGuestConfig>;

/** An infrastructure LXC container: protected, adoptable. */
export class ServiceContainer extends pulumi.ComponentResource {
  readonly container: proxmoxve.ContainerLegacy;

  constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.serviceContainer, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    this.container = declareInfraContainer(name, args, this);
    this.registerOutputs({ vmId: args.guest.vmid, node: args.guest.node });
  }
}

/** Declares the container of an infrastructure guest under `parent` (shared by the router). */
export function declareInfraContainer(
  name: string,
  args: ServiceContainerArgs,
  parent: pulumi.Resource,
): proxmoxve.ContainerLegacy {
  const { guest } = args;
  const inputs = infraContainerArgs(guest, args.networks, args.pool);
  return new proxmoxve.ContainerLegacy(
    `${name}-ct-${guest.vmid}`,
    inputs,
    statefulOptions(
      "container",
      inputs,
      { parent, ...formerlyNamed(`ct-${guest.vmid}-${guest.name}`) },
      { adopt: guest.adopt, importId: `${guest.node}/${guest.vmid}` },
    ),
  );
}

/**
 * Provider inputs of an infrastructure container. Pure: the figures come straight from config. What
 * the config leaves out (notes, tags, privilege, boot settings, PVE protection) is declared for a
 * container the program creates and left undeclared for an adopted one, which keeps its own.
 */
export function infraContainerArgs(
  guest: ContainerGuestConfig,
  networks: NetworksConfig,
  pool: string,
): proxmoxve.ContainerLegacyArgs {
  const fresh = !guest.adopt;
  const privileged = guest.privileged ?? (fresh ? false : undefined);
  const protection = guest.pveProtection ?? (fresh ? true : undefined);
  const startOnBoot = guest.startOnBoot ?? (fresh ? true : undefined);
  return {
    vmId: guest.vmid,
    nodeName: guest.node,
    ...(fresh ? { poolId: pool } : {}),
    ...(guest.description !== undefined ? { description: guest.description } : {}),
    ...(guest.tags !== undefined ? { tags: [...guest.tags].sort() } : {}),
    ...(privileged !== undefined ? { unprivileged: !privileged } : {}),
    cpu: { cores: guest.cores },
    memory: { dedicated: guest.memoryMiB },
    networkInterfaces: containerInterfaces(networks, guest.networks, false),
    ...(startOnBoot !== undefined ? { startOnBoot } : {}),
    started: true,
    ...(protection !== undefined ? { protection } : {}),
    ...(guest.startupOrder !== undefined ? { startup: { order: guest.startupOrder } } : {}),
    ...(guest.disk ? { disk: { datastoreId: guest.disk.storage, size: guest.disk.sizeGiB } } : {}),
    ...(guest.template ? { operatingSystem: { templateFileId: guest.template, type: guest.osType } } : {}),
    initialization: { hostname: guest.name },
  };
}
