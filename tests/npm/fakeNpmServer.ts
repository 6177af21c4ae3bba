/**
 * An in-memory Nginx Proxy Manager API on 127.0.0.1 (random port) that behaves the way NPM's real
 * backend was seen to (`../shared/reality/nginx-proxy-manager.md` and its 283 recorded exchanges),
 * failures included:
 *
 * - real shapes: `locations: null`, dates as `YYYY-MM-DD HH:mm:ss`, `meta: {}` until nginx was
 *   configured, `owner` and the expanded `certificate` (with `is_deleted`) in POST/PUT replies,
 *   `message_i18n` in error bodies, the real cause only in an error's `debug`;
 * - tokens: an expired one answers 400 "Token has expired", an unknown one 500, never 401;
 * - `?query=` filters proxy hosts (by name) and certificates (by nice name); `?expand=certificate`
 *   gives a host's certificate row, `null` when its id dangles;
 * - a certificate request inserts the row first (`expires_on` = insert time, listed while certbot
 *   runs), runs "certbot" (`certbotMs`), one at a time: a second request meanwhile fails with
 *   "Another instance of Certbot is already running"; a failure hard-deletes the row, answers 500;
 *   Let's Encrypt's HTTP challenge fails for a domain without a DNS record (`dnsRecords`);
 * - nginx refuses a host whose certificate has no files (being issued, failed, deleted): the PUT
 *   still answers 200, with `meta.nginx_online: false` and nginx's error, and the host is served
 *   without SSL; `breakNginxReload` makes POST/PUT answer 500 after storing the change;
 * - deleting a certificate leaves the hosts' `certificate_id` dangling.
 *
 * `servesHttps(domain)` says what a browser would get. A test file gets one with `useFakeNpm()`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach } from "vitest";

/** The NPM user of `useFakeNpm` (also the Let's Encrypt email the provider must declare). */
export const IDENTITY = "automation@nodepoint.example";
/** That user's password; tests assert it never shows up in errors or outputs. */
export const SECRET = "S3cret-Npm-Passw0rd-7f1c";

/** The customer domain the provider tests manage. */
export const DOMAIN = "shop.acme-customer.example";

/** A proxy host's inputs (after `check`) for `fake`, the given fields changed. */
export function hostInputs<T extends object>(fake: FakeNpmServer, overrides: T = {} as T) {
  return {
    apiUrl: fake.apiUrl,
    domain: DOMAIN,
    forwardHost: "10.20.0.31",
    forwardPort: 80,
    sslForced: true,
    ...overrides,
  };
}

/** The NPM user in the stack config, as the engine hands it to the dynamic-provider plugin (NpmProxyHost's provider). */
export function npmStackConfig(identity: string = IDENTITY, secret: string = SECRET): Record<string, string> {
  return { "nodepoint:npm": JSON.stringify({ identity }), "nodepoint:npmPassword": secret };
}

/** The fake NPM of a test file: listening from `beforeAll`, emptied before each test, stopped in `afterAll`. */
export function useFakeNpm(options: Partial<FakeNpmOptions> = {}): FakeNpmServer {
  const fake = new FakeNpmServer({ identity: IDENTITY, secret: SECRET, ...options });
  beforeAll(() => fake.listen());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());
  return fake;
}

/** One request and the answer the fake gave. Paths are relative to `/api`, query included. */
export interface RecordedExchange {
  readonly method: string;
  readonly path: string;
  /** Parsed JSON request body; undefined when there was none. */
  readonly requestBody: unknown;
  readonly authorization: string | undefined;
  readonly status: number;
  readonly responseBody: unknown;
  /** When the request arrived and when it was answered (ms since the epoch). */
  readonly started: number;
  readonly ended: number;
}

