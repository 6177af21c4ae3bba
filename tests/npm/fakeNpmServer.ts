/**
 * An in-memory Nginx Proxy Manager API on 127.0.0.1 (random port) for tests. It answers the calls
 * this project makes the way NPM's schema and backend do (status codes, object shapes, the
 * `{ error: { code, message } }` envelope and NPM's own messages, e.g. "x is already in use"), and
 * records every exchange so tests can check both directions against the schema.
 *
 * Faults: `rejectNextAuthenticated` (token expiry), `removeHost` (a host gone behind our back),
 * `takeDomainElsewhere` (a domain used by a host the client cannot see), `delayNext` (slow answers),
 * `failNext` (an NPM error answer), `failNextWithText` (a non-JSON error page, as from a proxy).
 *
 * A test file gets one with `useFakeNpm()`, which logs in `IDENTITY` with `SECRET`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach } from "vitest";

/** The NPM user of `useFakeNpm` (also the Let's Encrypt email the provider must declare). */
export const IDENTITY = "automation@nodepoint.example";
/** That user's password; tests assert it never shows up in errors or outputs. */
export const SECRET = "S3cret-Npm-Passw0rd-7f1c";

/**
 * The fake NPM of a test file: listening from `beforeAll`, emptied before each test, stopped in
 * `afterAll`. Its `apiUrl` is available inside tests and hooks (once it listens).
 */
export function useFakeNpm(options: Partial<FakeNpmOptions> = {}): FakeNpmServer {
  const fake = new FakeNpmServer({ identity: IDENTITY, secret: SECRET, ...options });
  beforeAll(() => fake.listen());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());
  return fake;
}

/** One request and the answer the fake gave. Paths are relative to `/api`. */
export interface RecordedExchange {
  readonly method: string;
  readonly path: string;
  /** Parsed JSON request body; undefined when there was none. */
  readonly requestBody: unknown;
  /** The `Authorization` header as sent (tests assert which token was used). */
  readonly authorization: string | undefined;
  readonly status: number;
  readonly responseBody: unknown;
}

/** A stored proxy host, in NPM's shape. */
export interface FakeProxyHost {
  id: number;
  created_on: string;
  modified_on: string;
  owner_user_id: number;
  domain_names: string[];
  forward_scheme: "http" | "https";
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
  enabled: boolean;
  locations: unknown[];
  hsts_enabled: boolean;
  hsts_subdomains: boolean;
  trust_forwarded_proto: boolean;
}

/** A stored certificate, in NPM's shape. */
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

/** Who may log in. */
export interface FakeNpmOptions {
  /** The user's email, used as identity and as the Let's Encrypt email. */
  readonly identity: string;
  /** The user's password. */
  readonly secret: string;
  /** The user has two-factor authentication: `POST /tokens` answers with a 2FA challenge. */
  readonly twoFactor?: boolean;
}

const USER_ID = 1;
const NOW = "2026-06-10T12:00:00.000Z";

/** The fake NPM. `useFakeNpm()` in a test file, or `FakeNpmServer.start` and `close` by hand. */
export class FakeNpmServer {
  /** Every exchange, in order. */
  readonly exchanges: RecordedExchange[] = [];
  /** Proxy hosts by id. */
  readonly hosts = new Map<number, FakeProxyHost>();
  /** Certificates by id. */
  readonly certificates = new Map<number, FakeCertificate>();
  /** Tokens currently accepted. */
  readonly validTokens = new Set<string>();

  private nextHostId = 1;
  private nextCertId = 1;
  private rejections: { status: 400 | 401; invalidate: boolean }[] = [];
  private delays: { ms: number; method?: string; path?: string }[] = [];
  private readonly elsewhere = new Set<string>();
  private failures: { status: number; message: string; text?: string; method?: string; path?: string }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;

  /** A fake that does not listen yet (`listen`). */
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

  /** Listens on 127.0.0.1, port chosen by the OS. */
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

  /** Empties hosts, certificates, tokens, faults and the record (between tests). */
  reset(): void {
    this.exchanges.length = 0;
    this.hosts.clear();
    this.certificates.clear();
    this.validTokens.clear();
    this.rejections = [];
    this.delays = [];
    this.elsewhere.clear();
    this.failures = [];
  }

