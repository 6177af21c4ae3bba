/**
 * The WordPress installer: a snapshot of what runs inside every container, and real runs of the
 * script against a scratch root with stand-in tools, proving it is idempotent.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { INSTALL_SCRIPT, installCommand, siteEnv } from "../lib/wordpress/installer";

const scratch = mkdtempSync(join(tmpdir(), "wp-install-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Stand-ins for the tools the script calls; each logs its arguments. */
function stubTools(root: string, log: string): string {
  const bin = join(scratch, "bin");
  mkdirSync(bin, { recursive: true });
  const tarball = join(scratch, "wordpress.tar.gz");
  const src = join(scratch, "src", "wordpress");
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "wp-load.php"), "<?php // wordpress\n");
  execFileSync("tar", ["-czf", tarball, "-C", join(scratch, "src"), "wordpress"]);
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub("apt-get", "exit 0");
  stub("systemctl", "exit 0");
  stub("mysql", "cat > /dev/null");
  stub("curl", `cat "${tarball}"`);
  stub(
    "wp",
    `state="${root}/wp-installed"
case "$*" in
  *"core is-installed"*) [ -f "$state" ] ;;
  *"core install"*) touch "$state" ;;
  *"config create"*) path="\${2#--path=}"; echo "<?php define('AUTH_SALT', '$RANDOM$RANDOM');" > "$path/wp-config.php" ;;
  *) exit 0 ;;
esac`,
  );
  return bin;
}

function run(root: string, bin: string, env: string): void {
  const envFile = join(root, "site.env");
  writeFileSync(envFile, env, { mode: 0o600 });
  execFileSync("bash", [join(__dirname, "../lib/wordpress/wp-install.sh"), envFile], {
    env: { ...process.env, PATH: `${bin}:${process.env["PATH"]}`, NODEPOINT_ROOT: root },
    stdio: "pipe",
  });
}

const site = {
  url: "https://shop.nodepoint.eu/",
  domain: "shop.nodepoint.eu",
  title: "shop.nodepoint.eu",
  adminUser: "admin",
  adminPassword: "s3cret-Pass_word",
  adminEmail: "hostmaster@nodepoint.eu",
};

describe("WordPress installer", () => {
  it("matches its snapshot (what runs inside every customer container)", async () => {
    await expect(INSTALL_SCRIPT).toMatchFileSnapshot("__snapshots__/wp-install.sh.snap");
  });

  it("the remote command carries no secret and decodes back to the script", () => {
    const cmd = installCommand();
    expect(cmd).not.toContain(site.adminPassword);
    const b64 = /echo '([^']+)'/.exec(cmd)?.[1] ?? "";
    expect(Buffer.from(b64, "base64").toString()).toBe(INSTALL_SCRIPT);
    expect(cmd).toMatch(
      /cat > \/etc\/nodepoint\/site\.env && \/usr\/local\/sbin\/nodepoint-wp-install \/etc\/nodepoint\/site\.env$/,
    );
  });

  it("settings are single KEY=VALUE lines", () => {
    expect(siteEnv(site)).toBe(
      "WP_URL=https://shop.nodepoint.eu/\nWP_DOMAIN=shop.nodepoint.eu\nWP_TITLE=shop.nodepoint.eu\nWP_ADMIN_USER=admin\nWP_ADMIN_PASSWORD=s3cret-Pass_word\nWP_ADMIN_EMAIL=hostmaster@nodepoint.eu\n",
    );
    expect(() => siteEnv({ ...site, adminPassword: "a\nWP_URL=evil" })).toThrow(
      "WP_ADMIN_PASSWORD must be a single line",
    );
  });

  it("installs once; a second run neither reinstalls nor wipes the site, and keeps the URL current", () => {
    const root = join(scratch, "root");
    mkdirSync(root, { recursive: true });
    const log = join(scratch, "calls.log");
    const bin = stubTools(root, log);
    run(root, bin, siteEnv(site));
    const config1 = readFileSync(join(root, "var/www/wordpress/wp-config.php"), "utf8");
    const dbPassword1 = readFileSync(join(root, "etc/nodepoint/db-password"), "utf8");
    expect(existsSync(join(root, "var/lib/nodepoint/wordpress-installed"))).toBe(true);
    expect(readFileSync(join(root, "etc/nginx/sites-available/wordpress"), "utf8")).toContain(
      "server_name shop.nodepoint.eu;",
    );
    const first = readFileSync(log, "utf8");
    expect(first).toMatch(/^apt-get install/m);
    expect(first).toMatch(
      /^wp .*core install --url=https:\/\/shop\.nodepoint\.eu\/ .*--admin_user=admin --admin_password=s3cret-Pass_word/m,
    );
    writeFileSync(join(root, "var/www/wordpress/uploads.txt"), "customer data");

    writeFileSync(log, "");
    run(root, bin, siteEnv({ ...site, url: "https://www.shop.nodepoint.eu/" }));
    const second = readFileSync(log, "utf8");
    expect(second).not.toMatch(/apt-get|core install|config create|^curl/m);
    expect(second).toMatch(/option update home https:\/\/www\.shop\.nodepoint\.eu\//);
    expect(readFileSync(join(root, "var/www/wordpress/wp-config.php"), "utf8")).toBe(config1);
    expect(readFileSync(join(root, "etc/nodepoint/db-password"), "utf8")).toBe(dbPassword1);
    expect(readFileSync(join(root, "var/www/wordpress/uploads.txt"), "utf8")).toBe("customer data");
    expect(second).not.toMatch(/systemctl/); // nginx config unchanged: no reload
  });

  it("refuses a settings file with an unknown or missing key", () => {
    const root = join(scratch, "root2");
    mkdirSync(root, { recursive: true });
    const bin = stubTools(root, join(scratch, "calls2.log"));
    expect(() => run(root, bin, "WP_URL=x\nEVIL=1\n")).toThrow(/unknown key EVIL/);
    expect(() => run(root, bin, "WP_URL=x\n")).toThrow(/WP_DOMAIN missing/);
  });
});
