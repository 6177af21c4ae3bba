/**
 * Pulumi dynamic provider for Nginx Proxy Manager proxy hosts: one host per customer domain,
 * forwarding over plain HTTP to the site's container, serving HTTPS with a Let's Encrypt
 * certificate. Built on what NPM's real backend was seen to do
 * (`../shared/reality/nginx-proxy-manager.md`):
 *
 * - a certificate counts only when NPM returns it (`expand=certificate`) and it is neither expired
 *   nor still being issued (NPM lists the row while certbot runs, and a host keeps the id of a
 *   deleted certificate). `read` reports a host without one, or whose configuration nginx refused,
 *   as having no certificate (`certificateId: 0`), so the next `pulumi up` repairs it.
 * - certificate requests of one `pulumi up` run one at a time (`certbotQueue.ts`); certbot's
 *   "already running" (NPM renewing, another tool) is waited out and retried; a certificate
 *   another request is issuing for the same names is waited for, not requested twice.
 * - `POST /nginx/proxy-hosts` answered 500 may have created the host (nginx could not be
 *   reloaded): it is looked up and adopted, never duplicated. A `PUT` answered 500 is read back.
 * - a `PUT` answered 200 with `meta.nginx_online: false` (nginx refused the configuration, NPM
 *   serves the host without SSL) fails with nginx's own words.
 * - errors carry NPM's real cause (certbot's output, a failed spawn) from the error's `debug`,
 *   redacted and capped; look-ups use `?query=`, never a listing of every host.
 * - a certificate goes with the last host that used it (NPM would otherwise renew it forever).
 *
 * Invariants kept from before: never a duplicate host (one serving the domain is adopted); never a
 * lost one (`read` answering "gone" makes Pulumi recreate it; `update` recreates a vanished host);
 * a host counts as ours only while it serves our domain; `delete` removes only our name from a host
 * serving others too. The bearer token lives only in memory during one operation.
 *
 * No class and no `instanceof` anywhere (see `client.ts`): the module works the same loaded by the
 * dynamic-provider host (`providerLoader.ts`) or imported by a test.
 */
import type * as pulumi from "@pulumi/pulumi";
import { certificateState, coversDomains, isAbandonedIssuance } from "./certificates";
import { oneCertbotAtATime } from "./certbotQueue";
import {
  CAUSE_LIMIT,
  createNpmClient,
  isCertbotBusy,
  isDomainTaken,
  npmFailureOf,
  type Certificate,
  type NpmClient,
  type NpmCredentials,
  type ProxyHost,
  type ProxyHostWrite,
} from "./client";
import { UNKNOWN_VALUE } from "../pulumiWire";

/**
 * Inputs after `check`: every default applied, the domain lower-cased. The NPM user the provider
 * acts as is not among them: it is the stack's (`configure`), stored once in its config instead of
 * with every host in the state, and a rotated password reaches every host at once.
 */
export interface ProxyHostInputs {
  /** NPM API base URL including `/api`. */
  apiUrl: string;
  /** The single domain the host serves. */
  domain: string;
  /** Address the host forwards to (the site container's IP). */
  forwardHost: string;
  /** Port the host forwards to. */
  forwardPort: number;
  /** Redirect HTTP to HTTPS. */
  sslForced: boolean;
  /** The provider's loader text (`providerLoader.ts`), added by the resource; absent in direct tests. */
  __provider?: string;
}

/** State: the inputs plus what NPM assigned. Never contains a token. */
export interface ProxyHostOutputs extends ProxyHostInputs {
  /** NPM's id of the proxy host. */
  hostId: number;
  /** NPM's id of the certificate the host serves HTTPS with; 0 when it has no usable one. */
  certificateId: number;
}