/** A stored proxy host, in NPM's shape and key order. */
export interface FakeProxyHost {
  id: number;
  created_on: string;
  modified_on: string;
  owner_user_id: number;
  domain_names: string[];
  forward_host: string;
  forward_port: number;
  access_list_id: number;
  certificate_id: number;
  ssl_forced: boolean;
  caching_enabled: boolean;
  block_exploits: boolean;
  advanced_config: string;
  meta: Record<string, unknown>;
  allow_websocket_upgrade: boolean;
  http2_support: boolean;
  forward_scheme: "http" | "https";
  enabled: boolean;
  locations: unknown[] | null;
  hsts_enabled: boolean;
  hsts_subdomains: boolean;
  trust_forwarded_proto: boolean;
}

/** A stored certificate, in NPM's shape. `files` and `is_deleted` are internal (nginx's view, soft delete). */
export interface FakeCertificate {
  id: number;
  created_on: string;
  modified_on: string;
  owner_user_id: number;
  provider: "letsencrypt" | "other";
  nice_name: string;
  domain_names: string[];
  expires_on: string;
  meta: Record<string, unknown>;
}

interface StoredCertificate {
  row: FakeCertificate;
  /** The certificate files exist (certbot succeeded): nginx can load them. */
  files: boolean;
  is_deleted: boolean;
}

export interface FakeNpmOptions {
  /** The user's email, used as identity and as the Let's Encrypt email. */
  readonly identity: string;
  /** The user's password. */
  readonly secret: string;
  /** The user has two-factor authentication: `POST /tokens` answers with a 2FA challenge. */
  readonly twoFactor?: boolean;
}

/** How the next certbot run ends. */
export type CertbotOutcome = "success" | { fail: string };

const USER_ID = 1;
const NGINX_BROKEN = {
  stack: ["Error"],
  previous: {
    errno: -2,
    code: "ENOENT",
    syscall: "spawn /usr/sbin/nginx",
    path: "/usr/sbin/nginx",
    spawnargs: ["-t", "-g", "error_log off;"],
    cmd: "/usr/sbin/nginx -t -g error_log off;",
  },
};

/** NPM's database time format. */
export function npmTime(ms: number = Date.now()): string {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "");
}

/** The fake NPM. `useFakeNpm()` in a test file, or `FakeNpmServer.start` and `close` by hand. */
export class FakeNpmServer {
  /** Every exchange, in the order answered. */
  readonly exchanges: RecordedExchange[] = [];
  /** Proxy hosts by id (deleted ones are gone from here). */
  readonly hosts = new Map<number, FakeProxyHost>();
  /** Domains with a DNS record (Let's Encrypt's HTTP challenge needs one). `undefined`: every domain resolves. */
  dnsRecords: Set<string> | undefined;
  /** How long a certbot run takes (ms). */
  certbotMs = 30;
  /** The most certbot runs seen at once. */
  maxConcurrentCertbot = 0;

  private readonly certificates = new Map<number, StoredCertificate>();
  private readonly validTokens = new Set<string>();
  private readonly expiredTokens = new Set<string>();
  private nextHostId = 1;
  private nextCertId = 1;
  private runningCertbot = 0;
  private outcomes: CertbotOutcome[] = [];
  private spoilers: ("expire" | "forget")[] = [];
  private nginxBroken = 0;
  private elsewhere = new Set<string>();
  private failures: { status: number; message: string; text?: string; method?: string; path?: string }[] = [];
  private delays: { ms: number; method?: string; path?: string }[] = [];
  private arrivals: { method: string; path: string; arrived: () => void }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;

