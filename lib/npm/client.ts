/**
 * A small typed client for the parts of Nginx Proxy Manager's REST API this project uses: tokens,
 * proxy hosts, Let's Encrypt certificates and the API user (`/users/me`). The shapes follow NPM's
 * OpenAPI schema (`/work/shared/contracts/nginx-proxy-manager`, NPM commit a62c2a6).
 *
 * Self-contained on purpose (global `fetch`, `AbortController`, no imports): the dynamic provider
 * that uses it is serialized by Pulumi, so nothing here may capture state that does not serialize.
 *
 * Errors are `NpmApiError`s naming the method, path, HTTP status and NPM's own message. The secret
 * and the bearer token never appear in them: every message is scrubbed of both before it is thrown.
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
  /** Base URL of the API including `/api`, e.g. `http://192.168.2.10:81/api`. */
  readonly apiUrl: string;
  /** Credentials to obtain (and on expiry re-obtain) a token with. */
  readonly credentials?: NpmCredentials;
  /** A token to use as is; refreshed through `GET /tokens` when NPM rejects it. */
  readonly token?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * Timeout for `POST /nginx/certificates` (default 5 min): NPM answers only once Let's Encrypt
   * has issued the certificate, which takes far longer than an ordinary call.
   */
  readonly certificateTimeoutMs?: number;
}

/** The proxy host fields this project reads (a subset of `proxy-host-object.json`). */
export interface ProxyHost {
  readonly id: number;
  readonly domain_names: readonly string[];
  readonly forward_scheme: string;
  readonly forward_host: string;
  readonly forward_port: number;
  /** `0` when the host has no certificate. */
  readonly certificate_id: number;
  readonly ssl_forced: boolean;
}

/** Writable proxy host fields this project sets (a subset of the create/update request schemas). */
export interface ProxyHostWrite {
  domain_names?: string[];
  forward_scheme?: "http" | "https";
  forward_host?: string;
  forward_port?: number;
  certificate_id?: number;
  ssl_forced?: boolean;
}

/** The certificate fields this project reads (a subset of `certificate-object.json`). */
export interface Certificate {
  readonly id: number;
  readonly provider: string;
  readonly domain_names: readonly string[];
}

/** The API user's fields this project reads (a subset of `user-object.json`). */
export interface NpmUser {
  readonly id: number;
  readonly email: string;
}

/** What went wrong: an HTTP error answer, no answer in time, no connection, or an unreadable answer. */
export type NpmErrorKind = "http" | "timeout" | "network" | "protocol";

/** Any failure talking to NPM. The message never contains the secret or the token. */
export class NpmApiError extends Error {
  constructor(
    message: string,
    /** Category of the failure. */
    readonly kind: NpmErrorKind,
    /** HTTP method of the failed call. */
    readonly method: string,
    /** API path of the failed call (relative to `apiUrl`). */
    readonly path: string,
    /** HTTP status, when NPM answered. */
    readonly status?: number,
    /** NPM's own error message (`error.message`), when it sent one. */
    readonly npmMessage?: string,
  ) {
    super(message);
    this.name = "NpmApiError";
  }
}

/** True when `err` is an NPM answer with the given HTTP status. */
export function isNpmStatus(err: unknown, status: number): boolean {
  return err instanceof Error && err.name === "NpmApiError" && (err as NpmApiError).status === status;
}

/** True when NPM refused a domain because another host (of any kind) already uses it. */
export function isDomainTaken(err: unknown): boolean {
  return isNpmStatus(err, 400) && /already in use/i.test((err as NpmApiError).npmMessage ?? "");
}

/** The operations this project needs. Every call authenticates lazily and retries once on token expiry. */
export interface NpmClient {
  /** `GET /nginx/proxy-hosts`. */
  listProxyHosts(): Promise<ProxyHost[]>;
  /** The proxy host serving `domain` (case-insensitive), if any; NPM allows at most one. */
  findProxyHostByDomain(domain: string): Promise<ProxyHost | undefined>;
  /** `GET /nginx/proxy-hosts/{id}`; a missing host is an `NpmApiError` with status 404. */
  getProxyHost(id: number): Promise<ProxyHost>;
  /** `POST /nginx/proxy-hosts`. */
  createProxyHost(
    fields: ProxyHostWrite &
      Required<Pick<ProxyHostWrite, "domain_names" | "forward_scheme" | "forward_host" | "forward_port">>,
  ): Promise<ProxyHost>;
  /** `PUT /nginx/proxy-hosts/{id}` with only the given fields. */
  updateProxyHost(id: number, fields: ProxyHostWrite): Promise<ProxyHost>;
  /** `DELETE /nginx/proxy-hosts/{id}`. */
  deleteProxyHost(id: number): Promise<void>;
  /** `GET /nginx/certificates`. */
  listCertificates(): Promise<Certificate[]>;
  /** A Let's Encrypt certificate covering every one of `domains`, if NPM has one. */
  findLetsEncryptCertificate(domains: readonly string[]): Promise<Certificate | undefined>;
  /** `POST /nginx/certificates` with provider `letsencrypt` (HTTP challenge); resolves once issued. */
  requestLetsEncryptCertificate(domains: readonly string[]): Promise<Certificate>;
  /** `GET /users/me`: the API user. NPM registers Let's Encrypt certificates with this user's email. */
  getCurrentUser(): Promise<NpmUser>;
}

