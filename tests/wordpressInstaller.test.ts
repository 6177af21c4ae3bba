/**
 * The WordPress installer (lib/wordpress/wp-install.sh, reviewed as itself in every diff): the command
 * that ships it, and real runs of the script against a scratch root with stand-in tools (apt-get,
 * mysql, wp-cli, curl...: each logs its arguments, so a secret on a command line shows).
 *
 * The stand-in downloads are local fixtures: the functional runs use a copy of the script whose
 * pinned checksums are the fixtures' (the committed script pins the real ones).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  INSTALL_SCRIPT,
  INSTALL_SCRIPT_SHA256,
  INSTALLER_PATH,
  installCommand,
  siteEnv,
} from "../lib/wordpress/installer";

const scratch = mkdtempSync(join(tmpdir(), "wp-install-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const site = {
  url: "https://shop.nodepoint.eu/",
  domain: "shop.nodepoint.eu",
  title: "shop.nodepoint.eu",
  adminUser: "admin",
  adminPassword: "s3cret-Pass_word",
  adminEmail: "hostmaster@nodepoint.eu",
};

const WORDPRESS_URL = /^WORDPRESS_VERSION="([^"]+)"$/m.exec(INSTALL_SCRIPT)?.[1];
const WP_CLI_URL = /^WP_CLI_VERSION="([^"]+)"$/m.exec(INSTALL_SCRIPT)?.[1];

/** One scratch container: its root, the stand-in tools and what they log. */
interface Box {
  root: string;
  bin: string;
  /** Every tool call, one line each: `tool args...`. */
  log: string;
  /** What mysql and wp received on stdin. */
  stdinLog: string;
  /** The copy of the script with the fixtures' checksums. */
  script: string;
  /** Downloads the curl stand-in serves, by URL (a missing URL fails like an unreachable host). */
  downloads: Map<string, string>;
}

let boxes = 0;

/** The `wp` stand-in, served as the wp-cli phar: it runs the subcommands the script uses on files. */
function wpStub(box: Omit<Box, "script" | "downloads">): string {
  return `#!/usr/bin/env bash
echo "wp $*" >> "${box.log}"
path=""; for a in "$@"; do case "$a" in --path=*) path="\${a#--path=}" ;; esac; done
state="${box.root}/wp-installed"
prompted() { local v; IFS= read -r v; echo "wp stdin: $v" >> "${box.stdinLog}"; printf '%s' "$v"; }
case "$*" in
  *"config create"*) pw="$(prompted)"; printf "<?php define('DB_PASSWORD', '%s'); define('AUTH_SALT', '%s');\\n" "$pw" "$RANDOM$RANDOM" > "$path/wp-config.php" ;;
  *"config get DB_PASSWORD"*) sed -n "s/.*'DB_PASSWORD', '\\([^']*\\)'.*/\\1/p" "$path/wp-config.php" ;;
  *"core is-installed"*) [ -f "$state" ] ;;
  *"core install"*) pw="$(prompted)"; [ -n "$pw" ] && touch "$state" ;;
  *) exit 0 ;;
esac
`;
}

/** A scratch root with stand-in tools; `prepare` may seed files first. */
function newBox(): Box {
  const dir = join(scratch, `box${boxes++}`);
  const root = join(dir, "root");
  const bin = join(dir, "bin");
  mkdirSync(root, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const partial = { root, bin, log: join(dir, "calls.log"), stdinLog: join(dir, "stdin.log") };
  writeFileSync(partial.log, "");
  writeFileSync(partial.stdinLog, "");

  // The WordPress release tarball (./wordpress/...) and the wp-cli "phar".
  const src = join(dir, "src");
  mkdirSync(join(src, "wordpress", "wp-content", "uploads"), { recursive: true });
  writeFileSync(join(src, "wordpress", "wp-load.php"), "<?php // wordpress\n");
  writeFileSync(join(src, "wordpress", "index.php"), "<?php // index\n");
  const tarball = join(dir, "wordpress.tar.gz");
  execFileSync("tar", ["-czf", tarball, "-C", src, "wordpress"]);
  const phar = join(dir, "wp-cli.phar");
  writeFileSync(phar, wpStub(partial));
  const downloads = new Map([
    [`https://wordpress.org/wordpress-${WORDPRESS_URL}.tar.gz`, tarball],
    [`https://github.com/wp-cli/wp-cli/releases/download/v${WP_CLI_URL}/wp-cli-${WP_CLI_URL}.phar`, phar],
  ]);
  const digest = (algorithm: string, file: string) => createHash(algorithm).update(readFileSync(file)).digest("hex");
  const script = join(dir, "wp-install.sh");
  writeFileSync(
    script,
    INSTALL_SCRIPT.replace(/^WORDPRESS_SHA1=".*"$/m, `WORDPRESS_SHA1="${digest("sha1", tarball)}"`).replace(
      /^WP_CLI_SHA512=".*"$/m,
      `WP_CLI_SHA512="${digest("sha512", phar)}"`,
    ),
  );

  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${partial.log}"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub("apt-get", `f="${dir}/apt-failures"; if [ -s "$f" ]; then head -n1 "$f" >&2; sed -i 1d "$f"; exit 100; fi`);
  stub("systemctl", "exit 0");
  stub("sleep", "exit 0");
  stub("chown", "exit 0");
  stub("mysql", `while IFS= read -r line; do echo "mysql stdin: $line" >> "${partial.stdinLog}"; done`);
  // curl -fsSL --retry 3 -o FILE URL: serves the fixture for URL; `partial` cuts the next download short.
  stub(
    "curl",
    `out=""; url=""; while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift ;; http*) url="$1" ;; esac; shift; done
case "$url" in
  ${[...downloads].map(([url, file]) => `"${url}") src="${file}" ;;`).join("\n  ")}
  *) exit 6 ;;
esac
if [ -f "${dir}/cut-next-download" ]; then rm -f "${dir}/cut-next-download"; head -c 10 "$src" > "$out"; exit 18; fi
if [ -f "${dir}/tamper-next-download" ]; then rm -f "${dir}/tamper-next-download"; { cat "$src"; echo tampered; } > "$out"; exit 0; fi
cat "$src" > "$out"`,
  );
  return { ...partial, script, downloads };
}

