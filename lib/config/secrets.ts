import * as pulumi from "@pulumi/pulumi";
import { InvalidInputError, type InputProblem } from "../errors";
import { createHash } from "node:crypto";
import { installerKeyProblem, throwawayInstallerKey } from "../ssh/installerKey";

/** A credential the program reads from stack config; never stored in plain text. */
export interface RequiredSecret {
  /** Full config key, `namespace:key`. */
  key: string;
  /** What it is, for the error message. */
  what: string;
  /** An example of its form (never a real value). */
  example: string;
  /** Validates the form, when the form is known. */
  pattern?: RegExp;
  /** Validates the form when a pattern cannot: what is wrong with the value, or undefined. */
  problem?: (value: string) => string | undefined;
  /** How to set it, when not `pulumi config set --secret KEY 'example'`. */
  setWith?: string;
  /** The stand-in offline plans and tests use (default: `example`). */
  placeholder?: () => string;
}

/** The WordPress installer's SSH private key (lib/ssh/installerKey.ts). */
export const INSTALLER_SSH_KEY = "nodepoint:installerSshKey";
let throwawayKey: string | undefined;

/** Every credential the program needs. The offline plan gives each a placeholder. */
export const REQUIRED_SECRETS: readonly RequiredSecret[] = [
  {
    key: "proxmoxve:apiToken",
    what: "the Proxmox VE API token for infrastructure changes",
    example: "pulumi-infra@pve!iac=00000000-0000-0000-0000-000000000000",
    pattern: /^[^@\s]+@[^!\s]+![A-Za-z][\w.-]*=[0-9a-f-]{36}$/,
  },
  {
    // The customer token, made by hand like the infrastructure one and adopted (AutomationAccess), so
    // that its value lives once, here, rather than with every customer's restore point in the state.
    key: "nodepoint:proxmoxCustomersApiToken",
    what: "the Proxmox VE API token for customer containers (pulumi-customers@pve!iac)",
    example: "pulumi-customers@pve!iac=00000000-0000-0000-0000-000000000000",
    pattern: /^[^@\s]+@[^!\s]+![A-Za-z][\w.-]*=[0-9a-f-]{36}$/,
  },
  {
    // Only the `proxmox-access` provider uses it (components/AutomationAccess.ts): neither automation
    // token may edit users, tokens, roles or ACLs, since a token that can edit ACLs can grant itself
    // anything. An administrator's token, not one the program creates.
    key: "nodepoint:proxmoxAccessApiToken",
    what: "the Proxmox VE administrator API token that manages the automation users, tokens, roles and ACLs (Permissions.Modify on /; User.Modify, Realm.AllocateUser and Sys.Modify on /access)",
    example: "pulumi-access@pve!iac=00000000-0000-0000-0000-000000000000",
    pattern: /^[^@\s]+@[^!\s]+![A-Za-z][\w.-]*=[0-9a-f-]{36}$/,
  },
  {
    key: "cloudflare:apiToken",
    what: "the Cloudflare API token (Zone.DNS edit on the customer zones)",
    example: "cf-token-with-dns-edit",
    pattern: /^\S{8,}$/,
  },
  {
    key: "nodepoint:npmPassword",
    what: "the password of the Nginx Proxy Manager automation user (nodepoint:npm.identity)",
    example: "npm-automation-password",
    pattern: /^\S{8,}$/,
  },
  {
    // One key for every customer container: the state keeps neither half per site. The containers get
    // the public key; the installer logs in through an ssh-agent holding this key (README, "Running it for real").
    key: INSTALLER_SSH_KEY,
    what: "the WordPress installer's SSH private key (unencrypted ed25519, OpenSSH format)",
    example: "-----BEGIN OPENSSH PRIVATE KEY----- ...",
    problem: installerKeyProblem,
    setWith: `ssh-keygen -t ed25519 -N '' -C wordpress-installer -f installer-key && pulumi config set --secret ${INSTALLER_SSH_KEY} < installer-key && shred -u installer-key`,
    // A throwaway key from a fixed seed: the same public key in every plan (desired-state/*.json
    // records the containers' key), never a real stack's (whose key comes from its own config).
    placeholder: () =>
      (throwawayKey ??= throwawayInstallerKey(
        createHash("sha256").update("nodepoint placeholder installer key").digest(),
      )),
  },
];

/** The stand-in for a credential the stack file does not hold in the clear (offline plans, tests). */
export function placeholderOf(secret: RequiredSecret): string {
  return secret.placeholder ? secret.placeholder() : secret.example;
}

/** The credentials, each a Pulumi secret output. */
export type Secrets = Record<string, pulumi.Output<string>>;

/**
 * Reads every required credential as a secret. Throws, naming each missing key and the command
 * that sets it, when any is missing, stored in plain text, or malformed.
 */
export function loadSecrets(stackFile: string, required: readonly RequiredSecret[] = REQUIRED_SECRETS): Secrets {
  const problems: InputProblem[] = [];
  const secrets: Secrets = {};
  for (const secret of required) {
    const value = pulumi.runtime.getConfig(secret.key);
    const setIt = `set it with: ${secret.setWith ?? `pulumi config set --secret ${secret.key} '${secret.example}'`}`;
    if (value === undefined || value === "") {
      problems.push({ file: stackFile, field: secret.key, message: `is missing (${secret.what}); ${setIt}` });
      continue;
    }
    if (!isConfigSecret(secret.key)) {
      problems.push({ file: stackFile, field: secret.key, message: `is stored in plain text; remove it and ${setIt}` });
      continue;
    }
    if (secret.pattern && !secret.pattern.test(value)) {
      problems.push({
        file: stackFile,
        field: secret.key,
        message: `does not look like ${secret.what} (expected the form ${secret.example})`,
      });
      continue;
    }
    const problem = secret.problem?.(value);
    if (problem) {
      problems.push({ file: stackFile, field: secret.key, message: `${problem}; ${setIt}` });
      continue;
    }
    const [namespace, key] = secret.key.split(":") as [string, string];
    secrets[secret.key] = new pulumi.Config(namespace).requireSecret(key);
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return secrets;
}

function isConfigSecret(key: string): boolean {
  // Public in the SDK's JS module (runtime/config), not in its typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret ? runtime.isConfigSecret(key) : true;
}