/** Tunables, plain numbers; and the NPM user for a provider used without `configure` (tests). */
export interface ProxyHostProviderOptions {
  /** The NPM user to act as (default: from the stack config, `configure`). */
  credentials?: NpmCredentials;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Timeout of a certificate request in ms (default 15 min, NPM's own). */
  certificateTimeoutMs?: number;
  /** Wait between certificate attempts while certbot is busy or issuing our names (default 15 s). */
  certbotRetryMs?: number;
  /** Certificate attempts before giving up (default 40: ten minutes of waiting at the default pace). */
  certbotAttempts?: number;
  /**
   * A row still "being issued" after this long (ms) belongs to a certbot run that will never
   * finish (NPM was stopped meanwhile) and is ignored (default 30 min, twice NPM's own limit).
   */
  abandonIssuanceAfterMs?: number;
}

/** `domain_names` items as the NPM schema allows them, additionally restricted to a hostname shape. */
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** The email pattern of NPM's `common.json`. */
const EMAIL_PATTERN = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/** Stack config keys of the NPM user (lib/config/schema.ts: `npm.identity`; the password a secret). */
export const NPM_CONFIG = { settings: "nodepoint:npm", password: "nodepoint:npmPassword" } as const;

/**
 * The NPM user from the stack's config, as the engine hands it to a dynamic provider (every key of
 * the stack, structured values as JSON text, secrets decrypted). Fails naming the key.
 */
export function npmCredentialsFromConfig(config: { get(key: string): string | undefined }): NpmCredentials {
  const settingsText = config.get(NPM_CONFIG.settings);
  let identity: unknown;
  try {
    identity = settingsText === undefined ? undefined : (JSON.parse(settingsText) as { identity?: unknown }).identity;
  } catch {
    identity = undefined;
  }
  if (typeof identity !== "string" || !EMAIL_PATTERN.test(identity))
    throw new Error(
      `NpmProxyHost: stack config ${NPM_CONFIG.settings} has no identity (the NPM automation user's email)`,
    );
  const secret = config.get(NPM_CONFIG.password);
  if (!secret)
    throw new Error(
      `NpmProxyHost: stack config ${NPM_CONFIG.password} is not set (the NPM automation user's password: pulumi config set --secret ${NPM_CONFIG.password} ...)`,
    );
  return { identity, secret };
}

interface Tunables {
  certificateTimeoutMs: number;
  certbotRetryMs: number;
  certbotAttempts: number;
  abandonIssuanceAfterMs: number;
}

/** Creates the provider. `proxyHostProvider` is the one with default tunables. */
export function createProxyHostProvider(
  options: ProxyHostProviderOptions = {},
): pulumi.dynamic.ResourceProvider<ProxyHostInputs, ProxyHostOutputs> {
  const tunables: Tunables = {
    certificateTimeoutMs: options.certificateTimeoutMs ?? 900_000,
    certbotRetryMs: options.certbotRetryMs ?? 15_000,
    certbotAttempts: options.certbotAttempts ?? 40,
    abandonIssuanceAfterMs: options.abandonIssuanceAfterMs ?? 1_800_000,
  };

  let credentials = options.credentials;
  const clientFor = (props: Pick<ProxyHostInputs, "apiUrl">): NpmClient => {
    if (!credentials) throw new Error("NpmProxyHost: the provider has no NPM user (it was not configured)");
    return createNpmClient({
      apiUrl: props.apiUrl,
      credentials,
      certificateTimeoutMs: tunables.certificateTimeoutMs,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  };

  return {
    // The engine configures the dynamic-provider plugin with the whole stack config.
    async configure(req) {
      credentials ??= npmCredentialsFromConfig(req.config);
    },

    async check(_olds, news) {
      return checkInputs(news as unknown as Record<string, unknown>);
    },

    // `news` come from `check`: defaults applied, domain and apiUrl normalized.
    async diff(_id, olds, news) {
      const unknown = (v: unknown): boolean => v === UNKNOWN_VALUE;
      // Another domain is another host; another apiUrl is another NPM (or an unknown one).
      const replaces = (["apiUrl", "domain"] as const).filter((key) => unknown(news[key]) || news[key] !== olds[key]);
      const changed =
        replaces.length > 0 ||
        news.forwardHost !== olds.forwardHost ||
        news.forwardPort !== olds.forwardPort ||
        news.sslForced !== olds.sslForced ||
        // No usable certificate (or nginx refused the host), as `read` found: repair it.
        !(olds.certificateId > 0) ||
        // State written by another provider text (Read and Delete would run that one): rewrite it.
        news.__provider !== olds.__provider;
      // Delete first: the new resource may adopt the very host the old one holds (one serving both
      // names), which a later delete of the old one must not take away.
      return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 };
    },

    async create(inputs) {
      const outs = await converge(clientFor(inputs), inputs, undefined, tunables);
      return { id: inputs.domain, outs };
    },

    async read(id, props) {
      if (!props) throw new Error(`NPM proxy host ${id}: cannot read without prior state (import is not supported)`);
      const host = await ownedHost(clientFor(props), props.hostId, props.domain);
      // Gone, or no longer serving our domain (repurposed in the UI, so no longer ours): no id, so
      // Pulumi drops it from state and the next `up` recreates ours.
      if (!host) return {};
      return { id, props: { ...props, ...observed(host) } };
    },

    async update(_id, olds, news) {
      return { outs: await converge(clientFor(news), news, olds.hostId, tunables) };
    },

    async delete(_id, props) {
      if (!props.hostId) return;
      const client = clientFor(props);
      // A host that is gone, or that someone repurposed for another domain, is left alone.
      const host = await ownedHost(client, props.hostId, props.domain);
      if (!host) return;
      // Only our name goes: a host serving other names too (another resource's, or added in the
      // NPM UI) keeps serving them, and is deleted only with its last name.
      const others = host.domain_names.filter((d) => d.toLowerCase() !== props.domain);
      if (others.length > 0) {
        await applyHostFields(client, host.id, props.domain, { domain_names: others });
        return;
      }
      await client.deleteProxyHost(host.id); // `false`: already gone, which is what we wanted
      if (host.certificate) await releaseCertificate(client, host.certificate);
    },
  };
}

/** The provider with default tunables, for `NpmProxyHost`. */
export const proxyHostProvider: pulumi.dynamic.ResourceProvider<ProxyHostInputs, ProxyHostOutputs> =
  createProxyHostProvider();

/** What a live host is, in the state's terms. `certificateId` 0 unless it really serves HTTPS. */
function observed(
  host: ProxyHost,
): Pick<ProxyHostOutputs, "hostId" | "certificateId" | "forwardHost" | "forwardPort" | "sslForced"> {
  return {
    hostId: host.id,
    certificateId: servesHttps(host) ? host.certificate_id : 0,
    forwardHost: host.forward_host,
    forwardPort: host.forward_port,
    sslForced: host.ssl_forced,
  };
}

/** The host has a certificate NPM returns, neither expired nor being issued, and nginx took its configuration. */
function servesHttps(host: ProxyHost): boolean {
  return host.nginx_online !== false && certificateState(host.certificate, Date.now()) === "usable";
}

/**
 * Brings NPM to the desired state and returns the resulting outputs.
 *
 * The host is the one with `knownHostId` if it still exists and serves the domain, else the one
 * already serving the domain (adopted), else a new one. Its certificate is kept if usable, else a
 * usable Let's Encrypt certificate for its names is reused, else one is requested.
 *
 * Order matters: everything that can refuse (NPM's "domain already in use") comes
 * before the certificate request, so a refusal never sends Let's Encrypt a request for a domain we
 * cannot serve. A new host is created without SSL first and gets its certificate and `ssl_forced`
 * in a second step; if the certificate fails, the next run adopts that host.
 */
async function converge(
  client: NpmClient,
  inputs: ProxyHostInputs,
  knownHostId: number | undefined,
  tunables: Tunables,
): Promise<ProxyHostOutputs> {
  const forward = {
    forward_scheme: "http" as const,
    forward_host: inputs.forwardHost,
    forward_port: inputs.forwardPort,
  };

  let host = knownHostId ? await ownedHost(client, knownHostId, inputs.domain) : undefined;
  host ??= await client.findProxyHostByDomain(inputs.domain);

  // The certificate covers every name of an adopted host, or just the domain of a new one.
  const certDomains = host ? host.domain_names.map((d) => d.toLowerCase()) : [inputs.domain];
  const previous = host?.certificate ?? undefined;
  let certificate =
    previous && certificateState(previous, Date.now()) === "usable" && coversDomains(previous, certDomains)
      ? previous
      : await usableCertificateFor(client, certDomains);
  // None yet: one is requested below (NPM registers it with its API user's email, the one we act as).

  for (let attempt = 1; ; attempt++) {
    host ??= await createHost(client, inputs.domain, forward);
    certificate ??= await obtainCertificate(client, certDomains, tunables);
    try {
      const updated = await applyHostFields(client, host.id, inputs.domain, {
        ...forward,
        certificate_id: certificate.id,
        ssl_forced: inputs.sslForced,
      });
      if (previous && previous.id !== certificate.id) await releaseCertificate(client, previous);
      return { ...inputs, ...observed({ ...updated, certificate }) };
    } catch (err) {
      // Deleted between our look-up and the update: create it once more, then give up.
      if (attempt >= 2 || npmFailureOf(err)?.status !== 404) throw err;
      host = undefined;
    }
  }
}

/** The host with `id` if it exists and still serves `domain`; undefined if it is gone or serves other names now. */
async function ownedHost(client: NpmClient, id: number, domain: string): Promise<ProxyHost | undefined> {
  const host = await client.getProxyHost(id);
  return host?.domain_names.some((d) => d.toLowerCase() === domain) ? host : undefined;
}

/**
 * Creates the host. NPM answers 500 when it cannot reload nginx, after it stored the host (and a
 * timeout or a dropped connection leaves the same doubt): the host is then looked up and adopted.
 */
async function createHost(
  client: NpmClient,
  domain: string,
  forward: Required<Pick<ProxyHostWrite, "forward_scheme" | "forward_host" | "forward_port">>,
): Promise<ProxyHost> {
  try {
    return await client.createProxyHost({ domain_names: [domain], ...forward, ssl_forced: false });
  } catch (err) {
    if (isDomainTaken(err))
      throw new Error(
        `NPM refused proxy host for ${domain}: the domain is already in use by another NPM host that is not a proxy host visible to this user ` +
          `(a redirection or 404 host, or another user's proxy host). Remove it in NPM or choose another domain. (${(err as Error).message})`,
        { cause: err },
      );
    const failure = npmFailureOf(err);
    const doubtful =
      failure && (failure.kind === "timeout" || failure.kind === "network" || (failure.status ?? 0) >= 500);
    if (!doubtful) throw err;
    const created = await client.findProxyHostByDomain(domain).catch(() => undefined);
    if (created) return created;
    throw err;
  }
}

/**
 * Writes host fields and checks that nginx took them. A 500 (nginx could not be reloaded; NPM had
 * already saved the change) is checked by reading the host back.
 */
async function applyHostFields(
  client: NpmClient,
  id: number,
  domain: string,
  fields: ProxyHostWrite,
): Promise<ProxyHost> {
  let host: ProxyHost;
  try {
    host = await client.updateProxyHost(id, fields);
  } catch (err) {
    if ((npmFailureOf(err)?.status ?? 0) < 500) throw err;
    const stored = await client.getProxyHost(id);
    if (!stored || !hasFields(stored, fields) || stored.nginx_online === false) throw err;
    host = stored;
  }
  if (host.nginx_online === false) {
    const said = (host.nginx_err ?? "no reason given").trim();
    throw new Error(
      `NPM proxy host ${id} (${domain}): nginx refused its configuration, so NPM serves it without HTTPS: ` +
        (said.length > CAUSE_LIMIT ? `${said.slice(0, CAUSE_LIMIT - 1)}…` : said),
    );
  }
  return host;
}

function hasFields(host: ProxyHost, fields: ProxyHostWrite): boolean {
  const same = (a: readonly string[], b: readonly string[]): boolean =>
    a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]?.toLowerCase());
  return (
    (fields.domain_names === undefined || same(host.domain_names, fields.domain_names)) &&
    (fields.forward_host === undefined || host.forward_host === fields.forward_host) &&
    (fields.forward_port === undefined || host.forward_port === fields.forward_port) &&
    (fields.certificate_id === undefined || host.certificate_id === fields.certificate_id) &&
    (fields.ssl_forced === undefined || host.ssl_forced === fields.ssl_forced)
  );
}

