#!/usr/bin/env bash
# nodepoint WordPress installer, run as root inside a customer's container by `pulumi up`
# (components/WordPressSite.ts, over SSH with the installer key). Idempotent: every step checks
# before it acts, so a re-run (a restart, a new script version, a changed URL, an interrupted run)
# repairs what is missing and never reinstalls or wipes a site.
#
#   nodepoint-wp-install < SETTINGS
#
# SETTINGS, on stdin, are KEY=VALUE lines: WP_DOMAIN, WP_ADMIN_PASSWORD, WP_ADMIN_EMAIL, and
# optionally WP_URL (default https://WP_DOMAIN/), WP_TITLE (default WP_DOMAIN) and WP_ADMIN_USER
# (default admin). They are never written to disk, and no secret is ever an
# argument of a command (arguments are visible to every process in /proc): passwords reach
# mysql and wp-cli on their standard input.
# NODEPOINT_ROOT (tests only) prefixes every path, so the script can run against a scratch tree.
set -euo pipefail
umask 027

# Downloads, pinned: the version and the publisher's checksum (the values docker-library's
# official wordpress images pin). A file is fetched to a temporary name, verified, then moved.
WORDPRESS_VERSION="6.9.4"
WORDPRESS_SHA1="018542f4c3e15db0d8e38aaf0fcf1b5dc56dbb79"
WP_CLI_VERSION="2.12.0"
WP_CLI_SHA512="be928f6b8ca1e8dfb9d2f4b75a13aa4aee0896f8a9a0a1c45cd5d2c98605e6172e6d014dda2e27f88c98befc16c040cbb2bd1bfa121510ea5cdf5f6a30fe8832"

ROOT="${NODEPOINT_ROOT:-}"
STATE="$ROOT/var/lib/nodepoint"
WEB="$ROOT/var/www/wordpress"
CONFIG="$WEB/wp-config.php"
WP_BIN="$ROOT/usr/local/bin/wp"
WP="$WP_BIN --allow-root --path=$WEB"

say() { echo "nodepoint-wp-install: $*" >&2; }

# Read KEY=VALUE lines from stdin without evaluating them.
while IFS='=' read -r key value; do
  case "$key" in
    WP_URL|WP_DOMAIN|WP_TITLE|WP_ADMIN_USER|WP_ADMIN_PASSWORD|WP_ADMIN_EMAIL) printf -v "$key" '%s' "$value" ;;
    ''|'#'*) ;;
    *) say "unknown key $key in the settings"; exit 2 ;;
  esac
done
for required in WP_DOMAIN WP_ADMIN_PASSWORD WP_ADMIN_EMAIL; do
  if [ -z "${!required:-}" ]; then say "$required missing in the settings"; exit 2; fi
done
WP_URL="${WP_URL:-https://${WP_DOMAIN}/}"
WP_TITLE="${WP_TITLE:-$WP_DOMAIN}"
WP_ADMIN_USER="${WP_ADMIN_USER:-admin}"

mkdir -p "$STATE"
# Left by earlier versions of this script: the admin password and a copy of the database password.
rm -f "$ROOT/etc/nodepoint/site.env" "$ROOT/etc/nodepoint/db-password"

# apt-get, waiting while another apt holds the lock (the template's timers run apt at first boot).
apt_get() {
  local errors
  errors="$(mktemp)"
  while ! apt-get -o DPkg::Lock::Timeout=120 "$@" 2>"$errors"; do
    cat "$errors" >&2
    if ! grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory' "$errors"; then
      rm -f "$errors"
      return 1
    fi
    say "apt is busy (another apt holds its lock); waiting"
    sleep 10
  done
  rm -f "$errors"
}

# Fetches URL to a temporary file next to DEST, checks it against the pinned checksum, then moves it
# into place: an interrupted or corrupted download never leaves a file at DEST.
fetch_verified() {
  local url="$1" algorithm="$2" sum="$3" dest="$4" tmp
  mkdir -p "$(dirname "$dest")"
  tmp="$(mktemp "$dest.partial.XXXXXX")"
  if ! curl -fsSL --retry 3 -o "$tmp" "$url"; then rm -f "$tmp"; say "download of $url failed"; return 1; fi
  if ! echo "$sum  $tmp" | "${algorithm}sum" -c --status -; then
    rm -f "$tmp"
    say "$url does not have the pinned $algorithm checksum: refused"
    return 1
  fi
  mv -f "$tmp" "$dest"
}

# 0. Root logs in with a key only: password SSH stays off (the template's own default, pinned here).
SSHD_DROPIN="$ROOT/etc/ssh/sshd_config.d/00-nodepoint.conf"
SSHD_WANTED=$'# Managed by nodepoint-wp-install: keys only.\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no'
if [ ! -f "$SSHD_DROPIN" ] || [ "$(cat "$SSHD_DROPIN")" != "$SSHD_WANTED" ]; then
  mkdir -p "$(dirname "$SSHD_DROPIN")"
  printf '%s\n' "$SSHD_WANTED" > "$SSHD_DROPIN"
  chmod 644 "$SSHD_DROPIN"
  systemctl reload ssh 2>/dev/null || true
fi

