/**
 * Pulumi dynamic provider for Nginx Proxy Manager proxy hosts: one host per customer domain,
 * forwarding over plain HTTP to the site's container, with a Let's Encrypt certificate.
 *
 * Invariants:
 * - never a duplicate: `create` (and an `update` whose host vanished) first looks for a host already
 *   serving the domain and adopts it; NPM refuses a second host for a domain anyway.
 * - never lost: `read` answering "no id" when the host is gone makes Pulumi recreate it; `update`
 *   recreates a vanished host in place. A host counts as ours only while it serves our domain: one
 *   repurposed in the NPM UI for other names is neither rewritten nor deleted. `delete` removes
 *   only our name from a host that serves other names too, and the host only with its last name.
 *   A new domain or apiUrl replaces, deleting first. The Pulumi id is the domain, so it stays
 *   stable when the NPM host id changes; the NPM id is the `hostId` output.
 * - the bearer token lives only in memory for the length of one operation, never in state. The
 *   credentials are in state (`delete` and `read` need them) and are marked secret by the resource.
 *
 * The provider object is serialized by Pulumi: it captures only `lib/npm/client.ts` (no imports of
 * its own) and plain numbers.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  createNpmClient,
  isDomainTaken,
  isNpmStatus,
  type NpmClient,
  type NpmCredentials,
  type ProxyHost,
} from "./client";

/** Inputs after `check`: every default applied, the domain lower-cased. */
export interface ProxyHostInputs {
  /** NPM API base URL including `/api`. */
  apiUrl: string;
  /** NPM user to act as. Secret. */
  credentials: NpmCredentials;
  /** The single domain the host serves. */
  domain: string;
  /** Address the host forwards to (the site container's IP). */
  forwardHost: string;
  /** Port the host forwards to. */
  forwardPort: number;
  /** Let's Encrypt account email; must be the NPM API user's email (NPM registers with that). */
  email: string;
  /** Redirect HTTP to HTTPS. */
  sslForced: boolean;
}

/** State: the inputs plus what NPM assigned. Never contains a token. */
export interface ProxyHostOutputs extends ProxyHostInputs {
  /** NPM's id of the proxy host. */
  hostId: number;
  /** NPM's id of the host's certificate. */
  certificateId: number;
}

/** Tunables of the provider; plain numbers so the provider stays serializable. */
export interface ProxyHostProviderOptions {
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Timeout of a certificate request in ms (default 5 min). */
  certificateTimeoutMs?: number;
}

