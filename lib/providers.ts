import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as cloudflare from "@pulumi/cloudflare";
import type { StackConfig } from "./config/schema";
import type { Secrets } from "./config/secrets";

/**
 * Three Proxmox VE providers, one per API token (lib/permissions/access.ts lists what each is granted):
 *
 * - `proxmox-access`: an administrator token (`nodepoint:proxmoxAccessApiToken`). Only
 *   components/AutomationAccess.ts uses it, to declare the other two tokens' users, roles, ACL entries
 *   and the pools guests are granted through.
 * - `proxmox-infra`: `pulumi-infra@pve!iac` (`proxmoxve:apiToken`): everything but customer guests,
 *   including every HA resource (they are checked on `/`, cluster-wide).
 * - `proxmox-customers`: `pulumi-customers@pve!iac` (`nodepoint:proxmoxCustomersApiToken`): customer
 *   containers and their firewall, in the `customers` pool.
 *
 * Bootstrap: both automation tokens are created by hand before the first `pulumi up` and adopted by
 * AutomationAccess (a secret is shown once, at creation, so it stays in config, where the dynamic
 * providers read it too: stored once, not with every resource). Each provider depends on its token's grants (roles, ACL entries, pools
 * and memberships), so no call is made with a token before they exist. Steps: README, "Running it for real".
 */
export interface Providers {
  /** Proxmox VE with the administrator token: users, tokens, roles and ACLs only. */
  proxmoxAccess: proxmoxve.Provider;
  /** Proxmox VE with the infrastructure-scope token. */
  proxmoxInfra: proxmoxve.Provider;
  /** Proxmox VE with the customer-scope token (customer containers and their firewall only). */
  proxmoxCustomers: proxmoxve.Provider;
  /** Cloudflare with a token limited to DNS edits on the customer zones. */
  cloudflare: cloudflare.Provider;
}

/** What a provider needs from the token it uses. */
export interface TokenAccess {
  /** The token's roles, ACL entries, pools and memberships: the provider (so every resource using it) waits for them. */
  grants: pulumi.Resource[];
}

/** The automation tokens' access, as AutomationAccess declares it. */
export interface AutomationTokens {
  infrastructure: TokenAccess;
  customer: TokenAccess;
}

function secretOf(secrets: Secrets, key: string): pulumi.Output<string> {
  const value = secrets[key];
  if (!value) throw new Error(`internal: secret ${key} was not loaded`);
  return value;
}

/**
 * What customer operations (`npm run customer -- start ...`, through the stack output) connect with:
 * the endpoint and the customer token, a secret.
 */
export function customerConnection(
  config: StackConfig,
  secrets: Secrets,
): pulumi.Output<{ endpoint: string; insecure: boolean; apiToken: string }> {
  const apiToken = secretOf(secrets, "nodepoint:proxmoxCustomersApiToken");
  return pulumi.secret(
    pulumi.output({ endpoint: config.proxmox.endpoint, insecure: config.proxmox.insecure, apiToken }),
  );
}

/** The `proxmox-access` provider, which AutomationAccess needs before the others can be built. */
export function createAccessProvider(config: StackConfig, secrets: Secrets): proxmoxve.Provider {
  return new proxmoxve.Provider("proxmox-access", {
    endpoint: config.proxmox.endpoint,
    insecure: config.proxmox.insecure,
    apiToken: secretOf(secrets, "nodepoint:proxmoxAccessApiToken"),
  });
}

/** Explicit providers: nothing in this program uses a default provider or ambient credentials. */
export function createProviders(
  config: StackConfig,
  secrets: Secrets,
  proxmoxAccess: proxmoxve.Provider,
  tokens: AutomationTokens,
): Providers {
  const endpoint = { endpoint: config.proxmox.endpoint, insecure: config.proxmox.insecure };
  return {
    proxmoxAccess,
    proxmoxInfra: new proxmoxve.Provider(
      "proxmox-infra",
      { ...endpoint, apiToken: secretOf(secrets, "proxmoxve:apiToken") },
      { dependsOn: tokens.infrastructure.grants },
    ),
    proxmoxCustomers: new proxmoxve.Provider(
      "proxmox-customers",
      { ...endpoint, apiToken: secretOf(secrets, "nodepoint:proxmoxCustomersApiToken") },
      { dependsOn: tokens.customer.grants },
    ),
    cloudflare: new cloudflare.Provider("cloudflare", { apiToken: secretOf(secrets, "cloudflare:apiToken") }),
  };
}