/** Runs the installer with `settings` on stdin. Returns its exit status and stderr. */
function run(box: Box, settings: string = siteEnv(site)): { status: number; stderr: string } {
  const result = spawnSync("bash", [box.script], {
    input: settings,
    env: { ...process.env, PATH: `${box.bin}:${process.env["PATH"]}`, NODEPOINT_ROOT: box.root },
    encoding: "utf8",
  });
  return { status: result.status ?? 1, stderr: result.stderr };
}

function installed(box: Box): void {
  const result = run(box);
  expect(result.status, result.stderr).toBe(0);
}

const read = (box: Box, path: string) => readFileSync(join(box.root, path), "utf8");
const log = (box: Box) => readFileSync(box.log, "utf8");

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)).map((f) => join(e.name, f)) : [e.name],
  );
}

describe("WordPress installer: what ships", () => {
  it("the remote command carries no secret; it runs the copied script on its stdin only if it is this version", () => {
    const cmd = installCommand();
    expect(cmd).not.toContain(site.adminPassword);
    expect(cmd).toContain(INSTALL_SCRIPT_SHA256);
    expect(cmd.length).toBeLessThan(300); // stored with every site: the script itself is a file asset
    // The command as it runs in a container, with the installer's path moved into a scratch dir.
    const dir = mkdtempSync(join(scratch, "copied-"));
    const path = join(dir, "nodepoint-wp-install");
    const runCommand = (stdin: string) =>
      spawnSync("bash", ["-c", cmd.replaceAll(INSTALLER_PATH, path)], { input: stdin, encoding: "utf8" });

    const missing = runCommand("WP_URL=x\n");
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`${path}: No such file or directory`);

    writeFileSync(path, INSTALL_SCRIPT.replace("set -euo pipefail", "set -euo pipefail; touch ran"));
    const other = runCommand("WP_URL=x\n");
    expect(other.status).not.toBe(0);
    expect(other.stderr).toContain(`${path}: FAILED`);
    expect(existsSync(join(dir, "ran"))).toBe(false);

    writeFileSync(path, INSTALL_SCRIPT, { mode: 0o644 });
    const ran = runCommand("WP_URL=x\n");
    // The script ran, read the settings from stdin and refused the incomplete ones.
    expect(ran.stderr).toMatch(/WP_DOMAIN missing/);
    expect(statSync(path).mode & 0o777).toBe(0o700);
  });

  it("pins WordPress and wp-cli by version and checksum", () => {
    expect(INSTALL_SCRIPT).toMatch(/^WORDPRESS_VERSION="\d+\.\d+(\.\d+)?"$/m);
    expect(INSTALL_SCRIPT).toMatch(/^WORDPRESS_SHA1="[0-9a-f]{40}"$/m);
    expect(INSTALL_SCRIPT).toMatch(/^WP_CLI_VERSION="\d+\.\d+\.\d+"$/m);
    expect(INSTALL_SCRIPT).toMatch(/^WP_CLI_SHA512="[0-9a-f]{128}"$/m);
    expect(INSTALL_SCRIPT).not.toMatch(/latest\.tar\.gz|gh-pages/);
  });

  it("settings are single KEY=VALUE lines; URL, title and admin user only when not the script's defaults", () => {
    expect(siteEnv(site)).toBe(
      "WP_DOMAIN=shop.nodepoint.eu\nWP_ADMIN_PASSWORD=s3cret-Pass_word\nWP_ADMIN_EMAIL=hostmaster@nodepoint.eu\n",
    );
    expect(siteEnv({ ...site, url: "https://www.shop.nodepoint.eu/", title: "Shop", adminUser: "owner" })).toBe(
      "WP_URL=https://www.shop.nodepoint.eu/\nWP_DOMAIN=shop.nodepoint.eu\nWP_TITLE=Shop\nWP_ADMIN_USER=owner\nWP_ADMIN_PASSWORD=s3cret-Pass_word\nWP_ADMIN_EMAIL=hostmaster@nodepoint.eu\n",
    );
    expect(() => siteEnv({ ...site, adminPassword: "a\nWP_URL=evil" })).toThrow(
      "WP_ADMIN_PASSWORD must be a single line",
    );
  });
});

