/**
 * A small typed client for the parts of Nginx Proxy Manager's REST API this project uses: tokens,
 * proxy hosts, Let's Encrypt certificates and the API user (`/users/me`). Shapes follow NPM's
 * OpenAPI schema (`contracts/nginx-proxy-manager`) and what NPM's backend was seen to send
 * (`../shared/reality/nginx-proxy-manager.md`): `locations: null`, error bodies with
 * `message_i18n` and the real cause in `debug`, dates as `YYYY-MM-DD HH:mm:ss`.
 *
 * Serialization-safe: no class, no `instanceof`. A failure is a plain `Error` whose `npm` property
 * (`NpmFailure`) says what failed; `npmFailureOf` reads it. Expected answers are values, not
 * errors: a missing host is `undefined`, a host already deleted is `false`.
 *
 * Every message is redacted (password, tokens) before it is cut to length, so no part of a
 * secret survives a cut.
 */

/** Identity (the NPM user's email) and password used to obtain a token from `POST /tokens`. */
export interface NpmCredentials {
  /** The NPM user's email address. */
  readonly identity: string;
  /** The NPM user's password. */
  readonly secret: string;
}

/** How to reach and authenticate against one NPM instance. */
export interface NpmClientOptions {
  /** Base URL of the API including `/api`, e.g. `http://192.168.1.201:81/api`. */
  readonly apiUrl: string;
  readonly credentials: NpmCredentials;
  /** Per-request timeout in ms (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * Timeout of `POST /nginx/certificates` in ms (default 15 min, NPM's own limit for it): NPM
   * answers only once certbot has finished.
   */
  readonly certificateTimeoutMs?: number;
}

/** A certificate as NPM returns it (a subset of `certificate-object.json`). */
export interface Certificate {
  readonly id: number;
  readonly provider: string;
  readonly domain_names: readonly string[];
  /** `YYYY-MM-DD HH:mm:ss` (UTC) or ISO 8601. */
  readonly created_on: string;
  /** Equal to `created_on` while certbot still runs (NPM inserts the row first). */
  readonly expires_on: string;
}

/** A proxy host as NPM returns it (a subset of `proxy-host-object.json`). */
export interface ProxyHost {
  readonly id: number;
  readonly domain_names: readonly string[];
  readonly forward_scheme: string;
  readonly forward_host: string;
  readonly forward_port: number;
  /** `0` when the host has none. May name a certificate that no longer exists. */
  readonly certificate_id: number;
  readonly ssl_forced: boolean;
  /** The certificate row behind `certificate_id`: `null` when it is gone; absent when not expanded. */
  readonly certificate?: Certificate | null;
  /** `false` when nginx refused the host's configuration (it then serves it without SSL). */
  readonly nginx_online?: boolean;
  /** nginx's own words when it refused the configuration. */
  readonly nginx_err?: string;
}

/** Writable proxy host fields this project sets. */
export interface ProxyHostWrite {
  domain_names?: string[];
  forward_scheme?: "http" | "https";
  forward_host?: string;
  forward_port?: number;
  certificate_id?: number;
  ssl_forced?: boolean;
}

/** The API user's fields this project reads. */
export interface NpmUser {
  readonly id: number;
  readonly email: string;
}

/** What went wrong in one call. */
export interface NpmFailure {
  /** An HTTP error answer, no answer in time, no connection, or an unreadable answer. */
  readonly kind: "http" | "timeout" | "network" | "protocol";
  readonly method: string;
  /** API path of the call, relative to `apiUrl` (query included). */
  readonly path: string;
  /** HTTP status, when NPM answered. */
  readonly status?: number;
  /** NPM's own message (`error.message`), redacted. */
  readonly message?: string;
  /** The real cause NPM only puts in `debug` (certbot's output, a failed spawn), redacted and capped. */
  readonly cause?: string;
}

/** The `NpmFailure` an error carries, if it is an NPM call's failure. */
export function npmFailureOf(err: unknown): NpmFailure | undefined {
  const npm = (err as { npm?: unknown } | null | undefined)?.npm;
  return npm && typeof npm === "object" ? (npm as NpmFailure) : undefined;
}

/** True when NPM refused a domain because another host (of any kind) already uses it. */
export function isDomainTaken(err: unknown): boolean {
  const failure = npmFailureOf(err);
  return failure?.status === 400 && /already in use/i.test(failure.message ?? "");
}