/** Let's Encrypt certificates NPM has for all of `domains` (found with `?query=`). */
async function certificatesFor(client: NpmClient, domains: readonly string[]): Promise<Certificate[]> {
  const found = await client.searchCertificates(domains[0]!);
  return found.filter((c) => c.provider === "letsencrypt" && coversDomains(c, domains));
}

async function usableCertificateFor(client: NpmClient, domains: readonly string[]): Promise<Certificate | undefined> {
  const now = Date.now();
  return (await certificatesFor(client, domains)).find((c) => certificateState(c, now) === "usable");
}

/**
 * A usable certificate for `domains`, requested if need be, one request at a time. Before each
 * attempt NPM is asked again: another resource of this run, or someone in the UI, may have
 * obtained one meanwhile, or be issuing one right now (then it is waited for).
 */
function obtainCertificate(client: NpmClient, domains: readonly string[], tunables: Tunables): Promise<Certificate> {
  return oneCertbotAtATime(async () => {
    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      const known = await certificatesFor(client, domains);
      const usable = known.find((c) => certificateState(c, now) === "usable");
      if (usable) return usable;
      const issuing = known.find(
        (c) =>
          certificateState(c, now) === "being-issued" && !isAbandonedIssuance(c, now, tunables.abandonIssuanceAfterMs),
      );
      let busy: unknown;
      if (!issuing) {
        try {
          const issued = await client.requestLetsEncryptCertificate(domains);
          if (certificateState(issued, Date.now()) === "usable") return issued;
          busy = new Error(`NPM answered certificate ${issued.id} for ${domains.join(", ")} without a validity period`);
        } catch (err) {
          if (!isCertbotBusy(err)) throw err;
          busy = err;
        }
      }
      if (attempt >= tunables.certbotAttempts)
        throw issuing
          ? new Error(
              `NPM is still issuing certificate ${issuing.id} for ${domains.join(", ")} after ${attempt} checks; run pulumi up again once it is done`,
            )
          : busy;
      await new Promise((resolve) => setTimeout(resolve, tunables.certbotRetryMs));
    }
  });
}

