/**
 * What the engine makes of the values a program registers: the value it holds and answers with
 * (`engineValue`), and what it writes for them into the stack's checkpoint, the state file
 * (`checkpointValue`, `checkpointBytes`). Read from pulumi/pulumi:
 * - `pkg/resource/deploy/source_eval.go` RegisterResource: inputs are unmarshalled keeping output
 *   values, secrets and resource references, and asset hashes are computed on the way in
 *   (`ComputeAssetHashes`: SHA-256 of the file, hex); the answer is marshalled without output values
 *   (a known output value becomes its value, a secret one a secret, an unknown one the unknown value).
 * - `pkg/resource/stack/deployment.go` SerializePropertyValue: a secret is stored as
 *   `{sig: secret, ciphertext}` where the ciphertext encrypts the JSON of the whole value (secrets
 *   inside it are not encrypted twice); an asset is stored as `asset.Serialize()`
 *   (`sdk/go/common/resource/asset/asset.go`): its hash and its path, text or URI. So a file asset
 *   costs its path and a 64-character hash, a text asset its whole text.
 * - `sdk/go/common/resource/config/crypt.go` symmetricCrypter (the `passphrase` secrets provider):
 *   ciphertext `v1:<base64 12-byte nonce>:<base64 AES-256-GCM sealed text (16-byte tag)>`.
 *
 * Not modelled: defaults a provider's Check adds to the inputs before they are stored (for bridged
 * providers also a `__defaults` list), and the indentation of the file backend's JSON: the figures
 * are compact JSON of the inputs the program sends.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;
const OUTPUT_VALUE = pulumi.runtime.specialOutputValueSig;
const ASSET = pulumi.runtime.specialAssetSig;
const ARCHIVE = pulumi.runtime.specialArchiveSig;
const UNKNOWN = pulumi.runtime.unknownValue;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const secret = (value: unknown): Obj => ({ [SIG]: SECRET, value });

/**
 * A registered value as the engine answers it to the program (RegisterResourceResponse.object, with
 * the SDK accepting secrets and resource references): output values downgraded to their value, a
 * secret, or the unknown value; everything else as sent.
 */
export function engineValue(wire: unknown): unknown {
  if (Array.isArray(wire)) return wire.map(engineValue);
  if (!isObj(wire)) return wire;
  if (wire[SIG] === OUTPUT_VALUE) {
    if (!("value" in wire)) return UNKNOWN;
    const value = engineValue(wire["value"]);
    return wire["secret"] === true ? secret(value) : value;
  }
  if (wire[SIG] === SECRET) return secret(engineValue(wire["value"]));
  if (wire[SIG] !== undefined) return wire; // assets, archives, resource references
  return Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, engineValue(v)]));
}

/** The `passphrase` secrets provider's encryption: a fresh key per process (only the length matters here). */
const KEY = randomBytes(32);
function passphraseCiphertext(plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", KEY, nonce);
  const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

/** SHA-256 in hex: the length of every asset hash the engine stores. */
const HASH_LENGTH = 64;

/**
 * A registered value (wire form) as the checkpoint stores it. `encrypt` is false inside a secret:
 * its parts are not encrypted again (deployment.go serializes them with the no-op encrypter).
 */
export function checkpointValue(wire: unknown, encrypt = true): unknown {
  const value = engineValue(wire);
  if (Array.isArray(value)) return value.map((v) => checkpointValue(v, encrypt));
  if (!isObj(value)) return value;
  if (value[SIG] === SECRET) {
    const plaintext = JSON.stringify(checkpointValue(value["value"], false));
    return { [SIG]: SECRET, ciphertext: encrypt ? passphraseCiphertext(plaintext) : plaintext };
  }
  if (value[SIG] === ASSET || value[SIG] === ARCHIVE) {
    // What asset.Serialize / archive.Serialize keep: the hash (the engine computes it when the
    // program sent none: source_eval.go, ComputeAssetHashes) and the path, text, URI or assets; not
    // the SDK's own marker fields (`__pulumiAsset`).
    const hash = typeof value["hash"] === "string" ? value["hash"] : "0".repeat(HASH_LENGTH);
    const kept = ["path", "text", "uri", "assets"].filter((k) => value[k] !== undefined);
    return { [SIG]: value[SIG], hash, ...Object.fromEntries(kept.map((k) => [k, value[k]])) };
  }
  if (value[SIG] !== undefined) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, checkpointValue(v, encrypt)]));
}

/** Bytes of a resource's inputs in the checkpoint (compact JSON). */
export function checkpointBytes(inputs: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(checkpointValue(inputs)));
}
