import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The installer script, shipped with the program (lib/wordpress/wp-install.sh). */
export const INSTALL_SCRIPT: string = readFileSync(join(__dirname, "wp-install.sh"), "utf8");

/** Where the script and its settings live inside a container. */
export const INSTALLER_PATH = "/usr/local/sbin/nodepoint-wp-install";
export const SITE_ENV_PATH = "/etc/nodepoint/site.env";

/** Short hash of the script: a new version re-runs the (idempotent) installer on every site. */
export const INSTALL_SCRIPT_HASH = createHash("sha256").update(INSTALL_SCRIPT).digest("hex").slice(0, 16);

/** The site's settings as the script reads them (KEY=VALUE lines). Contains the admin password. */
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
 * The remote command: installs the script (shipped base64 in the command, so no quoting can break
 * it), stores the settings from stdin with mode 600, then runs the script. No secret is in it.
 */
export function installCommand(): string {
  return INSTALL_COMMAND;
}

/** Built once: every site runs the same command (a 16 KB string a thousand sites need not copy). */
const INSTALL_COMMAND = buildInstallCommand();

function buildInstallCommand(): string {
  const script = Buffer.from(INSTALL_SCRIPT).toString("base64");
  return [
    "set -eu",
    "umask 077",
    "mkdir -p /etc/nodepoint",
    `echo '${script}' | base64 -d > ${INSTALLER_PATH}`,
    `chmod 700 ${INSTALLER_PATH}`,
    `cat > ${SITE_ENV_PATH}`,
    `${INSTALLER_PATH} ${SITE_ENV_PATH}`,
  ].join(" && ");
}