  constructor(private readonly options: FakeNpmOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** A fake listening on 127.0.0.1, port chosen by the OS. */
  static async start(options: FakeNpmOptions): Promise<FakeNpmServer> {
    const fake = new FakeNpmServer(options);
    await fake.listen();
    return fake;
  }

  /** Base URL including `/api`, like the real one. Only while listening. */
  get apiUrl(): string {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error("fake NPM: not listening yet");
    return `http://127.0.0.1:${address.port}/api`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
  }

  /** Stops listening, drops open connections and pending delayed answers. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Empties everything (between tests). */
  reset(): void {
    this.exchanges.length = 0;
    this.hosts.clear();
    this.certificates.clear();
    this.validTokens.clear();
    this.expiredTokens.clear();
    this.dnsRecords = undefined;
    this.certbotMs = 30;
    this.maxConcurrentCertbot = 0;
    this.outcomes = [];
    this.spoilers = [];
    this.nginxBroken = 0;
    this.elsewhere.clear();
    this.failures = [];
    this.delays = [];
    this.arrivals = [];
  }

  // ---- faults and what a person does in the NPM UI ----

  /** Every token issued so far expires (NPM then answers 400 "Token has expired"). */
  expireTokens(): void {
    for (const t of this.validTokens) this.expiredTokens.add(t);
    this.validTokens.clear();
  }

  /**
   * Before each of the next `times` authenticated requests, the tokens issued so far stop working:
   * `expire` as after their lifetime (400 "Token has expired"), `forget` as after NPM changed its
   * signing key (a bare 500).
   */
  spoilTokensBeforeNext(how: "expire" | "forget", times = 1): void {
    for (let i = 0; i < times; i++) this.spoilers.push(how);
  }

  /** The next `count` certbot runs end so (then: success). */
  certbotOutcomes(...outcomes: CertbotOutcome[]): void {
    this.outcomes.push(...outcomes);
  }

  /** nginx cannot be reloaded for the next `count` host writes: NPM stores the change, then answers 500. */
  breakNginxReload(count = 1): void {
    this.nginxBroken += count;
  }

  /** The next request (matching `method` and `path`, when given) is answered only after `ms` milliseconds. */
  delayNext(ms: number, match: { method?: string; path?: string } = {}): void {
    this.delays.push({ ms, ...match });
  }

  /**
   * Resolves when the next request for `method` and `path` reaches the server (before any delay): with
   * fake timers, the moment from which a test lets the client's timeout pass.
   */
  arrivalOf(method: string, path: string): Promise<void> {
    return new Promise((arrived) => this.arrivals.push({ method, path, arrived }));
  }

  /** The next request matching `method` and `path` (when given) gets an NPM error answer instead. */
  failNext(status: number, message: string, match: { method?: string; path?: string } = {}): void {
    this.failures.push({ status, message, ...match });
  }

  /** Like `failNext`, but the answer's body is `text` as is, not JSON (e.g. a proxy's HTML error page). */
  failNextWithText(status: number, text: string, match: { method?: string; path?: string } = {}): void {
    this.failures.push({ status, message: "", text, ...match });
  }

  /** `domain` counts as used by some host the API user cannot list (e.g. a redirection host). */
  takeDomainElsewhere(domain: string): void {
    this.elsewhere.add(domain.toLowerCase());
  }

  /** Deletes a host behind the client's back. */
  removeHost(id: number): void {
    this.hosts.delete(id);
  }

  /** Deletes a certificate as the UI does (soft delete); hosts keep its id. */
  deleteCertificate(id: number): void {
    const stored = this.certificates.get(id);
    if (stored) stored.is_deleted = true;
  }

  /** A certificate's files vanish from disk while its row stays (nginx can no longer load it). */
  loseCertificateFiles(id: number): void {
    const stored = this.certificates.get(id);
    if (stored) stored.files = false;
  }

  /** Certbot runs for something else (NPM's own renewals, the UI) during `ms`. */
  runCertbotElsewhere(ms: number): Promise<void> {
    this.runningCertbot++;
    return new Promise<void>((resolve) =>
      this.timer(() => {
        this.runningCertbot--;
        resolve();
      }, ms),
    );
  }

  /**
   * Someone else (the UI) requests a certificate for `domains`: its row is listed at once, as
   * being issued, and is issued after `ms`. Resolves with the issued row.
   */
  issueElsewhere(domains: string[], ms: number): Promise<FakeCertificate> {
    const stored = this.insertCertificate(domains, Date.now());
    this.runningCertbot++;
    return new Promise<FakeCertificate>((resolve) =>
      this.timer(() => {
        this.runningCertbot--;
        this.issue(stored, Date.now());
        resolve(stored.row);
      }, ms),
    );
  }

  /** Seeds a host, as if someone had created it in the NPM UI (nginx configured). */
  addHost(
    fields: Partial<FakeProxyHost> & Pick<FakeProxyHost, "domain_names" | "forward_host" | "forward_port">,
  ): FakeProxyHost {
    const host = this.insertHost(fields);
    host.meta = this.nginxVerdict(host);
    return host;
  }

  /** Seeds a certificate: issued (default), still being issued, or expired. */
  addCertificate(domains: string[], state: "issued" | "being-issued" | "expired" = "issued"): FakeCertificate {
    const now = Date.now();
    const stored = this.insertCertificate(domains, now - (state === "expired" ? 100 * 86_400_000 : 0));
    if (state === "issued") this.issue(stored, now);
    if (state === "expired") {
      this.issue(stored, now - 100 * 86_400_000);
    }
    return stored.row;
  }

  // ---- what tests look at ----

  /** Live certificates (not deleted), as NPM lists them. */
  get liveCertificates(): FakeCertificate[] {
    return [...this.certificates.values()].filter((c) => !c.is_deleted).map((c) => c.row);
  }

  /** Exchanges on one method and path prefix (e.g. `POST`, `/nginx/proxy-hosts`). */
  calls(method: string, pathPrefix: string): RecordedExchange[] {
    return this.exchanges.filter((e) => e.method === method && e.path.startsWith(pathPrefix));
  }

  /** What a browser gets at https://<domain>: true when nginx serves it with a certificate that loads. */
  servesHttps(domain: string): boolean {
    const host = [...this.hosts.values()].find((h) => h.domain_names.some((d) => d.toLowerCase() === domain));
    if (!host || !host.enabled || host.meta["nginx_online"] === false) return false;
    const cert = this.certificates.get(host.certificate_id);
    return (
      !!cert && !cert.is_deleted && cert.files && Date.parse(`${cert.row.expires_on.replace(" ", "T")}Z`) > Date.now()
    );
  }

  /** Every token ever issued (tests check none leaks). */
  get issuedTokens(): string[] {
    return [...this.validTokens, ...this.expiredTokens];
  }

  // ---- the server ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://npm");
    const path = url.pathname.replace(/^\/api/, "");
    const raw = await readBody(req);
    const waiting = this.arrivals.findIndex((a) => a.method === method && a.path === path);
    if (waiting >= 0) this.arrivals.splice(waiting, 1)[0]!.arrived();
    let requestBody: unknown;
    let answer: Answer;
    const index = this.delays.findIndex((d) => (d.method ?? method) === method && (d.path ?? path) === path);
    const delay = index < 0 ? undefined : this.delays.splice(index, 1)[0];
    if (delay) await new Promise((resolve) => this.timer(resolve, delay.ms));
    try {
      requestBody = raw === "" ? undefined : JSON.parse(raw);
      answer = await this.route(method, path, url.searchParams, requestBody, req.headers.authorization);
    } catch {
      answer = error(400, "Invalid JSON body");
    }
    this.exchanges.push({
      method,
      path: `${path}${url.search}`,
      requestBody,
      authorization: req.headers.authorization,
      status: answer.status,
      responseBody: answer.body,
      started,
      ended: Date.now(),
    });
    if (res.destroyed) return;
    if (typeof answer.text === "string") {
      res.writeHead(answer.status, { "content-type": "text/html; charset=utf-8" });
      res.end(answer.text);
      return;
    }
    res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(answer.body));
  }

  private timer(fn: (value: unknown) => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn(undefined);
    }, ms);
    this.timers.add(t);
  }

  private async route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    authorization: string | undefined,
  ): Promise<Answer> {
    const failure = this.failures.findIndex((f) => (f.method ?? method) === method && (f.path ?? path) === path);
    if (failure >= 0) {
      const f = this.failures.splice(failure, 1)[0]!;
      return f.text === undefined ? error(f.status, f.message) : { status: f.status, body: f.text, text: f.text };
    }
    if (path === "/tokens" && method === "POST") return this.login(body);

    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token) return error(403, "Permission Denied");
    const spoil = this.spoilers.shift();
    if (spoil === "expire") this.expireTokens();
    if (spoil === "forget") this.validTokens.clear();
    if (this.expiredTokens.has(token))
      return {
        status: 400,
        body: {
          error: {
            code: 400,
            message: "Token has expired",
            message_i18n: { name: "TokenExpiredError", message: "jwt expired", expiredAt: new Date().toISOString() },
          },
        },
      };
    // A token NPM did not sign (bad signature): its JWT check throws, and the answer is a bare 500.
    if (!this.validTokens.has(token)) return error(500, "Internal Error");
    if (path === "/tokens" && method === "GET") return { status: 200, body: this.issueToken() };
    if (path === "/users/me" && method === "GET") return { status: 200, body: this.user() };

    const expand = (query.get("expand") ?? "").split(",");
    const search = query.get("query")?.toLowerCase();
    if (path === "/nginx/proxy-hosts" && method === "GET") {
      const rows = [...this.hosts.values()]
        .filter((h) => !search || JSON.stringify(h.domain_names).toLowerCase().includes(search))
        .map((h) => (expand.includes("certificate") ? { ...h, certificate: this.certificateOf(h) } : h));
      return { status: 200, body: rows };
    }
    if (path === "/nginx/proxy-hosts" && method === "POST") return this.createHost(body);
    const hostMatch = /^\/nginx\/proxy-hosts\/(\d+)$/.exec(path);
    if (hostMatch) {
      const id = Number(hostMatch[1]);
      const host = this.hosts.get(id);
      if (!host) return error(404, `Not Found - ${id}`);
      if (method === "GET")
        return {
          status: 200,
          body: expand.includes("certificate") ? { ...host, certificate: this.certificateOf(host) } : host,
        };
      if (method === "PUT") return this.updateHost(host, body);
      if (method === "DELETE") {
        this.hosts.delete(id);
        return { status: 200, body: true };
      }
    }
    if (path === "/nginx/certificates" && method === "GET") {
      const rows = this.liveCertificates.filter((c) => !search || c.nice_name.toLowerCase().includes(search));
      return { status: 200, body: rows };
    }
    if (path === "/nginx/certificates" && method === "POST") return this.requestCertificate(body);
    const certMatch = /^\/nginx\/certificates\/(\d+)$/.exec(path);
    if (certMatch && method === "DELETE") {
      const stored = this.certificates.get(Number(certMatch[1]));
      if (!stored || stored.is_deleted) return error(404, `Not Found - ${certMatch[1]}`);
      stored.is_deleted = true;
      return { status: 200, body: true };
    }
    return error(404, `Not Found - ${path}`);
  }

  private user(): Record<string, unknown> {
    return {
      id: USER_ID,
      created_on: "2026-11-29 16:46:27",
      modified_on: "2026-11-29 16:46:27",
      is_disabled: false,
      email: this.options.identity,
      name: "Automation",
      nickname: "automation",
      avatar: "",
      roles: ["admin"],
    };
  }

  private login(body: unknown): Answer {
    const b = body as { identity?: unknown; secret?: unknown } | undefined;
    if (b?.identity !== this.options.identity || b.secret !== this.options.secret)
      return {
        status: 400,
        body: { error: { code: 400, message: "Invalid email or password", message_i18n: "error.invalid-auth" } },
      };
    if (this.options.twoFactor)
      return {
        status: 200,
        body: { requires_2fa: true, challenge_token: `fake-challenge.${randomBytes(8).toString("hex")}` },
      };
    return { status: 200, body: this.issueToken() };
  }

  private issueToken(): { token: string; expires: string } {
    const token = `fake-jwt.${randomBytes(12).toString("hex")}`;
    this.validTokens.add(token);
    return { token, expires: new Date(Date.now() + 86_400_000).toISOString() };
  }

  /** NPM's `isHostnameTaken`: any other host (or an invisible one) using the name. */
  private takenBy(domains: string[], exceptId?: number): string | undefined {
    for (const d of domains) {
      const name = d.toLowerCase();
      if (this.elsewhere.has(name)) return d;
      for (const h of this.hosts.values()) {
        if (h.id !== exceptId && h.domain_names.some((n) => n.toLowerCase() === name)) return d;
      }
    }
    return undefined;
  }

  private insertHost(
    fields: Partial<FakeProxyHost> & Pick<FakeProxyHost, "domain_names" | "forward_host" | "forward_port">,
  ): FakeProxyHost {
    const now = npmTime();
    const host: FakeProxyHost = {
      id: this.nextHostId++,
      created_on: now,
      modified_on: now,
      owner_user_id: USER_ID,
      domain_names: fields.domain_names,
      forward_host: fields.forward_host,
      forward_port: fields.forward_port,
      access_list_id: fields.access_list_id ?? 0,
      certificate_id: fields.certificate_id ?? 0,
      ssl_forced: fields.ssl_forced ?? false,
      caching_enabled: fields.caching_enabled ?? false,
      block_exploits: fields.block_exploits ?? false,
      advanced_config: fields.advanced_config ?? "",
      meta: {},
      allow_websocket_upgrade: fields.allow_websocket_upgrade ?? false,
      http2_support: fields.http2_support ?? false,
      forward_scheme: fields.forward_scheme ?? "http",
      enabled: fields.enabled ?? true,
      locations: null,
      hsts_enabled: false,
      hsts_subdomains: false,
      trust_forwarded_proto: false,
    };
    this.hosts.set(host.id, host);
    return host;
  }

  /** The expanded `certificate` of a host: its row, `null` when deleted or never existing. */
  private certificateOf(
    host: FakeProxyHost,
    withDeletedFlag = false,
  ): FakeCertificate | (FakeCertificate & { is_deleted: 0 }) | null {
    const stored = this.certificates.get(host.certificate_id);
    if (!stored || stored.is_deleted) return null;
    return withDeletedFlag ? { ...stored.row, is_deleted: 0 } : stored.row;
  }

  /** What `nginx -t` says of the host's configuration: SSL needs certificate files. */
  private nginxVerdict(host: FakeProxyHost): Record<string, unknown> {
    const stored = this.certificates.get(host.certificate_id);
    if (host.certificate_id > 0 && !(stored?.files && !stored.is_deleted))
      return {
        nginx_online: false,
        nginx_err:
          `nginx: [emerg] cannot load certificate "/etc/letsencrypt/live/npm-${host.certificate_id}/fullchain.pem": ` +
          "BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory)\n" +
          "nginx: configuration file /etc/nginx/nginx.conf test failed\n",
      };
    return { nginx_online: true, nginx_err: null };
  }

  private createHost(body: unknown): Answer {
    const b = (body ?? {}) as Partial<FakeProxyHost>;
    if (
      !Array.isArray(b.domain_names) ||
      typeof b.forward_host !== "string" ||
      typeof b.forward_port !== "number" ||
      !b.forward_scheme
    ) {
      return error(400, "data must have required property 'forward_port'");
    }
    const taken = this.takenBy(b.domain_names);
    if (taken) return error(400, `${taken} is already in use`);
    const host = this.insertHost({
      ...b,
      domain_names: b.domain_names,
      forward_host: b.forward_host,
      forward_port: b.forward_port,
    });
    // NPM answers the row it fetched before configuring nginx (meta still empty).
    const reply = { ...host, certificate: this.certificateOf(host, true), owner: this.user() };
    if (this.nginxBroken > 0) {
      this.nginxBroken--;
      return { status: 500, body: { error: { code: 500, message: "Internal Error" }, debug: NGINX_BROKEN } };
    }
    host.meta = this.nginxVerdict(host);
    return { status: 201, body: reply };
  }

  private updateHost(host: FakeProxyHost, body: unknown): Answer {
    const b = (body ?? {}) as Partial<FakeProxyHost>;
    if (b.domain_names) {
      const taken = this.takenBy(b.domain_names, host.id);
      if (taken) return error(400, `${taken} is already in use`);
    }
    Object.assign(host, b, { id: host.id, modified_on: npmTime() });
    if (this.nginxBroken > 0) {
      this.nginxBroken--;
      return error(500, "Internal Error");
    }
    host.meta = this.nginxVerdict(host);
    return {
      status: 200,
      body: { ...host, owner: this.user(), certificate: this.certificateOf(host, true) },
    };
  }

  private insertCertificate(domains: string[], at: number): StoredCertificate {
    const time = npmTime(at);
    const stored: StoredCertificate = {
      row: {
        id: this.nextCertId++,
        created_on: time,
        modified_on: time,
        owner_user_id: USER_ID,
        provider: "letsencrypt",
        nice_name: domains.join(", "),
        domain_names: [...domains],
        // NPM inserts the row before certbot runs: it "expires" when it was created.
        expires_on: time,
        meta: { dns_challenge: false },
      },
      files: false,
      is_deleted: false,
    };
    this.certificates.set(stored.row.id, stored);
    return stored;
  }

  private issue(stored: StoredCertificate, at: number): void {
    stored.files = true;
    stored.row.expires_on = npmTime(at + 90 * 86_400_000);
    stored.row.modified_on = npmTime(at);
  }

  private async requestCertificate(body: unknown): Promise<Answer> {
    const b = body as { provider?: string; domain_names?: string[]; meta?: unknown } | undefined;
    if (b?.provider !== "letsencrypt" || !Array.isArray(b.domain_names) || b.domain_names.length === 0)
      return error(400, "data/domain_names must NOT have fewer than 1 items");
    const stored = this.insertCertificate(b.domain_names, Date.now());
    const cmd =
      `certbot certonly -n --config /etc/letsencrypt.ini --work-dir /tmp/letsencrypt-lib --logs-dir /data/logs ` +
      `--cert-name npm-${stored.row.id} --agree-tos --authenticator webroot -m ${this.options.identity} ` +
      `--preferred-challenges http --domains ${b.domain_names.join(",")}`;
    const busy = this.runningCertbot > 0;
    this.runningCertbot++;
    this.maxConcurrentCertbot = Math.max(this.maxConcurrentCertbot, this.runningCertbot);
    try {
      await new Promise((resolve) => this.timer(resolve, busy ? 5 : this.certbotMs));
      const noDns = this.dnsRecords ? b.domain_names.find((d) => !this.dnsRecords!.has(d.toLowerCase())) : undefined;
      const outcome = busy ? undefined : (this.outcomes.shift() ?? "success");
      const failure = busy
        ? ["Error: Another instance of Certbot is already running.", ""]
        : noDns
          ? [
              "Error: Saving debug log to /data/logs/letsencrypt.log",
              "Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these problems:",
              `  Domain: ${noDns}`,
              "  Type:   dns",
              `  Detail: DNS problem: NXDOMAIN looking up A for ${noDns} - check that a DNS record exists for this domain`,
              "",
            ]
          : outcome === "success"
            ? undefined
            : [
                "Error: Saving debug log to /data/logs/letsencrypt.log",
                "An unexpected error occurred:",
                outcome!.fail,
                "",
              ];
      if (failure) {
        // The row goes (hard delete) and the cause is only in `debug`.
        this.certificates.delete(stored.row.id);
        return {
          status: 500,
          body: {
            error: { code: 500, message: "Internal Error" },
            debug: { stack: failure, previous: { code: 1, killed: false, signal: null, cmd } },
          },
        };
      }
      this.issue(stored, Date.now());
      const { expires_on, modified_on, ...rest } = stored.row;
      return {
        status: 201,
        body: {
          expires_on,
          modified_on,
          ...rest,
          meta: {
            ...rest.meta,
            letsencrypt_certificate: {
              cn: b.domain_names[0],
              issuer: "C = US, O = Let's Encrypt, CN = E5",
              dates: { from: Math.floor(Date.now() / 1000), to: Math.floor(Date.now() / 1000) + 90 * 86_400 },
            },
          },
        },
      };
    } finally {
      this.runningCertbot--;
    }
  }
}

/** An answer: JSON `body`, or with `text` that text as the raw body (and as `body` in the record). */
interface Answer {
  status: number;
  body: unknown;
  text?: string;
}

function error(code: number, message: string): Answer {
  return { status: code, body: { error: { code, message } } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
