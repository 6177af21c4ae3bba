import { PVE_CONFIG } from "../../lib/pve/stackConnection";

/**
 * The stack config the engine hands the dynamic-provider plugin (lib/pve/stackConnection.ts reads
 * it): the fake's endpoint in `nodepoint:proxmox`, and whichever tokens the test gives.
 */
export function pveStackConfig(
  endpoint: string,
  tokens: { infrastructure?: string; customer?: string } = {},
): Record<string, string> {
  return {
    [PVE_CONFIG.proxmox]: JSON.stringify({ endpoint, insecure: true }),
    ...(tokens.infrastructure ? { [PVE_CONFIG.token]: tokens.infrastructure } : {}),
    ...(tokens.customer ? { [PVE_CONFIG.customerToken]: tokens.customer } : {}),
  };
}