# 1. Packages (once).
if [ ! -f "$STATE/packages-installed" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt_get update -q
  apt_get install -y -q nginx php-fpm php-mysql php-xml php-curl php-gd php-mbstring php-zip mariadb-server curl
  touch "$STATE/packages-installed"
fi

# 2. wp-cli, pinned: fetched again whenever the file there is not the pinned one (missing, cut short).
if [ ! -f "$WP_BIN" ] || ! echo "$WP_CLI_SHA512  $WP_BIN" | sha512sum -c --status -; then
  fetch_verified "https://github.com/wp-cli/wp-cli/releases/download/v$WP_CLI_VERSION/wp-cli-$WP_CLI_VERSION.phar" \
    sha512 "$WP_CLI_SHA512" "$WP_BIN"
  chmod 755 "$WP_BIN"
fi

# 3. WordPress files: unpacked beside the web root, then moved into place. A tree without the
#    marker and without wp-config.php is an interrupted unpack (no site yet): it is replaced. A
#    site's files are never touched once it has its configuration.
if [ ! -f "$STATE/wordpress-files" ]; then
  if [ ! -f "$CONFIG" ]; then
    tarball="$STATE/wordpress-$WORDPRESS_VERSION.tar.gz"
    fetch_verified "https://wordpress.org/wordpress-$WORDPRESS_VERSION.tar.gz" sha1 "$WORDPRESS_SHA1" "$tarball"
    mkdir -p "$ROOT/var/www"
    unpack="$(mktemp -d "$ROOT/var/www/.wordpress-unpack.XXXXXX")"
    tar -xzf "$tarball" -C "$unpack"
    chown -R www-data:www-data "$unpack/wordpress" 2>/dev/null || true
    rm -rf "$WEB"
    mv "$unpack/wordpress" "$WEB"
    rm -rf "$unpack" "$tarball"
  fi
  echo "$WORDPRESS_VERSION" > "$STATE/wordpress-files"
fi

# 4. Database, user and password. The password is generated once and lives only in wp-config.php
#    (WordPress needs it there); mysql and wp-cli get it on stdin.
if [ -f "$CONFIG" ]; then
  DB_PASSWORD="$($WP config get DB_PASSWORD)"
else
  DB_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
fi
printf '%s\n' \
  "CREATE DATABASE IF NOT EXISTS wordpress DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" \
  "CREATE USER IF NOT EXISTS 'wordpress'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';" \
  "ALTER USER 'wordpress'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';" \
  "GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'localhost';" \
  "FLUSH PRIVILEGES;" | mysql --protocol=socket -uroot

# 5. wp-config.php (once: it holds the site's salts).
if [ ! -f "$CONFIG" ]; then
  printf '%s\n' "$DB_PASSWORD" |
    $WP config create --dbname=wordpress --dbuser=wordpress --dbhost=localhost --skip-check --prompt=dbpass >/dev/null
  # Behind Nginx Proxy Manager, TLS ends at the proxy.
  $WP config set FORCE_SSL_ADMIN true --raw
  $WP config set --type=constant --anchor="/* That's all" --raw _NODEPOINT_PROXY "isset(\$_SERVER['HTTP_X_FORWARDED_PROTO']) && \$_SERVER['HTTP_X_FORWARDED_PROTO'] === 'https' && (\$_SERVER['HTTPS'] = 'on')"
fi
unset DB_PASSWORD

# 6. The site: installed once with the generated admin password (on stdin); the URL kept current.
if ! $WP core is-installed >/dev/null 2>&1; then
  printf '%s\n' "$WP_ADMIN_PASSWORD" |
    $WP core install --url="$WP_URL" --title="$WP_TITLE" --admin_user="$WP_ADMIN_USER" --admin_email="$WP_ADMIN_EMAIL" --skip-email --prompt=admin_password
else
  $WP option update home "$WP_URL"
  $WP option update siteurl "$WP_URL"
fi
unset WP_ADMIN_PASSWORD

# 7. Ownership: PHP (www-data) owns WordPress's files (uploads, plugins, themes, core updates) since
#    they were unpacked, but can neither change wp-config.php (root's, readable by its group) nor
#    replace it (the web root directory is root's).
chown root:www-data "$CONFIG" 2>/dev/null || true
chmod 640 "$CONFIG"
chown root:root "$WEB" 2>/dev/null || true
chmod 755 "$WEB"

# 8. Nginx site (rewritten every run from the current domain; reloaded only when it changed).
SITE="$ROOT/etc/nginx/sites-available/wordpress"
mkdir -p "$ROOT/etc/nginx/sites-available" "$ROOT/etc/nginx/sites-enabled"
NEW_SITE="$(cat <<NGINX
server {
    listen 80 default_server;
    server_name ${WP_DOMAIN};
    root /var/www/wordpress;
    index index.php;
    client_max_body_size 64m;
    location = /wp-config.php { deny all; }
    location / { try_files \$uri \$uri/ /index.php?\$args; }
    location ~ \.php\$ { include snippets/fastcgi-php.conf; fastcgi_pass unix:/run/php/php-fpm.sock; }
}
NGINX
)"
if [ ! -f "$SITE" ] || [ "$(cat "$SITE")" != "$NEW_SITE" ]; then
  printf '%s\n' "$NEW_SITE" > "$SITE"
  ln -sf ../sites-available/wordpress "$ROOT/etc/nginx/sites-enabled/wordpress"
  rm -f "$ROOT/etc/nginx/sites-enabled/default"
  systemctl reload nginx || systemctl restart nginx
fi

date -u +%FT%TZ > "$STATE/wordpress-installed"
say "${WP_DOMAIN} ready"
