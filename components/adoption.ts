import type * as pulumi from "@pulumi/pulumi";

/**
 * Inputs of an adopted guest that cannot be read back from Proxmox (the template or image it was
 * created from, cloud-init data, generated MACs, disk layout made by hand). Ignoring them is what
 * lets `import` adopt the guest without a diff, and keeps every later `pulumi up` from replacing it.
 */
export const ADOPTED_CONTAINER_IGNORES: readonly string[] = [
  "operatingSystem", // template not read back; replace-on-change
  "initialization", // user account (replace-on-change) and in-guest IP config made by hand
  "disk", // real size unknown to the seed; a smaller declared size means replacement
  "mountPoints", // adding or removing one replaces the container
  "poolId", // never read back; replace-on-change
  "clone",
  "features", // on a privileged container only root@pam may set them
  "console",
  "networkInterfaces[*].macAddress",
];

export const ADOPTED_VM_IGNORES: readonly string[] = [
  "clone",
  "cdrom",
  "disks",
  "efiDisk",
  "tpmState",
  "initialization",
  "operatingSystem",
  "bios",
  "machine",
  "scsiHardware",
  "bootOrders",
  "agent",
  "vga",
  "serialDevices",
  "amdSev",
  "cpu.type",
  "cpu.architecture",
  "networkDevices[*].macAddress",
  "networkDevices[*].model",
];

/** What the program knows about an existing object it should adopt rather than create. */
export interface Adoption {
  /** Adopt the existing object on the next `pulumi up`. */
  adopt: boolean;
  /** The provider's import ID for it (e.g. `node2/100`, `local-zfs`). */
  importId: string;
  /** Inputs to leave as Proxmox has them. */
  ignoreChanges: readonly string[];
}

/**
 * Resource options for a stateful object: always protected; adopted ones carry `import`, which
 * Pulumi keeps as a no-op once the object is in the state, so the flag may stay set for good.
 */
export function statefulOptions(base: pulumi.CustomResourceOptions, adoption: Adoption): pulumi.CustomResourceOptions {
  return {
    ...base,
    protect: true,
    ...(adoption.adopt ? { import: adoption.importId, ignoreChanges: [...adoption.ignoreChanges] } : {}),
  };
}