/**
 * Deletes a certificate once no proxy host serving its names uses it any more (NPM keeps renewing
 * certificates nobody uses). A row still being issued belongs to a certbot run and is left alone.
 */
async function releaseCertificate(client: NpmClient, certificate: Certificate): Promise<void> {
  if (certificateState(certificate, Date.now()) === "being-issued") return;
  for (const name of certificate.domain_names) {
    const hosts = await client.searchProxyHosts(name);
    if (hosts.some((h) => h.certificate_id === certificate.id)) return;
  }
  await client.deleteCertificate(certificate.id); // `false`: already gone
}

function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

/** Validates raw inputs and applies defaults. */
export function checkInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult<ProxyHostInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const known = (v: unknown): boolean => v !== UNKNOWN_VALUE;
  const inputs: Record<string, unknown> = { ...news };

  const apiUrl = news["apiUrl"];
  if (known(apiUrl)) {
    if (typeof apiUrl !== "string" || !/^https?:\/\/[^/\s]+(\/\S*)?$/.test(apiUrl)) {
      failures.push({
        property: "apiUrl",
        reason: "must be an http(s) URL including /api, e.g. http://192.168.2.10:81/api",
      });
    } else inputs["apiUrl"] = apiUrl.replace(/\/+$/, "");
  }

  const domain = news["domain"];
  if (known(domain)) {
    const d = typeof domain === "string" ? normalizeDomain(domain) : "";
    if (!DOMAIN_PATTERN.test(d))
      failures.push({
        property: "domain",
        reason: `must be a fully qualified domain name, got ${JSON.stringify(domain)}`,
      });
    else inputs["domain"] = d;
  }

  const forwardHost = news["forwardHost"];
  if (
    known(forwardHost) &&
    (typeof forwardHost !== "string" || forwardHost.length < 1 || forwardHost.length > 255 || /[\s/]/.test(forwardHost))
  ) {
    failures.push({
      property: "forwardHost",
      reason: "must be a host name or IP address (1 to 255 characters, no spaces or slashes)",
    });
  }

  const forwardPort = news["forwardPort"] ?? 80;
  if (
    known(forwardPort) &&
    (typeof forwardPort !== "number" || !Number.isInteger(forwardPort) || forwardPort < 1 || forwardPort > 65535)
  ) {
    failures.push({ property: "forwardPort", reason: "must be an integer from 1 to 65535" });
  }
  inputs["forwardPort"] = forwardPort;

  const sslForced = news["sslForced"] ?? true;
  if (known(sslForced) && typeof sslForced !== "boolean")
    failures.push({ property: "sslForced", reason: "must be true or false" });
  inputs["sslForced"] = sslForced;

  return { inputs: inputs as unknown as ProxyHostInputs, failures };
}
