import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** The installer script, shipped with the program (lib/wordpress/wp-install.sh). */
export const INSTALL_SCRIPT: string = readFileSync(join(__dirname, "wp-install.sh"), "utf8");

/** Where the script is installed inside a container. */
export const INSTALLER_PATH = "/usr/local/sbin/nodepoint-wp-install";

/** Short hash of the script: a new version re-runs the (idempotent) installer on every site. */
export const INSTALL_SCRIPT_HASH = createHash("sha256").update(INSTALL_SCRIPT).digest("hex").slice(0, 16);

/** The site's settings as the script reads them on stdin (KEY=VALUE lines). Contains the admin password. */
export function siteEnv(site: {
  url: string;
  domain: string;
  title: string;
  adminUser: string;
  adminPassword: string;
  adminEmail: string;
}): string {
  const lines: Array<[string, string]> = [
    ["WP_URL", site.url],
    ["WP_DOMAIN", site.domain],
    ["WP_TITLE", site.title],
    ["WP_ADMIN_USER", site.adminUser],
    ["WP_ADMIN_PASSWORD", site.adminPassword],
    ["WP_ADMIN_EMAIL", site.adminEmail],
  ];
  for (const [key, value] of lines) {
    if (/[\r\n]/.test(value)) throw new Error(`${key} must be a single line`);
  }
  return `${lines.map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
}

/**
 * The remote command: installs the script (shipped gzipped and base64-encoded in the command, so no
 * quoting can break it; written to a temporary name, then moved) and runs it with the command's
 * stdin, the site's settings. No secret is in it, and the settings never touch the disk.
 */
export function installCommand(): string {
  return INSTALL_COMMAND;
}

/** Built once: every site runs the same command (a string a thousand sites need not copy). */
const INSTALL_COMMAND = buildInstallCommand();

function buildInstallCommand(): string {
  const script = gzipSync(INSTALL_SCRIPT, { level: 9 }).toString("base64");
  const staged = `${INSTALLER_PATH}.new`;
  return [
    "set -eu",
    "umask 077",
    `echo '${script}' | base64 -d | gunzip > ${staged}`,
    `chmod 700 ${staged}`,
    `mv -f ${staged} ${INSTALLER_PATH}`,
    `exec ${INSTALLER_PATH}`,
  ].join(" && ");
}