/** The value Pulumi passes for an input that is not known yet (preview); `runtime.unknownValue` of @pulumi/pulumi, copied to keep the provider free of imports. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** `domain_names` items as the NPM schema allows them, additionally restricted to a hostname shape. */
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** The email pattern of NPM's `common.json`. */
const EMAIL_PATTERN = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/** Creates the provider. `proxyHostProvider` is the one with default timeouts. */
export function createProxyHostProvider(
  options: ProxyHostProviderOptions = {},
): pulumi.dynamic.ResourceProvider<ProxyHostInputs, ProxyHostOutputs> {
  const timeoutMs = options.timeoutMs;
  const certificateTimeoutMs = options.certificateTimeoutMs;

  const clientFor = (props: Pick<ProxyHostInputs, "apiUrl" | "credentials">): NpmClient => {
    if (!props.credentials) throw new Error("NPM proxy host: no credentials in state; cannot talk to NPM");
    return createNpmClient({
      apiUrl: props.apiUrl,
      credentials: { identity: props.credentials.identity, secret: props.credentials.secret },
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(certificateTimeoutMs !== undefined ? { certificateTimeoutMs } : {}),
    });
  };

  return {
    async check(_olds, news) {
      return checkInputs(news as unknown as Record<string, unknown>);
    },

    // `news` come from `check`: defaults applied, domain and apiUrl normalized.
    async diff(_id, olds, news) {
      const unknown = (v: unknown): boolean => v === UNKNOWN;
      // Another domain is another host; another apiUrl is another NPM (or an unknown one).
      const replaces = (["apiUrl", "domain"] as const).filter((key) => unknown(news[key]) || news[key] !== olds[key]);
      const sameCredentials =
        !unknown(news.credentials) &&
        news.credentials?.identity === olds.credentials?.identity &&
        news.credentials?.secret === olds.credentials?.secret;
      const changed =
        replaces.length > 0 ||
        !sameCredentials ||
        news.forwardHost !== olds.forwardHost ||
        news.forwardPort !== olds.forwardPort ||
        news.sslForced !== olds.sslForced ||
        news.email !== olds.email ||
        !(olds.certificateId > 0);
      // Delete first: the new resource may adopt the very host the old one holds (one serving both
      // names), which a later delete of the old one must not take away.
      return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 };
    },

    async create(inputs) {
      const outs = await converge(clientFor(inputs), inputs, undefined);
      return { id: inputs.domain, outs };
    },

    async read(id, props) {
      if (!props) throw new Error(`NPM proxy host ${id}: cannot read without prior state (import is not supported)`);
      const host = await liveHost(clientFor(props), props.hostId, props.domain);
      // Gone (404), or no longer serving our domain (repurposed in the UI, so no longer ours): no
      // id, so Pulumi drops it from state and the next `up` recreates ours.
      if (!host) return {};
      return {
        id,
        props: {
          ...props,
          hostId: host.id,
          certificateId: host.certificate_id,
          forwardHost: host.forward_host,
          forwardPort: host.forward_port,
          sslForced: host.ssl_forced,
        },
      };
    },

    async update(_id, olds, news) {
      return { outs: await converge(clientFor(news), news, olds.hostId) };
    },

    async delete(_id, props) {
      if (!props.hostId) return;
      const client = clientFor(props);
      // A host that is gone, or that someone repurposed for another domain, is left alone.
      const host = await liveHost(client, props.hostId, props.domain);
      if (!host) return;
      // Only our name goes: a host serving other names too (another resource's, or added in the
      // NPM UI) keeps serving them, and is deleted only with its last name.
      const others = host.domain_names.filter((d) => d.toLowerCase() !== props.domain);
      try {
        if (others.length > 0) await client.updateProxyHost(host.id, { domain_names: others });
        else await client.deleteProxyHost(host.id);
      } catch (err) {
        if (!isNpmStatus(err, 404)) throw err; // already gone is what we wanted
      }
    },
  };
}

/** The provider with default timeouts, for `NpmProxyHost`. */
export const proxyHostProvider: pulumi.dynamic.ResourceProvider<ProxyHostInputs, ProxyHostOutputs> =
  createProxyHostProvider();

/**
 * Brings NPM to the desired state and returns the resulting outputs.
 *
 * The host is the one with `knownHostId` if it still exists and serves the domain, else the one
 * already serving the domain (adopted), else a new one. Its certificate is kept if it has one, else an existing Let's
 * Encrypt certificate for its domains is reused, else one is requested.
 *
 * Order matters: everything that can refuse (the email check, NPM's "domain already in use") comes
 * before the certificate request, so a refusal leaves nothing behind and never sends Let's Encrypt
 * a request for a domain we cannot serve. A new host is created without SSL first and gets its
 * certificate and `ssl_forced` in a second step; if the certificate fails, the next run adopts that
 * host instead of creating another.
 */
async function converge(
  client: NpmClient,
  inputs: ProxyHostInputs,
  knownHostId: number | undefined,
): Promise<ProxyHostOutputs> {
  const forward = {
    forward_scheme: "http" as const,
    forward_host: inputs.forwardHost,
    forward_port: inputs.forwardPort,
  };

  let host = knownHostId ? await liveHost(client, knownHostId, inputs.domain) : undefined;
  host ??= await client.findProxyHostByDomain(inputs.domain);

  // The certificate covers every name of an adopted host, or just the domain of a new one.
  const certDomains = host ? host.domain_names.map((d) => d.toLowerCase()) : [inputs.domain];
  let certificateId =
    host && host.certificate_id > 0 ? host.certificate_id : (await client.findLetsEncryptCertificate(certDomains))?.id;
  // None yet: one will be requested below, after anything that can refuse.
  if (certificateId === undefined) await assertLetsEncryptEmail(client, inputs.email);

  for (let attempt = 1; ; attempt++) {
    if (!host) {
      try {
        host = await client.createProxyHost({ domain_names: [inputs.domain], ...forward, ssl_forced: false });
      } catch (err) {
        throw domainTakenOr(err, inputs.domain);
      }
    }
    certificateId ??= (await client.requestLetsEncryptCertificate(certDomains)).id;
    try {
      const updated = await client.updateProxyHost(host.id, {
        ...forward,
        certificate_id: certificateId,
        ssl_forced: inputs.sslForced,
      });
      return outputsOf(inputs, updated);
    } catch (err) {
      // Deleted between our look-up and the update: create it once more, then give up.
      if (attempt >= 2 || !isNpmStatus(err, 404)) throw domainTakenOr(err, inputs.domain);
      host = undefined;
    }
  }
}

