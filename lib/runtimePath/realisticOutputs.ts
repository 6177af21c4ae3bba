/**
 * Update-mode answers with computed outputs of their real size and form, for measuring what the
 * state keeps: the offline plan's placeholders (`[computed]`, lib/plan/offlineRuntime.ts) are
 * readable but short, and a secret's stored size follows its plaintext. An ED25519 key as the TLS
 * provider returns it (`privateKeyOpenssh`: golang.org/x/crypto/ssh MarshalPrivateKey, no comment;
 * `privateKeyPemPkcs8`; `publicKeyOpenssh`), a bcrypt hash, a PVE token secret (`user@realm!id=<uuid>`).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import type { CreateRequest, ResourceHandler } from "./fakeEngine";

/** An SSH wire-format string: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

const uint32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** A fresh ED25519 key pair in OpenSSH's formats (`openssh-key-v1` private key, `ssh-ed25519` public key). */
export function ed25519OpenSsh(): { privateKey: string; publicKey: string; privateKeyPkcs8: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const privateKeyPkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const jwk = privateKey.export({ format: "jwk" });
  const pub = Buffer.from(jwk.x ?? "", "base64url");
  const seed = Buffer.from(jwk.d ?? "", "base64url");
  const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(""),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  secret = Buffer.concat([secret, padding]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(secret),
  ]).toString("base64");
  const lines = body.match(/.{1,70}/g) ?? [];
  return {
    privateKey: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n"),
    publicKey: `ssh-ed25519 ${publicBlob.toString("base64")}\n`,
    privateKeyPkcs8,
  };
}

const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The computed outputs the program reads back, real-sized, for the few types that have them. */
export function realisticComputedOutputs(req: CreateRequest): Record<string, unknown> {
  const inputs = req.inputs;
  if (req.type === "random:index/randomPassword:RandomPassword") {
    const length = typeof inputs["length"] === "number" ? inputs["length"] : 16;
    const chars = [...randomBytes(length)].map((b) => PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length]).join("");
    return { result: chars, bcryptHash: `$2a$10$${randomBytes(40).toString("base64").slice(0, 53)}` };
  }
  if (req.type.startsWith("proxmoxve:user/token:Token"))
    return { value: `${String(inputs["userId"])}!${String(inputs["tokenName"])}=${randomUUID()}` };
  if (req.type === "tls:index/privateKey:PrivateKey") {
    const key = ed25519OpenSsh();
    return {
      privateKeyOpenssh: key.privateKey,
      privateKeyPemPkcs8: key.privateKeyPkcs8,
      publicKeyOpenssh: key.publicKey,
    };
  }
  return {};
}

/** Update-mode handler: ID from `import` or the name, outputs = inputs plus real-sized computed outputs. */
export const realisticCreate: ResourceHandler = async (req) => ({
  id: req.importId ?? `${req.name}-id`,
  outputs: { ...req.inputs, ...realisticComputedOutputs(req) },
});
