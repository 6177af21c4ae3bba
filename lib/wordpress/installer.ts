import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The installer script, shipped with the program (lib/wordpress/wp-install.sh). */
export const INSTALL_SCRIPT: string = readFileSync(join(__dirname, "wp-install.sh"), "utf8");

/**
 * The script's path relative to the project directory, where the Pulumi CLI runs the program and
 * starts the provider plugins: a file asset's path is stored as given, and resolved against that
 * directory by the engine (to hash it) and by the command provider (to copy it).
 */
export const INSTALLER_SOURCE = relative(resolve(__dirname, "../.."), join(__dirname, "wp-install.sh"));

/** Where the script is installed inside a container. */
export const INSTALLER_PATH = "/usr/local/sbin/nodepoint-wp-install";

/** SHA-256 of the script: the command checks the copy against it, and a new version re-runs the installer. */
export const INSTALL_SCRIPT_SHA256 = createHash("sha256").update(INSTALL_SCRIPT).digest("hex");

/**
 * The script as the program ships it: a file asset. The state keeps its path and SHA-256, not its
 * text (a string, or a text asset, would be stored whole with every site: pulumi/pulumi
 * `sdk/go/common/resource/asset/asset.go` Serialize).
 */
export function installerAsset(): pulumi.asset.FileAsset {
  return new pulumi.asset.FileAsset(INSTALLER_SOURCE);
}

/**
 * The site's settings as the script reads them on stdin (KEY=VALUE lines). Contains the admin
 * password. The URL, title and admin user are left out when they are the script's defaults
 * (`https://<domain>/`, the domain, `admin`): the state keeps these settings, encrypted, per site.
 */
export function siteEnv(site: {
  url: string;
  domain: string;
  title: string;
  adminUser: string;
  adminPassword: string;
  adminEmail: string;
}): string {
  const lines: Array<[string, string]> = [
    ...(site.url === `https://${site.domain}/` ? [] : [["WP_URL", site.url] as [string, string]]),
    ["WP_DOMAIN", site.domain],
    ...(site.title === site.domain ? [] : [["WP_TITLE", site.title] as [string, string]]),
    ...(site.adminUser === "admin" ? [] : [["WP_ADMIN_USER", site.adminUser] as [string, string]]),
    ["WP_ADMIN_PASSWORD", site.adminPassword],
    ["WP_ADMIN_EMAIL", site.adminEmail],
  ];
  for (const [key, value] of lines) {
    if (/[\r\n]/.test(value)) throw new Error(`${key} must be a single line`);
  }
  return `${lines.map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
}

/**
 * The remote command: runs the installer the site's copy resource put at `INSTALLER_PATH`, with the
 * command's stdin (the site's settings), after checking it is this version of the script (a missing
 * or other copy fails, sha256sum naming the file, and never runs). The command names the script's SHA-256, so a
 * new script changes the command and the provider runs it again (the script is idempotent). No
 * secret is in it, and the settings never touch the disk.
 */
export function installCommand(): string {
  return INSTALL_COMMAND;
}

// Stored with every site's command: written compactly, each step only after the one before succeeded.
const INSTALL_COMMAND = [
  `f=${INSTALLER_PATH};`,
  // On a mismatch sha256sum prints "<file>: FAILED" (or that it cannot read it) and the command fails.
  `echo "${INSTALL_SCRIPT_SHA256}  $f"|sha256sum -c --quiet>&2`,
  "&&chmod 700 $f",
  "&&exec $f",
].join("");
