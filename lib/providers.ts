import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as cloudflare from "@pulumi/cloudflare";
import type { StackConfig } from "./config/schema";
import type { Secrets } from "./config/secrets";

export interface Providers {
  /** Proxmox VE with the infrastructure-scope token. */
  proxmoxInfra: proxmoxve.Provider;
  /** Cloudflare with a token limited to DNS edits on the customer zones. */
  cloudflare: cloudflare.Provider;
}

/** Explicit providers: nothing in this program uses a default provider or ambient credentials. */
export function createProviders(config: StackConfig, secrets: Secrets): Providers {
  const secret = (key: string): pulumi.Output<string> => {
    const value = secrets[key];
    if (!value) throw new Error(`internal: secret ${key} was not loaded`);
    return value;
  };
  return {
    proxmoxInfra: new proxmoxve.Provider("proxmox-infra", {
      endpoint: config.proxmox.endpoint,
      insecure: config.proxmox.insecure,
      apiToken: secret("proxmoxve:apiToken"),
    }),
    cloudflare: new cloudflare.Provider("cloudflare", { apiToken: secret("cloudflare:apiToken") }),
  };
}
