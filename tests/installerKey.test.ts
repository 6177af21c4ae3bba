/**
 * The installer key from the stack config (nodepoint:installerSshKey): its public half as the
 * containers get it, cross-checked with OpenSSH's own `ssh-keygen -y`, and the values it refuses.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { installerKeyProblem, installerPublicKey, throwawayInstallerKey } from "../lib/ssh/installerKey";

const dir = mkdtempSync(join(tmpdir(), "installer-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A key ssh-keygen writes, as `ssh-keygen -t TYPE -N PASSPHRASE` (OpenSSH format). */
function keygen(type: string, passphrase = "", comment = "someone@host"): string {
  const file = join(dir, `key-${randomBytes(4).toString("hex")}`);
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", passphrase, "-C", comment, "-f", file]);
  return readFileSync(file, "utf8");
}

/** `ssh-keygen -y`'s public key (type and blob; the comment dropped) of a private key text. */
function opensshPublicKey(privateKey: string): string {
  const file = join(dir, `y-${randomBytes(4).toString("hex")}`);
  writeFileSync(file, privateKey, { mode: 0o600 });
  return execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).split(" ").slice(0, 2).join(" ");
}

describe("the installer key's public half", () => {
  it("is what ssh-keygen -y derives, for keys ssh-keygen wrote (comment dropped)", () => {
    for (let i = 0; i < 3; i++) {
      const key = keygen("ed25519");
      const derived = installerPublicKey(key);
      expect(derived.openssh).toBe(opensshPublicKey(key));
      expect(derived.openssh).toBe(`ssh-ed25519 ${derived.blob}`);
    }
  });

  it("reads the value as `pulumi config set` stores it from stdin (its trailing newline removed)", () => {
    const key = keygen("ed25519");
    expect(installerPublicKey(key.replace(/\n$/, ""))).toEqual(installerPublicKey(key));
  });

  it("a throwaway key is an OpenSSH key ssh-keygen reads, whose public key is its seed's", () => {
    const key = throwawayInstallerKey();
    expect(installerPublicKey(key).openssh).toBe(opensshPublicKey(key));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const seed = Buffer.from(bytes);
        const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
        const raw = createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({ format: "jwk" }).x!;
        const blob = Buffer.from(installerPublicKey(throwawayInstallerKey(seed)).blob, "base64");
        // RFC 4253 / RFC 8709: string "ssh-ed25519", string key (32 bytes).
        expect(blob.subarray(0, 19).toString("hex")).toBe("0000000b7373682d6564323535313900000020");
        expect(blob.subarray(-32).toString("base64url")).toBe(raw);
      }),
      { numRuns: 50 },
    );
    expect(() => throwawayInstallerKey(Buffer.alloc(31))).toThrow("32 bytes");
  });
});

describe("values refused for nodepoint:installerSshKey", () => {
  it.each([
    ["an encrypted key", () => keygen("ed25519", "a passphrase"), /^is encrypted \(a passphrase\)/],
    ["an RSA key", () => keygen("rsa"), /^is an rsa key, not ed25519/],
    ["an ECDSA key", () => keygen("ecdsa"), /^is an ecdsa key, not ed25519/],
    ["a public key", () => opensshPublicKey(keygen("ed25519")), /^is not an OpenSSH private key/],
    [
      "a PKCS#8 PEM key",
      () => generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      /^is not an OpenSSH private key/,
    ],
    ["text", () => "changeme", /^is not an OpenSSH private key/],
  ])("%s", (_what, value, problem) => {
    expect(installerKeyProblem(value())).toMatch(problem);
  });

  it("an unencrypted ed25519 OpenSSH key passes", () => {
    expect(installerKeyProblem(keygen("ed25519"))).toBeUndefined();
  });
});
