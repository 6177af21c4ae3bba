/**
 * Pulumi's wire format constants (@pulumi/pulumi `runtime/rpc`: `unknownValue`, `specialSigKey`,
 * `specialSecretSig`, `specialOutputValueSig`, `specialResourceSig`, `specialAssetSig`, `specialArchiveSig`), stated once for the modules
 * that read or write wire values: the offline runtime, the runtime-path harness and the dynamic
 * providers. The providers compare inputs with them without loading the SDK;
 * tests/oneHome.test.ts checks each equals the SDK's own.
 */

/** The value of an input or output not known yet (a preview); also a provider's ID in a preview. */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The key whose value says what a wrapped wire object is (a secret, an output value, a resource reference). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** `SIG_KEY` value of a secret: `{ [SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** `SIG_KEY` value of an output value (known or not, secret or not, with its dependencies). */
export const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** `SIG_KEY` value of a resource reference (`urn`, `id`, `packageVersion`). */
export const RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/** `SIG_KEY` value of an asset (a file's `path`, a `text` or a `uri`; the engine adds its `hash`). */
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";

/** `SIG_KEY` value of an archive (`path`, `uri` or `assets`). */
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