/** Creates a client. No request is made until the first call. */
export function createNpmClient(options: NpmClientOptions): NpmClient {
  const baseUrl = options.apiUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const certificateTimeoutMs = options.certificateTimeoutMs ?? 300_000;
  const credentials = options.credentials;
  let token: string | undefined = options.token;
  if (!credentials && !token) throw new Error("NPM client needs credentials (identity and secret) or a token");

  /** Replaces the secret and any token with `[redacted]`. */
  const redact = (text: string): string => {
    let out = text;
    for (const hidden of [credentials?.secret, options.token, token]) {
      if (hidden) out = out.split(hidden).join("[redacted]");
    }
    return out;
  };

  const fail = (
    kind: NpmErrorKind,
    method: string,
    path: string,
    detail: string,
    status?: number,
    npmMessage?: string,
  ): NpmApiError =>
    new NpmApiError(
      redact(`NPM API ${method} ${path} ${detail}`),
      kind,
      method,
      path,
      status,
      npmMessage === undefined ? undefined : redact(npmMessage),
    );

  interface Call {
    method: "GET" | "POST" | "PUT" | "DELETE";
    path: string;
    body?: unknown;
    bearer?: string;
    timeout?: number;
  }

  /** One HTTP exchange; resolves with any HTTP status, rejects on timeout, network failure or non-JSON success. */
  async function exchange(call: Call): Promise<{ status: number; json: unknown; npmMessage?: string }> {
    const limit = call.timeout ?? timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), limit);
    const headers: Record<string, string> = { accept: "application/json" };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    if (call.bearer) headers["authorization"] = `Bearer ${call.bearer}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(baseUrl + call.path, {
        method: call.method,
        headers,
        signal: controller.signal,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (controller.signal.aborted)
        throw fail("timeout", call.method, call.path, `timed out after ${limit} ms without a complete answer`);
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw fail("network", call.method, call.path, `could not reach ${baseUrl}: ${cause}`);
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        if (status >= 200 && status < 300)
          throw fail(
            "protocol",
            call.method,
            call.path,
            `answered HTTP ${status} with a body that is not JSON`,
            status,
          );
        // Redacted before it is cut, so that no part of a secret straddling the cut survives.
        return { status, json: undefined, npmMessage: redact(text).slice(0, 200) };
      }
    }
    const npmMessage = errorMessageOf(json);
    return npmMessage === undefined ? { status, json } : { status, json, npmMessage };
  }

  /** Logs in with the credentials (`POST /tokens`). */
  async function login(): Promise<string> {
    if (!credentials) throw new Error("NPM client has no credentials to log in with");
    const res = await exchange({
      method: "POST",
      path: "/tokens",
      body: { identity: credentials.identity, secret: credentials.secret },
    });
    if (res.status !== 200) throw httpError("POST", "/tokens", res, "could not obtain a token");
    const obj = asRecord(res.json);
    if (obj?.["requires_2fa"] === true) {
      throw fail(
        "protocol",
        "POST",
        "/tokens",
        "requires two-factor authentication for this user; use an NPM user without 2FA for automation",
        res.status,
      );
    }
    if (typeof obj?.["token"] !== "string" || obj["token"] === "")
      throw fail("protocol", "POST", "/tokens", "answered without a token", res.status);
    return obj["token"];
  }

  /** Refreshes the current token (`GET /tokens`). */
  async function refresh(current: string): Promise<string> {
    const res = await exchange({ method: "GET", path: "/tokens", bearer: current });
    if (res.status !== 200) throw httpError("GET", "/tokens", res, "could not refresh the token");
    const obj = asRecord(res.json);
    if (typeof obj?.["token"] !== "string" || obj["token"] === "")
      throw fail("protocol", "GET", "/tokens", "answered without a token", res.status);
    return obj["token"];
  }

  function httpError(
    method: string,
    path: string,
    res: { status: number; npmMessage?: string },
    what?: string,
  ): NpmApiError {
    const detail = `${what ? `${what}: ` : ""}failed with HTTP ${res.status}${res.npmMessage ? `: ${res.npmMessage}` : ""}`;
    return fail("http", method, path, detail, res.status, res.npmMessage);
  }

  /**
   * An authenticated call. When NPM rejects the token (401, or NPM's own 400 "Token has expired"),
   * obtains a new one once (log in again, or refresh a given token) and retries once.
   */
  async function authed(call: Call, expected: number): Promise<unknown> {
    if (!token) token = await login();
    let res = await exchange({ ...call, bearer: token });
    if (isTokenRejected(res)) {
      token = credentials ? await login() : await refresh(token);
      res = await exchange({ ...call, bearer: token });
    }
    if (res.status !== expected) throw httpError(call.method, call.path, res);
    return res.json;
  }

  const parseHost = (json: unknown, method: string, path: string): ProxyHost => {
    const host = toProxyHost(json);
    if (!host) throw fail("protocol", method, path, "answered with something that is not a proxy host object");
    return host;
  };
  const parseCertificate = (json: unknown, method: string, path: string): Certificate => {
    const cert = toCertificate(json);
    if (!cert) throw fail("protocol", method, path, "answered with something that is not a certificate object");
    return cert;
  };

  const client: NpmClient = {
    async listProxyHosts() {
      const json = await authed({ method: "GET", path: "/nginx/proxy-hosts" }, 200);
      if (!Array.isArray(json))
        throw fail("protocol", "GET", "/nginx/proxy-hosts", "answered with something that is not a list");
      return json.map((item) => parseHost(item, "GET", "/nginx/proxy-hosts"));
    },
    async findProxyHostByDomain(domain) {
      const wanted = domain.toLowerCase();
      const hosts = await client.listProxyHosts();
      return hosts.find((h) => h.domain_names.some((d) => d.toLowerCase() === wanted));
    },
    async getProxyHost(id) {
      const path = `/nginx/proxy-hosts/${id}`;
      return parseHost(await authed({ method: "GET", path }, 200), "GET", path);
    },
    async createProxyHost(fields) {
      return parseHost(
        await authed({ method: "POST", path: "/nginx/proxy-hosts", body: fields }, 201),
        "POST",
        "/nginx/proxy-hosts",
      );
    },
    async updateProxyHost(id, fields) {
      const path = `/nginx/proxy-hosts/${id}`;
      return parseHost(await authed({ method: "PUT", path, body: fields }, 200), "PUT", path);
    },
    async deleteProxyHost(id) {
      await authed({ method: "DELETE", path: `/nginx/proxy-hosts/${id}` }, 200);
    },
    async listCertificates() {
      const json = await authed({ method: "GET", path: "/nginx/certificates" }, 200);
      if (!Array.isArray(json))
        throw fail("protocol", "GET", "/nginx/certificates", "answered with something that is not a list");
      return json.map((item) => parseCertificate(item, "GET", "/nginx/certificates"));
    },
    async findLetsEncryptCertificate(domains) {
      const wanted = domains.map((d) => d.toLowerCase());
      const certs = await client.listCertificates();
      return certs.find(
        (c) => c.provider === "letsencrypt" && wanted.every((w) => c.domain_names.some((d) => d.toLowerCase() === w)),
      );
    },
    async requestLetsEncryptCertificate(domains) {
      const body = { provider: "letsencrypt", domain_names: [...domains], meta: { dns_challenge: false } };
      const json = await authed(
        { method: "POST", path: "/nginx/certificates", body, timeout: certificateTimeoutMs },
        201,
      );
      return parseCertificate(json, "POST", "/nginx/certificates");
    },
    async getCurrentUser() {
      const obj = asRecord(await authed({ method: "GET", path: "/users/me" }, 200));
      if (!obj || !isId(obj["id"]) || typeof obj["email"] !== "string")
        throw fail("protocol", "GET", "/users/me", "answered with something that is not a user object");
      return { id: obj["id"], email: obj["email"] };
    },
  };
  return client;
}

/** NPM signals a rejected token with 401, or (its `AuthError`) 400/403 with a message about the token. */
function isTokenRejected(res: { status: number; npmMessage?: string }): boolean {
  if (res.status === 401) return true;
  return (res.status === 400 || res.status === 403) && /token/i.test(res.npmMessage ?? "");
}

/** NPM's error envelope is `{ "error": { "code": 400, "message": "..." } }` (`error.json`). */
function errorMessageOf(json: unknown): string | undefined {
  const error = asRecord(asRecord(json)?.["error"]);
  return typeof error?.["message"] === "string" ? error["message"] : undefined;
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

function toProxyHost(json: unknown): ProxyHost | undefined {
  const o = asRecord(json);
  if (!o || !isId(o["id"]) || !isStringList(o["domain_names"])) return undefined;
  const { forward_scheme, forward_host, forward_port, certificate_id, ssl_forced } = o;
  if (typeof forward_scheme !== "string" || typeof forward_host !== "string" || typeof forward_port !== "number")
    return undefined;
  if (typeof ssl_forced !== "boolean") return undefined;
  // certificate_id is an integer (0 = none), or the string "new" while NPM is still requesting one.
  const certificateId = typeof certificate_id === "number" ? certificate_id : 0;
  return {
    id: o["id"],
    domain_names: o["domain_names"],
    forward_scheme,
    forward_host,
    forward_port,
    certificate_id: certificateId,
    ssl_forced,
  };
}

function toCertificate(json: unknown): Certificate | undefined {
  const o = asRecord(json);
  if (!o || !isId(o["id"]) || typeof o["provider"] !== "string" || !isStringList(o["domain_names"])) return undefined;
  return { id: o["id"], provider: o["provider"], domain_names: o["domain_names"] };
}
