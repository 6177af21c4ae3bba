import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { NetworksConfig, VmGuestConfig } from "../lib/config/schema";
import { ADOPTED_VM_IGNORES, statefulOptions } from "./adoption";
import { vmNetworkDevices } from "./guestNetworks";

export interface ServiceVmArgs {
  /** The VM as the stack config describes it (VMID, node, vCPU, memory, networks). */
  guest: VmGuestConfig;
  /** The cluster's networks, to map network names to bridges. */
  networks: NetworksConfig;
  /** Provider holding the infrastructure-scope API token. */
  provider: pulumi.ProviderResource;
}

/** A service VM (ISPConfig, Paymenter, Nginx Proxy Manager): protected, adoptable, never migrated by a diff. */
export class ServiceVm extends pulumi.ComponentResource {
  readonly vm: proxmoxve.VmLegacy;

  constructor(name: string, args: ServiceVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:guests:ServiceVm", name, {}, opts);
    const { guest } = args;
    this.vm = new proxmoxve.VmLegacy(
      `vm-${guest.vmid}-${guest.name}`,
      serviceVmArgs(guest, args.networks),
      statefulOptions(
        { parent: this, provider: args.provider },
        { adopt: guest.adopt, importId: `${guest.node}/${guest.vmid}`, ignoreChanges: ADOPTED_VM_IGNORES },
      ),
    );
    this.registerOutputs({ vmId: guest.vmid, node: guest.node });
  }
}

/** Provider inputs of a service VM. Pure: the figures come straight from config. */
export function serviceVmArgs(guest: VmGuestConfig, networks: NetworksConfig): proxmoxve.VmLegacyArgs {
  return {
    vmId: guest.vmid,
    name: guest.name,
    nodeName: guest.node,
    ...(guest.description !== undefined ? { description: guest.description } : {}),
    tags: [...guest.tags].sort(),
    cpu: { cores: guest.cores, sockets: 1 },
    memory: { dedicated: guest.memoryMiB },
    networkDevices: vmNetworkDevices(networks, guest.networks, false),
    onBoot: guest.startOnBoot,
    started: true,
    protection: guest.pveProtection,
    // A node change must never turn into destroy-and-recreate: the provider migrates instead.
    migrate: true,
    stopOnDestroy: false,
    ...(guest.startupOrder !== undefined ? { startup: { order: guest.startupOrder } } : {}),
    ...(guest.disk
      ? { disks: [{ interface: "scsi0", datastoreId: guest.disk.storage, size: guest.disk.sizeGiB }] }
      : {}),
  };
}
