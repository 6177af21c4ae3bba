#!/usr/bin/env bash
# nodepoint WordPress installer, run inside a customer's container over SSH by `pulumi up`
# (components/WordPressInstall.ts). Idempotent: every step checks before it acts, so a re-run
# (a restart, a new script version, a changed URL) never reinstalls or wipes a site.
#
#   nodepoint-wp-install ENV_FILE
#
# ENV_FILE holds KEY=VALUE lines: WP_URL, WP_DOMAIN, WP_TITLE, WP_ADMIN_USER, WP_ADMIN_PASSWORD,
# WP_ADMIN_EMAIL. It arrives on stdin from Pulumi (a secret) and is kept mode 600.
# NODEPOINT_ROOT (tests only) prefixes every path, so the script can run against a scratch tree.
set -euo pipefail
umask 027

ENV_FILE="${1:?usage: nodepoint-wp-install ENV_FILE}"
ROOT="${NODEPOINT_ROOT:-}"
STATE="$ROOT/var/lib/nodepoint"
WEB="$ROOT/var/www/wordpress"
WP="wp --allow-root --path=$WEB"

# Read KEY=VALUE lines without evaluating them.
while IFS='=' read -r key value; do
  case "$key" in
    WP_URL|WP_DOMAIN|WP_TITLE|WP_ADMIN_USER|WP_ADMIN_PASSWORD|WP_ADMIN_EMAIL) printf -v "$key" '%s' "$value" ;;
    ''|'#'*) ;;
    *) echo "nodepoint-wp-install: unknown key $key in $ENV_FILE" >&2; exit 2 ;;
  esac
done < "$ENV_FILE"
for required in WP_URL WP_DOMAIN WP_TITLE WP_ADMIN_USER WP_ADMIN_PASSWORD WP_ADMIN_EMAIL; do
  if [ -z "${!required:-}" ]; then echo "nodepoint-wp-install: $required missing in $ENV_FILE" >&2; exit 2; fi
done

mkdir -p "$STATE" "$ROOT/etc/nodepoint"

# 1. Packages (once).
if [ ! -f "$STATE/packages-installed" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q nginx php-fpm php-mysql php-xml php-curl php-gd php-mbstring php-zip mariadb-server curl
  touch "$STATE/packages-installed"
fi
if ! command -v wp >/dev/null 2>&1; then
  curl -fsSL -o "$ROOT/usr/local/bin/wp" https://raw.githubusercontent.com/wp-cli/builds/gh-pages/phar/wp-cli.phar
  chmod 755 "$ROOT/usr/local/bin/wp"
fi

# 2. WordPress files (only when absent: never overwrite a site's code or uploads).
if [ ! -f "$WEB/wp-load.php" ]; then
  mkdir -p "$WEB"
  curl -fsSL https://wordpress.org/latest.tar.gz | tar -xz -C "$WEB" --strip-components=1
fi

# 3. Database and its password (generated once, kept).
if [ ! -s "$ROOT/etc/nodepoint/db-password" ]; then
  head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$ROOT/etc/nodepoint/db-password"
  chmod 600 "$ROOT/etc/nodepoint/db-password"
fi
DB_PASSWORD="$(cat "$ROOT/etc/nodepoint/db-password")"
mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS wordpress DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wordpress'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'localhost';
FLUSH PRIVILEGES;
SQL

# 4. wp-config.php (once: it holds the site's salts).
if [ ! -f "$WEB/wp-config.php" ]; then
  $WP config create --dbname=wordpress --dbuser=wordpress --dbpass="$DB_PASSWORD" --dbhost=localhost --skip-check
  # Behind Nginx Proxy Manager, TLS ends at the proxy.
  $WP config set FORCE_SSL_ADMIN true --raw
  $WP config set --type=constant --anchor="/* That's all" --raw _NODEPOINT_PROXY "isset(\$_SERVER['HTTP_X_FORWARDED_PROTO']) && \$_SERVER['HTTP_X_FORWARDED_PROTO'] === 'https' && (\$_SERVER['HTTPS'] = 'on')"
fi

# 5. The site: installed once with the generated admin password; the URL is kept current.
if ! $WP core is-installed >/dev/null 2>&1; then
  $WP core install --url="$WP_URL" --title="$WP_TITLE" --admin_user="$WP_ADMIN_USER" --admin_password="$WP_ADMIN_PASSWORD" --admin_email="$WP_ADMIN_EMAIL" --skip-email
else
  $WP option update home "$WP_URL"
  $WP option update siteurl "$WP_URL"
fi
chown -R www-data:www-data "$WEB" 2>/dev/null || true

# 6. Nginx site (rewritten every run from the current domain; reloaded only when it changed).
SITE="$ROOT/etc/nginx/sites-available/wordpress"
mkdir -p "$ROOT/etc/nginx/sites-available" "$ROOT/etc/nginx/sites-enabled"
NEW_SITE="$(cat <<NGINX
server {
    listen 80 default_server;
    server_name ${WP_DOMAIN};
    root /var/www/wordpress;
    index index.php;
    client_max_body_size 64m;
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
echo "nodepoint-wp-install: ${WP_DOMAIN} ready"