  /**
   * The next authenticated request (not `/tokens`) is refused as with an expired token: 401, or
   * NPM's real answer, 400 "Token has expired". With `invalidate` (default) every token issued so
   * far stops working, as when it expires; without, the token can still be refreshed.
   */
  rejectNextAuthenticated(options: { status?: 400 | 401; invalidate?: boolean; times?: number } = {}): void {
    for (let i = 0; i < (options.times ?? 1); i++)
      this.rejections.push({ status: options.status ?? 401, invalidate: options.invalidate ?? true });
  }

  /** The next request (matching `method` and `path`, when given) is answered only after `ms` milliseconds. */
  delayNext(ms: number, match: { method?: string; path?: string } = {}): void {
    this.delays.push({ ms, ...match });
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

  /** Seeds a host, as if someone had created it in the NPM UI. */
  addHost(
    fields: Partial<FakeProxyHost> & Pick<FakeProxyHost, "domain_names" | "forward_host" | "forward_port">,
  ): FakeProxyHost {
    const host: FakeProxyHost = {
      id: this.nextHostId++,
      created_on: NOW,
      modified_on: NOW,
      owner_user_id: USER_ID,
      forward_scheme: "http",
      access_list_id: 0,
      certificate_id: 0,
      ssl_forced: false,
      caching_enabled: false,
      block_exploits: false,
      advanced_config: "",
      meta: { nginx_online: true, nginx_err: null },
      allow_websocket_upgrade: false,
      http2_support: false,
      enabled: true,
      locations: [],
      hsts_enabled: false,
      hsts_subdomains: false,
      trust_forwarded_proto: false,
      ...fields,
    };
    this.hosts.set(host.id, host);
    return host;
  }

  /** Seeds a Let's Encrypt certificate. */
  addCertificate(domains: string[]): FakeCertificate {
    const cert: FakeCertificate = {
      id: this.nextCertId++,
      created_on: NOW,
      modified_on: NOW,
      owner_user_id: USER_ID,
      provider: "letsencrypt",
      nice_name: domains.join(", "),
      domain_names: [...domains],
      expires_on: "2026-09-08T12:00:00.000Z",
      meta: {
        dns_challenge: false,
        letsencrypt_certificate: {
          cn: domains[0],
          issuer: "C = US, O = Let's Encrypt, CN = E5",
          dates: { from: 1781092800, to: 1788868800 },
        },
      },
    };
    this.certificates.set(cert.id, cert);
    return cert;
  }

  /** A valid token, as if obtained elsewhere (for clients given a token instead of credentials). */
  grantToken(): string {
    return this.issueToken().token;
  }

  /** Exchanges on one method and path prefix (e.g. `POST`, `/nginx/proxy-hosts`). */
  calls(method: string, pathPrefix: string): RecordedExchange[] {
    return this.exchanges.filter((e) => e.method === method && e.path.startsWith(pathPrefix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").replace(/^\/api/, "");
    const raw = await readBody(req);
    let requestBody: unknown;
    let answer: Answer;
    try {
      requestBody = raw === "" ? undefined : JSON.parse(raw);
      answer = this.route(method, path, requestBody, req.headers.authorization);
    } catch {
      answer = error(400, "Invalid JSON body");
    }
    this.exchanges.push({
      method,
      path,
      requestBody,
      authorization: req.headers.authorization,
      status: answer.status,
      responseBody: answer.body,
    });

    const send = (): void => {
      if (res.destroyed) return;
      if (typeof answer.text === "string") {
        res.writeHead(answer.status, { "content-type": "text/html; charset=utf-8" });
        res.end(answer.text);
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(answer.body));
    };
    const index = this.delays.findIndex((d) => (d.method ?? method) === method && (d.path ?? path) === path);
    const delay = index < 0 ? undefined : this.delays.splice(index, 1)[0];
    if (!delay) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, delay.ms);
    this.timers.add(timer);
  }

  private route(method: string, path: string, body: unknown, authorization: string | undefined): Answer {
    const failure = this.failures.findIndex((f) => (f.method ?? method) === method && (f.path ?? path) === path);
    if (failure >= 0) {
      const f = this.failures.splice(failure, 1)[0]!;
      return f.text === undefined ? error(f.status, f.message) : { status: f.status, body: f.text, text: f.text };
    }
    if (path === "/tokens" && method === "POST") return this.login(body);

    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token || !this.validTokens.has(token)) return error(401, "Token has expired");
    if (path === "/tokens" && method === "GET") return { status: 200, body: this.issueToken() };

    const rejection = this.rejections.shift();
    if (rejection) {
      if (rejection.invalidate) this.validTokens.clear();
      return error(rejection.status, "Token has expired");
    }

    if (path === "/users/me" && method === "GET") {
      return {
        status: 200,
        body: {
          id: USER_ID,
          created_on: NOW,
          modified_on: NOW,
          is_disabled: false,
          email: this.options.identity,
          name: "Automation",
          nickname: "automation",
          avatar: "//www.gravatar.com/avatar/00000000000000000000000000000000?default=mm",
          roles: ["admin"],
        },
      };
    }
    if (path === "/nginx/proxy-hosts" && method === "GET") return { status: 200, body: [...this.hosts.values()] };
    if (path === "/nginx/proxy-hosts" && method === "POST") return this.createHost(body);
    const hostMatch = /^\/nginx\/proxy-hosts\/(\d+)$/.exec(path);
    if (hostMatch) {
      const id = Number(hostMatch[1]);
      const host = this.hosts.get(id);
      if (!host) return error(404, `Not Found - ${id}`);
      if (method === "GET") return { status: 200, body: host };
      if (method === "PUT") return this.updateHost(host, body);
      if (method === "DELETE") {
        this.hosts.delete(id);
        return { status: 200, body: true };
      }
    }
    if (path === "/nginx/certificates" && method === "GET")
      return { status: 200, body: [...this.certificates.values()] };
    if (path === "/nginx/certificates" && method === "POST") {
      const b = body as { provider?: string; domain_names?: string[] } | undefined;
      if (b?.provider !== "letsencrypt" || !Array.isArray(b.domain_names) || b.domain_names.length === 0)
        return error(400, "Domains are invalid");
      return { status: 201, body: this.addCertificate(b.domain_names) };
    }
    return error(404, "Not Found");
  }

  private login(body: unknown): { status: number; body: unknown } {
    const b = body as { identity?: unknown; secret?: unknown } | undefined;
    if (b?.identity !== this.options.identity || b.secret !== this.options.secret)
      return error(400, "Invalid email or password");
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

  private createHost(body: unknown): { status: number; body: unknown } {
    const b = (body ?? {}) as Partial<FakeProxyHost>;
    if (
      !Array.isArray(b.domain_names) ||
      typeof b.forward_host !== "string" ||
      typeof b.forward_port !== "number" ||
      !b.forward_scheme
    ) {
      return error(
        400,
        "data must have required property 'domain_names', 'forward_scheme', 'forward_host' and 'forward_port'",
      );
    }
    const taken = this.takenBy(b.domain_names);
    if (taken) return error(400, `${taken} is already in use`);
    const host = this.addHost({
      ...b,
      domain_names: b.domain_names,
      forward_host: b.forward_host,
      forward_port: b.forward_port,
    });
    return { status: 201, body: { ...host, certificate: this.certificates.get(host.certificate_id) ?? null } };
  }

  private updateHost(host: FakeProxyHost, body: unknown): { status: number; body: unknown } {
    const b = (body ?? {}) as Partial<FakeProxyHost>;
    if (b.domain_names) {
      const taken = this.takenBy(b.domain_names, host.id);
      if (taken) return error(400, `${taken} is already in use`);
    }
    Object.assign(host, b, { id: host.id, modified_on: NOW });
    return { status: 200, body: { ...host, certificate: this.certificates.get(host.certificate_id) ?? null } };
  }
}

/** An answer: JSON `body`, or with `text` that text as the raw body (and as `body` in the record). */
interface Answer {
  status: number;
  body: unknown;
  text?: string;
}

function error(code: number, message: string): { status: number; body: unknown } {
  return { status: code, body: { error: { code, message } } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
