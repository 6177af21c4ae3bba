import { reservedAddresses } from "../net/ipv4";
import type { GuestAllocation, NodeCapacity, Overcommit, PoolCapacity } from "../planning/capacity";
import type { StackConfig } from "./schema";

/** Views of the stack config that planning needs, derived once. */
export interface Topology {
  /** The ratios capacity limits are computed with (`nodepoint:customerPools.overcommit`). */
  overcommit: Overcommit;
  nodes: NodeCapacity[];
  pools: PoolCapacity[];
  /**
   * What the infrastructure guests allocate (templates are stopped and allocate no CPU or memory).
   * Adopted guests ran when the seed measured the nodes: their memory is inside the measured use.
   */
  infraAllocations: GuestAllocation[];
  /** VMIDs of infrastructure guests. */
  infraVmids: Set<number>;
  /** LAN addresses never handed to a customer: nodes, gateway, reserved, network and broadcast. */
  reservedIps: Set<string>;
  /** Nodes a customer may live on: those with the customer (DRBD) storage. */
  customerNodes: string[];
}

export function topologyOf(config: StackConfig): Topology {
  const customerStorage = config.storage.find((s) => s.id === config.customerPools.storage);
  const lan = config.networks.lan;
  return {
    overcommit: config.customerPools.overcommit,
    nodes: config.nodes.map((n) => ({
      name: n.name,
      cores: n.cores,
      memoryMiB: n.memoryMiB,
      memoryUsedMiB: n.memoryUsedMiB,
    })),
    pools: config.storage.map((s) => ({
      id: s.id,
      shared: s.type === "drbd" || s.type === "nfs" || (s.type === "dir" && s.shared),
      nodes: s.nodes,
      capacityGiB: s.capacityGiB,
      usedGiB: s.usedGiB,
    })),
    infraAllocations: config.guests.flatMap((g) =>
      g.kind === "vm-template"
        ? []
        : [
            {
              owner: `${g.kind === "vm" ? "VM" : "CT"} ${g.vmid} ${g.name}`,
              node: g.node,
              cores: g.cores,
              memoryMiB: g.memoryMiB,
              measured: g.adopt,
              ...(g.disk ? { disk: { storage: g.disk.storage, sizeGiB: g.disk.sizeGiB } } : {}),
            },
          ],
    ),
    infraVmids: new Set(config.guests.map((g) => g.vmid)),
    reservedIps: new Set([
      ...config.nodes.map((n) => n.ip),
      lan.gateway,
      ...lan.reserved,
      ...reservedAddresses(lan.cidr),
    ]),
    customerNodes: [...(customerStorage?.nodes ?? [])],
  };
}