/** True when certbot refused to start because another certbot is running (NPM runs one at a time). */
export function isCertbotBusy(err: unknown): boolean {
  return /another instance of certbot is already running/i.test(npmFailureOf(err)?.cause ?? "");
}

/** Longest cause text kept in a message (NPM's debug output can be long). */
export const CAUSE_LIMIT = 400;

/** The operations this project needs. Every call logs in lazily and, when NPM rejects the token, once more. */
export interface NpmClient {
  /** The proxy host serving `domain` (case-insensitive), certificate expanded; NPM allows at most one. */
  findProxyHostByDomain(domain: string): Promise<ProxyHost | undefined>;
  /** Proxy hosts whose names contain `text` (NPM's `?query=`), certificate expanded. */
  searchProxyHosts(text: string): Promise<ProxyHost[]>;
  /** `GET /nginx/proxy-hosts/{id}?expand=certificate`; `undefined` when there is no such host. */
  getProxyHost(id: number): Promise<ProxyHost | undefined>;
  /** `POST /nginx/proxy-hosts`. */
  createProxyHost(
    fields: ProxyHostWrite &
      Required<Pick<ProxyHostWrite, "domain_names" | "forward_scheme" | "forward_host" | "forward_port">>,
  ): Promise<ProxyHost>;
  /** `PUT /nginx/proxy-hosts/{id}` with only the given fields; the answer includes nginx's verdict. */
  updateProxyHost(id: number, fields: ProxyHostWrite): Promise<ProxyHost>;
  /** `DELETE /nginx/proxy-hosts/{id}`; `false` when it was already gone. */
  deleteProxyHost(id: number): Promise<boolean>;
  /** Certificates whose name contains `text` (NPM's `?query=`). */
  searchCertificates(text: string): Promise<Certificate[]>;
  /** `POST /nginx/certificates` (Let's Encrypt, HTTP challenge); resolves once certbot succeeded. */
  requestLetsEncryptCertificate(domains: readonly string[]): Promise<Certificate>;
  /** `DELETE /nginx/certificates/{id}`; `false` when it was already gone. */
  deleteCertificate(id: number): Promise<boolean>;
  /** `GET /users/me`: NPM registers Let's Encrypt certificates with this user's email. */
  getCurrentUser(): Promise<NpmUser>;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Creates a client. No request is made until the first call. */
export function createNpmClient(options: NpmClientOptions): NpmClient {
  const baseUrl = options.apiUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const certificateTimeoutMs = options.certificateTimeoutMs ?? 900_000;
  const credentials = options.credentials;
  const issued: string[] = [];
  let token: string | undefined;

  /** Replaces the password and every token this client received with `[redacted]`. */
  const redact = (text: string): string =>
    [credentials.secret, ...issued].reduce(
      (out, hidden) => (hidden ? out.split(hidden).join("[redacted]") : out),
      text,
    );

  const fail = (failure: NpmFailure, detail: string): Error => {
    const parts = [`NPM API ${failure.method} ${failure.path} ${detail}`];
    if (failure.message) parts.push(`: ${failure.message}`);
    if (failure.cause) parts.push(` (cause: ${failure.cause})`);
    return Object.assign(new Error(redact(parts.join(""))), { npm: failure });
  };

  interface Answer {
    status: number;
    json: unknown;
    message?: string;
    cause?: string;
  }

  /** One HTTP exchange; resolves with any HTTP status, rejects on timeout, network failure or non-JSON success. */
  async function exchange(
    method: Method,
    path: string,
    body?: unknown,
    bearer?: string,
    limit = timeoutMs,
  ): Promise<Answer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), limit);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (bearer) headers["authorization"] = `Bearer ${bearer}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(baseUrl + path, {
        method,
        headers,
        signal: controller.signal,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (controller.signal.aborted)
        throw fail({ kind: "timeout", method, path }, `timed out after ${limit} ms without a complete answer`);
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw fail({ kind: "network", method, path }, `could not reach ${baseUrl}: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      if (status < 300)
        throw fail({ kind: "protocol", method, path, status }, `answered HTTP ${status} with a body that is not JSON`);
      // An error page from something in front of NPM: redacted before it is cut.
      return { status, json: undefined, message: redact(text).slice(0, CAUSE_LIMIT) };
    }
    return { status, json, ...errorTextOf(json, redact) };
  }

  const httpError = (method: Method, path: string, res: Answer, what?: string): Error =>
    fail(
      {
        kind: "http",
        method,
        path,
        status: res.status,
        ...(res.message !== undefined ? { message: res.message } : {}),
        ...(res.cause !== undefined ? { cause: res.cause } : {}),
      },
      `${what ? `${what}: ` : ""}failed with HTTP ${res.status}`,
    );

  /** Logs in (`POST /tokens`). */
  async function login(): Promise<string> {
    const res = await exchange("POST", "/tokens", { identity: credentials.identity, secret: credentials.secret });
    if (res.status !== 200) throw httpError("POST", "/tokens", res, "could not obtain a token");
    const obj = asRecord(res.json);
    if (obj?.["requires_2fa"] === true)
      throw fail(
        { kind: "protocol", method: "POST", path: "/tokens", status: 200 },
        "requires two-factor authentication for this user; use an NPM user without 2FA for automation",
      );
    if (typeof obj?.["token"] !== "string" || obj["token"] === "")
      throw fail({ kind: "protocol", method: "POST", path: "/tokens", status: 200 }, "answered without a token");
    issued.push(obj["token"]);
    return obj["token"];
  }

  /**
   * An authenticated call. NPM rejects an expired token with 400 "Token has expired" (its
   * `AuthError`) and one with a bad signature with 500 "Internal Error" (never 401): the call is
   * retried once with a new token after the first, and for a read after the second.
   */
  async function authed(method: Method, path: string, body?: unknown, limit?: number): Promise<Answer> {
    token ??= await login();
    let res = await exchange(method, path, body, token, limit);
    const rejected =
      res.status === 401 ||
      ((res.status === 400 || res.status === 403) && /token/i.test(res.message ?? "")) ||
      (method === "GET" && res.status === 500);
    if (rejected) {
      token = await login();
      res = await exchange(method, path, body, token, limit);
    }
    return res;
  }

  /** An authenticated call that must answer `expected`. */
  async function expect(
    method: Method,
    path: string,
    expected: number,
    body?: unknown,
    limit?: number,
  ): Promise<unknown> {
    const res = await authed(method, path, body, limit);
    if (res.status !== expected) throw httpError(method, path, res);
    return res.json;
  }

  const host = (json: unknown, method: Method, path: string): ProxyHost => {
    const parsed = toProxyHost(json);
    if (!parsed)
      throw fail({ kind: "protocol", method, path }, "answered with something that is not a proxy host object");
    return parsed;
  };
  const certificate = (json: unknown, method: Method, path: string): Certificate => {
    const parsed = toCertificate(json);
    if (!parsed)
      throw fail({ kind: "protocol", method, path }, "answered with something that is not a certificate object");
    return parsed;
  };
  const list = <T>(json: unknown, parse: (item: unknown) => T, method: Method, path: string): T[] => {
    if (!Array.isArray(json))
      throw fail({ kind: "protocol", method, path }, "answered with something that is not a list");
    return json.map(parse);
  };

  const client: NpmClient = {
    async searchProxyHosts(text) {
      const path = `/nginx/proxy-hosts?expand=certificate&query=${encodeURIComponent(text)}`;
      return list(await expect("GET", path, 200), (item) => host(item, "GET", path), "GET", path);
    },
    async findProxyHostByDomain(domain) {
      const wanted = domain.toLowerCase();
      const hosts = await client.searchProxyHosts(wanted);
      return hosts.find((h) => h.domain_names.some((d) => d.toLowerCase() === wanted));
    },
    async getProxyHost(id) {
      const path = `/nginx/proxy-hosts/${id}?expand=certificate`;
      const res = await authed("GET", path);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw httpError("GET", path, res);
      return host(res.json, "GET", path);
    },
    async createProxyHost(fields) {
      return host(await expect("POST", "/nginx/proxy-hosts", 201, fields), "POST", "/nginx/proxy-hosts");
    },
    async updateProxyHost(id, fields) {
      const path = `/nginx/proxy-hosts/${id}`;
      return host(await expect("PUT", path, 200, fields), "PUT", path);
    },
    async deleteProxyHost(id) {
      const path = `/nginx/proxy-hosts/${id}`;
      const res = await authed("DELETE", path);
      if (res.status === 404) return false;
      if (res.status !== 200) throw httpError("DELETE", path, res);
      return true;
    },
    async searchCertificates(text) {
      const path = `/nginx/certificates?query=${encodeURIComponent(text)}`;
      return list(await expect("GET", path, 200), (item) => certificate(item, "GET", path), "GET", path);
    },
    async requestLetsEncryptCertificate(domains) {
      const body = { provider: "letsencrypt", domain_names: [...domains], meta: { dns_challenge: false } };
      const json = await expect("POST", "/nginx/certificates", 201, body, certificateTimeoutMs);
      return certificate(json, "POST", "/nginx/certificates");
    },
    async deleteCertificate(id) {
      const path = `/nginx/certificates/${id}`;
      const res = await authed("DELETE", path);
      if (res.status === 404) return false;
      if (res.status !== 200) throw httpError("DELETE", path, res);
      return true;
    },
    async getCurrentUser() {
      const obj = asRecord(await expect("GET", "/users/me", 200));
      if (!obj || !isId(obj["id"]) || typeof obj["email"] !== "string")
        throw fail(
          { kind: "protocol", method: "GET", path: "/users/me" },
          "answered with something that is not a user object",
        );
      return { id: obj["id"], email: obj["email"] };
    },
  };
  return client;
}

