import { reservedAddresses } from "../net/ipv4";
import type { GuestAllocation, NodeCapacity, PoolCapacity } from "../planning/capacity";
import type { StackConfig } from "./schema";

/** Views of the stack config that planning needs, derived once. */
export interface Topology {
  nodes: NodeCapacity[];
  pools: PoolCapacity[];
  /** What the infrastructure guests allocate (templates are stopped and allocate no CPU or memory). */
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
    nodes: config.nodes.map((n) => ({ name: n.name, cores: n.cores, memoryMiB: n.memoryMiB })),
    pools: config.storage.map((s) => ({
      id: s.id,
      shared: s.type === "drbd" || (s.type === "dir" && s.shared),
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
