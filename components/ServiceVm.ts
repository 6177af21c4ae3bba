import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { NetworksConfig, VmGuestConfig } from "../lib/config/schema";
import { statefulOptions } from "./adoption";
import { vmNetworkDevices } from "./guestNetworks";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { requireProviders } from "./providerOptions";
import { formerlyNamed } from "./childNames";
import type { InfraGuestArgs } from "./infraGuest";

export type ServiceVmArgs = InfraGuestArgs<VmGuestConfig>;

/** A service VM: protected, adoptable, never migrated by a diff. */
export class ServiceVm extends pulumi.ComponentResource {
  readonly vm: proxmoxve.VmLegacy;

  constructor(name: string, args: ServiceVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.serviceVm, name, {}, opts);
    requireProviders(this, name, ["proxmoxve"]);
    const { guest } = args;
    const inputs = serviceVmArgs(guest, args.networks, args.pool);
    this.vm = new proxmoxve.VmLegacy(
      `${name}-vm-${guest.vmid}`,
      inputs,
      statefulOptions(
        "vm",
        inputs,
        { parent: this, ...formerlyNamed(`vm-${guest.vmid}-${guest.name}`) },
        { adopt: guest.adopt, importId: `${guest.node}/${guest.vmid}` },
      ),
    );
    this.registerOutputs({ vmId: guest.vmid, node: guest.node });
  }
}

/**
 * Provider inputs of a service VM. Pure: the figures come straight from config; what it leaves out is
 * declared for a VM the program creates and left undeclared for an adopted one (see ServiceContainer).
 */
export function serviceVmArgs(guest: VmGuestConfig, networks: NetworksConfig, pool: string): proxmoxve.VmLegacyArgs {
  const fresh = !guest.adopt;
  const protection = guest.pveProtection ?? (fresh ? true : undefined);
  const onBoot = guest.startOnBoot ?? (fresh ? true : undefined);
  return {
    vmId: guest.vmid,
    name: guest.name,
    nodeName: guest.node,
    ...(fresh ? { poolId: pool } : {}),
    ...(guest.description !== undefined ? { description: guest.description } : {}),
    ...(guest.tags !== undefined ? { tags: [...guest.tags].sort() } : {}),
    cpu: { cores: guest.cores, sockets: 1 },
    memory: { dedicated: guest.memoryMiB },
    networkDevices: vmNetworkDevices(networks, guest.networks, false),
    ...(onBoot !== undefined ? { onBoot } : {}),
    started: true,
    ...(protection !== undefined ? { protection } : {}),
    // A node change of a VM the program created migrates it instead of destroying it. The importer
    // reads `migrate` back as false (lib/providerFacts.ts, vm hazards), so an adopted VM leaves it
    // unset: a node change of an adopted VM is a replacement, which protection refuses.
    ...(fresh ? { migrate: true } : {}),
    stopOnDestroy: false,
    ...(guest.startupOrder !== undefined ? { startup: { order: guest.startupOrder } } : {}),
    ...(guest.disk
      ? { disks: [{ interface: "scsi0", datastoreId: guest.disk.storage, size: guest.disk.sizeGiB }] }
      : {}),
  };
}