/**
 * NPM's error envelope: `{ error: { code, message, message_i18n? }, debug?: { stack, previous } }`.
 * The real cause of a failed certificate or nginx reload is only in `debug`: certbot's output lines
 * in `stack`, a failed spawn (`spawn /usr/sbin/nginx ENOENT`) in `previous`.
 */
function errorTextOf(json: unknown, redact: (text: string) => string): { message?: string; cause?: string } {
  const root = asRecord(json);
  const error = asRecord(root?.["error"]);
  const out: { message?: string; cause?: string } = {};
  if (typeof error?.["message"] === "string") out.message = redact(error["message"]).slice(0, CAUSE_LIMIT);
  const debug = asRecord(root?.["debug"]);
  if (!debug) return out;
  const stack = debug["stack"];
  const lines = (Array.isArray(stack) ? stack : typeof stack === "string" ? stack.split("\n") : [])
    .filter((l): l is string => typeof l === "string")
    .map((l) => l.replace(/^Error:\s*/, "").trim())
    .filter((l) => l !== "" && l !== "Error" && !/^at /.test(l) && !/^Saving debug log/.test(l));
  const previous = asRecord(debug["previous"]);
  if (previous && typeof previous["syscall"] === "string" && typeof previous["code"] === "string")
    lines.push(`${previous["syscall"]} ${previous["code"]}`);
  else if (previous && typeof previous["message"] === "string") lines.push(previous["message"]);
  const unique = [...new Set(lines)];
  if (unique.length > 0) {
    const cause = redact(unique.join(" | "));
    out.cause = cause.length > CAUSE_LIMIT ? `${cause.slice(0, CAUSE_LIMIT - 1)}…` : cause;
  }
  return out;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function toCertificate(json: unknown): Certificate | undefined {
  const o = asRecord(json);
  if (!o || !isId(o["id"]) || typeof o["provider"] !== "string" || !isStringList(o["domain_names"])) return undefined;
  if (typeof o["created_on"] !== "string" || typeof o["expires_on"] !== "string") return undefined;
  return {
    id: o["id"],
    provider: o["provider"],
    domain_names: o["domain_names"],
    created_on: o["created_on"],
    expires_on: o["expires_on"],
  };
}

function toProxyHost(json: unknown): ProxyHost | undefined {
  const o = asRecord(json);
  if (!o || !isId(o["id"]) || !isStringList(o["domain_names"])) return undefined;
  const { forward_scheme, forward_host, forward_port, certificate_id, ssl_forced } = o;
  if (typeof forward_scheme !== "string" || typeof forward_host !== "string" || typeof forward_port !== "number")
    return undefined;
  if (typeof ssl_forced !== "boolean" && ssl_forced !== 0 && ssl_forced !== 1) return undefined;
  const meta = asRecord(o["meta"]);
  const expanded = o["certificate"];
  return {
    id: o["id"],
    domain_names: o["domain_names"],
    forward_scheme,
    forward_host,
    forward_port,
    // An integer (0 = none), or the string "new" while NPM is still requesting one.
    certificate_id: typeof certificate_id === "number" ? certificate_id : 0,
    ssl_forced: ssl_forced === true || ssl_forced === 1,
    ...(expanded === null ? { certificate: null } : {}),
    ...(expanded !== undefined && expanded !== null ? { certificate: toCertificate(expanded) ?? null } : {}),
    ...(typeof meta?.["nginx_online"] === "boolean" ? { nginx_online: meta["nginx_online"] } : {}),
    ...(typeof meta?.["nginx_err"] === "string" ? { nginx_err: meta["nginx_err"] } : {}),
  };
}
