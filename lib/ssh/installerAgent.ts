/**
 * Before `pulumi up` touches anything: the installer logs in to the customer containers through
 * the ssh-agent at SSH_AUTH_SOCK (pulumi-command's SSH connection without a private key authenticates
 * with the agent of the environment the CLI hands its plugin), so that agent must hold the
 * installer key. Asked with `ssh-add -L` (OpenSSH's client of the agent protocol: the request
 * SSH_AGENTC_REQUEST_IDENTITIES, each identity's key blob printed in base64), synchronously, since the
 * program declares its first resources right after reading its inputs.
 */
import { spawnSync } from "node:child_process";
import { INSTALLER_SSH_KEY } from "../config/secrets";
import type { InstallerPublicKey } from "./installerKey";

/** The commands that load the installer key into a new agent (README, "Running it for real"). */
export const LOAD_INSTALLER_KEY = `eval "$(ssh-agent -s)" && pulumi config get ${INSTALLER_SSH_KEY} | ssh-add -t 2h -`;

/** The key blobs (base64) of `ssh-add -L`'s output lines (`<type> <blob> [comment]`). */
export function listedKeyBlobs(sshAddOutput: string): string[] {
  return sshAddOutput
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 2 && /^(ssh|ecdsa|sk)-/.test(fields[0]!))
    .map((fields) => fields[1]!);
}

/**
 * Why the ssh-agent at `env.SSH_AUTH_SOCK` cannot log the installer in, or undefined when it holds
 * the installer key.
 */
export function installerAgentProblem(
  key: InstallerPublicKey,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const load = `load it with: ${LOAD_INSTALLER_KEY}`;
  const socket = env.SSH_AUTH_SOCK;
  if (!socket) return `no ssh-agent (SSH_AUTH_SOCK is not set) holds the installer key ${INSTALLER_SSH_KEY}; ${load}`;
  const listed = spawnSync("ssh-add", ["-L"], {
    env: { PATH: env.PATH ?? process.env.PATH ?? "/usr/bin:/bin", SSH_AUTH_SOCK: socket },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (listed.error)
    return `cannot ask the ssh-agent for the installer key ${INSTALLER_SSH_KEY} (ssh-add: ${listed.error.message}); ${load}`;
  // ssh-add -L: 0 with the identities, 1 when the agent holds none, 2 when it cannot reach an agent.
  if (listed.status === 2)
    return `no ssh-agent answers at SSH_AUTH_SOCK=${socket} for the installer key ${INSTALLER_SSH_KEY}; ${load}`;
  if (!listedKeyBlobs(listed.stdout).includes(key.blob))
    return `the ssh-agent at SSH_AUTH_SOCK=${socket} does not hold the installer key ${INSTALLER_SSH_KEY} (${key.openssh}); ${load}`;
  return undefined;
}
