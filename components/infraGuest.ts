import type { NetworksConfig } from "../lib/config/schema";

/** What a component of one infrastructure guest (container, VM, router) takes. */
export interface InfraGuestArgs<Guest> {
  /** The guest as the stack config describes it (VMID, node, cores, memory, networks). */
  guest: Guest;
  /** The cluster's networks, to map network names to bridges. */
  networks: NetworksConfig;
  /**
   * Pool a guest the program creates joins at creation (the infrastructure token's grant is on it); an
   * adopted guest joins through a membership (components/AutomationAccess.ts), since `poolId` would replace it.
   */
  pool: string;
}
