/**
 * The WordPress installer's SSH key (README, "The provisioning flow"): one ed25519 key for every
 * customer container, its private half a secret of the stack config (`nodepoint:installerSshKey`,
 * lib/config/secrets.ts) in the OpenSSH form `ssh-keygen -t ed25519 -N ''` writes. The program
 * never hands the private half to a resource: the containers get the public key, and the installer
 * logs in through the ssh-agent of the machine running `pulumi up` (lib/ssh/installerAgent.ts).
 */
import { createPrivateKey, randomBytes } from "node:crypto";
import sshpk from "sshpk";

/** The installer key's public half, as `authorized_keys` and `ssh-add -L` write it. */
export interface InstallerPublicKey {
  /** `ssh-ed25519 AAAA...`, no comment: what the containers' root `authorized_keys` gets. */
  openssh: string;
  /** The key blob (RFC 4253 `ssh-ed25519` encoding), base64: what an agent lists for it. */
  blob: string;
}

/**
 * The public half of an unencrypted ed25519 OpenSSH private key (unencrypted: the deploy runner's
 * `ssh-add` loads it without a prompt).
 * Throws, saying what is wrong, for anything else.
 */
export function installerPublicKey(privateKeyText: string): InstallerPublicKey {
  let key: sshpk.PrivateKey;
  const notOpenSsh = new Error("is not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)");
  if (!privateKeyText.trimStart().startsWith("-----BEGIN OPENSSH PRIVATE KEY-----")) throw notOpenSsh;
  try {
    key = sshpk.parsePrivateKey(privateKeyText, "ssh-private");
  } catch (err) {
    if ((err as Error).name === "KeyEncryptedError")
      throw new Error("is encrypted (a passphrase): the installer key must be unencrypted (ssh-keygen -N '')", {
        cause: err,
      });
    throw new Error(notOpenSsh.message, { cause: err });
  }
  if (key.type !== "ed25519") throw new Error(`is an ${key.type} key, not ed25519 (ssh-keygen -t ed25519)`);
  const blob = key.toPublic().toBuffer("rfc4253", {}).toString("base64");
  return { openssh: `ssh-ed25519 ${blob}`, blob };
}

/** What is wrong with a value for the installer key, or undefined when it is one. */
export function installerKeyProblem(privateKeyText: string): string | undefined {
  try {
    installerPublicKey(privateKeyText);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** PKCS#8 DER of an ed25519 private key (RFC 8410), up to its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * A throwaway installer key, in the form the stack config holds, from a 32-byte seed (default:
 * random). Stand-ins for the stack's secret in offline plans and tests; never a real stack's key.
 */
export function throwawayInstallerKey(seed: Buffer = randomBytes(32)): string {
  if (seed.length !== 32) throw new Error(`an ed25519 seed has 32 bytes (got ${seed.length})`);
  const pkcs8 = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const key = sshpk.parsePrivateKey(pkcs8.export({ type: "pkcs8", format: "pem" }), "pkcs8");
  key.comment = "nodepoint-throwaway";
  return key.toString("ssh-private");
}
