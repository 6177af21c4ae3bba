/**
 * The PVE API connection of the program's own PVE resources: the stack's `nodepoint:proxmox`
 * (endpoint, insecure) and a token, the infrastructure one `proxmoxve:apiToken` (storage checks,
 * backup jobs) or the customer one `nodepoint:proxmoxCustomersApiToken` (restore points), read from
 * the stack config the engine hands every dynamic provider when it configures it (pulumi/pulumi
 * pkg/resource/deploy/target.go GetPackageConfig: dynamic providers get the full configuration,
 * secrets decrypted). Stored once, in the config, instead of with every resource in the state (a
 * backup job or restore point per customer would carry the token with every site), and a rotated
 * token reaches every resource at once.
 *
 * A resource's inputs may still name a `connection` of their own (tests act as another token); it
 * then wins.
 */
import type { PveConnection } from "./client";

/** Stack config keys of the connection: the endpoint, and the infrastructure or the customer token. */
export const PVE_CONFIG = {
  proxmox: "nodepoint:proxmox",
  token: "proxmoxve:apiToken",
  customerToken: "nodepoint:proxmoxCustomersApiToken",
} as const;

/** Which token a provider connects with. */
export type PveTokenKey = typeof PVE_CONFIG.token | typeof PVE_CONFIG.customerToken;

/** The connection from the stack config, or an error naming the key. */
export function pveConnectionFromConfig(
  config: { get(key: string): string | undefined },
  tokenKey: PveTokenKey = PVE_CONFIG.token,
): PveConnection {
  let proxmox: { endpoint?: unknown; insecure?: unknown } = {};
  try {
    proxmox = JSON.parse(config.get(PVE_CONFIG.proxmox) ?? "{}") as typeof proxmox;
  } catch {
    // named below
  }
  if (typeof proxmox.endpoint !== "string" || !/^https?:\/\//.test(proxmox.endpoint))
    throw new Error(`stack config ${PVE_CONFIG.proxmox} has no endpoint (the PVE API URL)`);
  const apiToken = config.get(tokenKey);
  const which = tokenKey === PVE_CONFIG.token ? "the infrastructure token" : "the customer token";
  if (!apiToken)
    throw new Error(`stack config ${tokenKey} is not set (${which}: pulumi config set --secret ${tokenKey} ...)`);
  return { endpoint: proxmox.endpoint, insecure: proxmox.insecure === true, apiToken };
}

/**
 * The stack's connection once `configure` has seen the config, for one provider: `use` answers a
 * resource's own connection when it names one, else the stack's (or why there is none).
 */
export function stackConnection(tokenKey: PveTokenKey = PVE_CONFIG.token): {
  configure(config: { get(key: string): string | undefined }): void;
  use(named: PveConnection | undefined): PveConnection;
} {
  let stack: PveConnection | undefined;
  let problem = "the provider was not configured with the stack config";
  return {
    configure(config) {
      try {
        stack = pveConnectionFromConfig(config, tokenKey);
      } catch (err) {
        // A resource that names its own connection needs none: fail only when one is used.
        problem = (err as Error).message;
      }
    },
    use(named) {
      if (named) return named;
      if (!stack) throw new Error(`no PVE connection: ${problem}`);
      return stack;
    },
  };
}