/** The host with `id` if it exists and still serves `domain`; undefined if it is gone (404) or serves other names now. */
async function liveHost(client: NpmClient, id: number, domain: string): Promise<ProxyHost | undefined> {
  try {
    const host = await client.getProxyHost(id);
    return host.domain_names.some((d) => d.toLowerCase() === domain) ? host : undefined;
  } catch (err) {
    if (isNpmStatus(err, 404)) return undefined;
    throw err;
  }
}

function outputsOf(inputs: ProxyHostInputs, host: ProxyHost): ProxyHostOutputs {
  return {
    ...inputs,
    hostId: host.id,
    certificateId: host.certificate_id,
    forwardHost: host.forward_host,
    forwardPort: host.forward_port,
    sslForced: host.ssl_forced,
  };
}

/** A clear error for NPM's "<domain> is already in use"; any other error unchanged. */
function domainTakenOr(err: unknown, domain: string): unknown {
  if (!isDomainTaken(err)) return err;
  return new Error(
    `NPM refused proxy host for ${domain}: the domain is already in use by another NPM host that is not a proxy host visible to this user ` +
      `(a redirection or 404 host, or another user's proxy host). Remove it in NPM or choose another domain. (${(err as Error).message})`,
  );
}

/**
 * NPM registers new Let's Encrypt certificates with the API user's email and accepts no email in
 * the request (the certificate `meta` schema has no such field), so the declared `email` can only
 * be checked against that user's.
 */
async function assertLetsEncryptEmail(client: NpmClient, email: string): Promise<void> {
  const user = await client.getCurrentUser();
  if (user.email.toLowerCase() !== email.toLowerCase()) {
    throw new Error(
      `NPM requests Let's Encrypt certificates with its API user's email (${user.email}), not the declared email ${email}. ` +
        `Set the NPM user's email to ${email} or declare ${user.email}.`,
    );
  }
}

function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

/** Validates raw inputs and applies defaults. Reasons never echo the credentials. */
export function checkInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult<ProxyHostInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const known = (v: unknown): boolean => v !== UNKNOWN;
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

  const credentials = news["credentials"];
  if (known(credentials)) {
    const c =
      typeof credentials === "object" && credentials !== null ? (credentials as Record<string, unknown>) : undefined;
    if (!c || (known(c["identity"]) && (typeof c["identity"] !== "string" || c["identity"] === ""))) {
      failures.push({ property: "credentials", reason: "must have a non-empty identity (the NPM user's email)" });
    }
    if (!c || (known(c["secret"]) && (typeof c["secret"] !== "string" || c["secret"] === ""))) {
      failures.push({ property: "credentials", reason: "must have a non-empty secret (the NPM user's password)" });
    }
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

  const email = news["email"];
  if (known(email) && (typeof email !== "string" || !EMAIL_PATTERN.test(email))) {
    failures.push({ property: "email", reason: "must be an email address (the Let's Encrypt account email)" });
  }

  const sslForced = news["sslForced"] ?? true;
  if (known(sslForced) && typeof sslForced !== "boolean")
    failures.push({ property: "sslForced", reason: "must be true or false" });
  inputs["sslForced"] = sslForced;

  return { inputs: inputs as unknown as ProxyHostInputs, failures };
}
