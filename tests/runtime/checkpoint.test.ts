/**
 * What the engine makes of registered values (lib/runtimePath/checkpoint.ts): the value it answers
 * the program with, and what the checkpoint stores, as read in pulumi/pulumi (source_eval.go,
 * deployment.go, asset.go, crypt.go). Checked on arbitrary values (fast-check) and on the forms the
 * program really sends (output values, secrets, assets).
 */
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkpointBytes, checkpointValue, engineValue } from "../../lib/runtimePath/checkpoint";

const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;
const OUTPUT = pulumi.runtime.specialOutputValueSig;
const ASSET = pulumi.runtime.specialAssetSig;
const UNKNOWN = pulumi.runtime.unknownValue;

const output = (fields: Record<string, unknown>) => ({ [SIG]: OUTPUT, ...fields });
const secret = (value: unknown) => ({ [SIG]: SECRET, value });
const b64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);

/** Plain JSON values, as inputs are made of. */
const plainJson = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe("engineValue: what the engine answers a registration with", () => {
  test("output values come back as their value, a secret or the unknown value; never as output values", () => {
    expect(engineValue({ a: output({ value: "x", dependencies: ["urn:a"] }) })).toEqual({ a: "x" });
    expect(engineValue({ a: output({ value: "x", secret: true }) })).toEqual({ a: secret("x") });
    expect(engineValue({ a: output({ dependencies: ["urn:a"] }) })).toEqual({ a: UNKNOWN });
    expect(engineValue([output({ value: { b: output({ value: 1 }) } })])).toEqual([{ b: 1 }]);
  });

  test("secrets, assets and plain values pass as sent", () => {
    const asset = { [SIG]: ASSET, path: "lib/x.sh" };
    expect(engineValue({ s: secret({ k: "v" }), asset, n: 1, list: ["a"] })).toEqual({
      s: secret({ k: "v" }),
      asset,
      n: 1,
      list: ["a"],
    });
    fc.assert(
      fc.property(plainJson, (v) => {
        expect(engineValue(v)).toEqual(v);
      }),
    );
  });
});

describe("checkpointValue: what the state file stores", () => {
  test("a secret is stored encrypted as the passphrase provider writes it: v1:<nonce>:<sealed JSON + 16-byte tag>", () => {
    fc.assert(
      fc.property(plainJson, (v) => {
        const stored = checkpointValue(secret(v)) as Record<string, string>;
        expect(Object.keys(stored).sort()).toEqual([SIG, "ciphertext"].sort());
        expect(stored[SIG]).toBe(SECRET);
        const [version, nonce, sealed] = stored["ciphertext"]!.split(":");
        expect(version).toBe("v1");
        expect(Buffer.from(nonce!, "base64")).toHaveLength(12);
        expect(sealed).toHaveLength(b64Length(Buffer.byteLength(JSON.stringify(v)) + 16));
      }),
    );
  });

  test("a secret output value is stored like a secret; a secret inside a secret is not encrypted twice", () => {
    const stored = checkpointValue({ a: output({ value: "pw", secret: true }) }) as Record<string, any>;
    expect(stored["a"][SIG]).toBe(SECRET);
    expect(stored["a"]["ciphertext"]).toMatch(/^v1:/);
    const nested = checkpointValue(secret({ inner: secret("x") })) as Record<string, string>;
    const plaintextLength = JSON.stringify({ inner: { [SIG]: SECRET, ciphertext: '"x"' } }).length;
    expect(nested["ciphertext"]!.split(":")[2]).toHaveLength(b64Length(plaintextLength + 16));
  });

  test("a file asset is stored as its path and its SHA-256, never its content; a text asset keeps its text", () => {
    expect(checkpointValue({ script: { [SIG]: ASSET, path: "lib/wordpress/wp-install.sh" } })).toEqual({
      script: { [SIG]: ASSET, path: "lib/wordpress/wp-install.sh", hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const text = "x".repeat(5000);
    expect(checkpointBytes({ script: { [SIG]: ASSET, text } })).toBeGreaterThan(5000);
    expect(checkpointBytes({ script: { [SIG]: ASSET, path: "lib/wordpress/wp-install.sh" } })).toBeLessThan(200);
  });

  test("plain values are stored as they are; bytes are those of the compact JSON", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), plainJson), (inputs) => {
        expect(checkpointValue(inputs)).toEqual(inputs);
        expect(checkpointBytes(inputs)).toBe(Buffer.byteLength(JSON.stringify(inputs)));
      }),
    );
  });
});