describe("WordPress installer: real runs against a scratch root", () => {
  let box: Box;
  beforeEach(() => {
    box = newBox();
  });

  it("installs once; a second run neither reinstalls nor wipes the site, and keeps the URL current", () => {
    installed(box);
    const config1 = read(box, "var/www/wordpress/wp-config.php");
    expect(existsSync(join(box.root, "var/lib/nodepoint/wordpress-installed"))).toBe(true);
    expect(read(box, "etc/nginx/sites-available/wordpress")).toContain("server_name shop.nodepoint.eu;");
    expect(read(box, "var/www/wordpress/wp-load.php")).toBe("<?php // wordpress\n");
    const first = log(box);
    expect(first).toMatch(/^apt-get -o DPkg::Lock::Timeout=\d+ install/m);
    // URL, title and admin user are the defaults the script derives from the domain.
    expect(first).toMatch(
      /core install --url=https:\/\/shop\.nodepoint\.eu\/ --title=shop\.nodepoint\.eu --admin_user=admin /,
    );
    writeFileSync(join(box.root, "var/www/wordpress/wp-content/uploads/photo.jpg"), "customer data");

    writeFileSync(box.log, "");
    const again = run(box, siteEnv({ ...site, url: "https://www.shop.nodepoint.eu/" }));
    expect(again.status, again.stderr).toBe(0);
    const second = log(box);
    expect(second).not.toMatch(/apt-get|core install|config create|^curl/m);
    expect(second).toMatch(/option update home https:\/\/www\.shop\.nodepoint\.eu\//);
    expect(read(box, "var/www/wordpress/wp-config.php")).toBe(config1);
    expect(read(box, "var/www/wordpress/wp-content/uploads/photo.jpg")).toBe("customer data");
    expect(second).not.toMatch(/systemctl/); // nginx and sshd configuration unchanged: no reload
  });

  it("refuses settings with an unknown or missing key", () => {
    expect(run(box, "WP_URL=x\nEVIL=1\n").stderr).toMatch(/unknown key EVIL/);
    expect(run(box, "WP_URL=x\n").stderr).toMatch(/WP_DOMAIN missing/);
  });

  describe("downloads: pinned, verified, written to a temporary file then moved", () => {
    it("fetches exactly the pinned releases", () => {
      installed(box);
      const urls = log(box)
        .split("\n")
        .filter((l) => l.startsWith("curl "))
        .map((l) => l.split(" ").at(-1));
      expect(urls.sort()).toEqual([...box.downloads.keys()].sort());
    });

    it("a download whose checksum differs is refused, and nothing is left where it was going", () => {
      writeFileSync(join(box.root, "..", "tamper-next-download"), "");
      const result = run(box);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/does not have the pinned sha512 checksum: refused/);
      expect(existsSync(join(box.root, "usr/local/bin/wp"))).toBe(false);
      expect(files(join(box.root, "usr/local/bin"))).toEqual([]);
    });

    it("an interrupted download leaves nothing; the next run completes the install", () => {
      writeFileSync(join(box.root, "..", "cut-next-download"), "");
      expect(run(box).status).not.toBe(0);
      expect(files(join(box.root, "usr/local/bin"))).toEqual([]);

      installed(box);
      expect(existsSync(join(box.root, "var/lib/nodepoint/wordpress-installed"))).toBe(true);
    });

    it("a broken wp-cli left by an earlier interrupted run is replaced by the pinned one", () => {
      mkdirSync(join(box.root, "usr/local/bin"), { recursive: true });
      writeFileSync(join(box.root, "usr/local/bin/wp"), "<html>truncated");
      chmodSync(join(box.root, "usr/local/bin/wp"), 0o755);

      installed(box);

      const phar = [...box.downloads.values()].find((f) => f.endsWith("wp-cli.phar"))!;
      expect(read(box, "usr/local/bin/wp")).toBe(readFileSync(phar, "utf8"));
    });

    it("a half-unpacked WordPress tree (no configuration yet) is replaced by the whole release", () => {
      // What an interrupted `curl | tar` left: some files, wp-load.php among them, others missing.
      mkdirSync(join(box.root, "var/www/wordpress"), { recursive: true });
      writeFileSync(join(box.root, "var/www/wordpress/wp-load.php"), "<?php // wordpr");

      installed(box);

      expect(read(box, "var/www/wordpress/wp-load.php")).toBe("<?php // wordpress\n");
      expect(read(box, "var/www/wordpress/index.php")).toBe("<?php // index\n");
    });
  });

  describe("secrets", () => {
    it("no password is ever an argument of a command (arguments are public in /proc)", () => {
      installed(box);
      const dbPassword = /'DB_PASSWORD', '([^']+)'/.exec(read(box, "var/www/wordpress/wp-config.php"))?.[1];
      expect(dbPassword).toMatch(/^[A-Za-z0-9]{16,}$/);
      expect(log(box)).not.toContain(site.adminPassword);
      expect(log(box)).not.toContain(dbPassword);
      // They went on standard input instead.
      const stdin = readFileSync(box.stdinLog, "utf8");
      expect(stdin).toContain(`wp stdin: ${site.adminPassword}`);
      expect(stdin).toContain(`IDENTIFIED BY '${dbPassword}'`);
    });

    it("no secret is left on disk: the admin password nowhere, the database password only in wp-config.php", () => {
      // What earlier versions left behind goes too.
      mkdirSync(join(box.root, "etc/nodepoint"), { recursive: true });
      writeFileSync(join(box.root, "etc/nodepoint/site.env"), siteEnv(site));
      writeFileSync(join(box.root, "etc/nodepoint/db-password"), "old-db-password");

      installed(box);

      const dbPassword = /'DB_PASSWORD', '([^']+)'/.exec(read(box, "var/www/wordpress/wp-config.php"))![1]!;
      const holding = (secret: string) =>
        files(box.root).filter((f) => readFileSync(join(box.root, f)).includes(secret));
      expect(holding(site.adminPassword)).toEqual([]);
      expect(holding(dbPassword)).toEqual([relative(box.root, join(box.root, "var/www/wordpress/wp-config.php"))]);
      expect(holding("old-db-password")).toEqual([]);
    });

    it("a re-run keeps the database user's password in step with wp-config.php, on stdin", () => {
      installed(box);
      writeFileSync(box.stdinLog, "");
      installed(box);
      const dbPassword = /'DB_PASSWORD', '([^']+)'/.exec(read(box, "var/www/wordpress/wp-config.php"))![1]!;
      expect(readFileSync(box.stdinLog, "utf8")).toContain(
        `ALTER USER 'wordpress'@'localhost' IDENTIFIED BY '${dbPassword}'`,
      );
    });
  });

  it("wp-config.php is not writable by PHP: root's, group www-data, 0640, in a web root PHP cannot write", () => {
    installed(box);
    const config = join(box.root, "var/www/wordpress/wp-config.php");
    expect(statSync(config).mode & 0o777).toBe(0o640);
    expect(statSync(join(box.root, "var/www/wordpress")).mode & 0o777).toBe(0o755);
    const chowns = log(box)
      .split("\n")
      .filter((l) => l.startsWith("chown "));
    expect(chowns.at(-2)).toBe(`chown root:www-data ${config}`);
    expect(chowns.at(-1)).toBe(`chown root:root ${join(box.root, "var/www/wordpress")}`);
    // The only recursive chown hands the freshly unpacked release to www-data, before the configuration exists.
    // The flag as an argument: the scratch root's random name may itself contain "-R".
    expect(chowns.filter((l) => l.split(" ").includes("-R"))).toEqual([
      expect.stringMatching(/^chown -R www-data:www-data .*\/\.wordpress-unpack\.\w+\/wordpress$/),
    ]);
  });

  it("apt waits while another apt holds its lock (first boot), and fails at once on anything else", () => {
    const lockHeld = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)";
    writeFileSync(join(box.root, "..", "apt-failures"), `${lockHeld}\n${lockHeld}\n`);
    installed(box);
    expect(log(box).match(/^sleep /gm)).toHaveLength(2);

    const other = newBox();
    writeFileSync(join(other.root, "..", "apt-failures"), "E: Unable to locate package php-fpm\n");
    const result = run(other);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Unable to locate package");
    expect(log(other)).not.toMatch(/^sleep /m);
  });

  it("root SSH stays key-only: a drop-in pins it before sshd reads the rest", () => {
    installed(box);
    expect(read(box, "etc/ssh/sshd_config.d/00-nodepoint.conf")).toBe(
      "# Managed by nodepoint-wp-install: keys only.\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n",
    );
    expect(log(box)).toMatch(/^systemctl reload ssh$/m);
  });
});
