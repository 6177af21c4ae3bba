import type { NetworksConfig } from "../lib/config/schema";

export type NetworkName = "wan" | "lan" | "dmz";

/** The bridge (and VLAN tag) a guest NIC on `network` attaches to. */
export function attachment(networks: NetworksConfig, network: NetworkName): { bridge: string; vlanId?: number } {
  if (network === "wan") return { bridge: networks.wan.bridge, vlanId: networks.wan.vlanId };
  return { bridge: networks[network].bridge };
}

/** LXC interfaces `eth0..ethN`, one per network, in the order given. */
export function containerInterfaces(networks: NetworksConfig, names: readonly NetworkName[], firewall: boolean) {
  return names.map((network, i) => ({ name: `eth${i}`, ...attachment(networks, network), firewall }));
}

/** VM NICs `net0..netN`, one per network, in the order given (virtio). */
export function vmNetworkDevices(networks: NetworksConfig, names: readonly NetworkName[], firewall: boolean) {
  return names.map((network) => ({ ...attachment(networks, network), model: "virtio", firewall }));
}
