import { afterEach, describe, expect, test, vi } from "vitest";
import {
  createProxyHostProvider,
  npmCredentialsFromConfig,
  type ProxyHostInputs,
  type ProxyHostOutputs,
} from "../../lib/npm/proxyHostProvider";
import { UNKNOWN_VALUE as UNKNOWN } from "../../lib/pulumiWire";
import { DOMAIN, FakeNpmServer, hostInputs, IDENTITY, npmStackConfig, SECRET, useFakeNpm } from "./fakeNpmServer";
import { contractProblems, loadNpmContract } from "./npmContract";

const contract = loadNpmContract();
const fake = useFakeNpm();
/** The client's patience: only the timeout tests reach it, on fake timers (never a wall-clock race under load). */
const TIMEOUT_MS = 10_000;
const tunables = { timeoutMs: TIMEOUT_MS, certificateTimeoutMs: TIMEOUT_MS, certbotRetryMs: 50 };
const provider = createProxyHostProvider({ ...tunables, credentials: { identity: IDENTITY, secret: SECRET } });

/**
 * Runs `call` on fake timers: once the fake NPM holds the request `method` `path`, lets `ms` of
 * (fake) time pass, then real time resumes. The fake's own delays are fake timers too.
 */
async function afterFakeTime<T>(call: () => Promise<T>, method: string, path: string, ms: number): Promise<T> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const arrived = fake.arrivalOf(method, path);
    const result = call();
    await arrived;
    await vi.advanceTimersByTimeAsync(ms);
    return await result;
  } finally {
    vi.useRealTimers();
  }
}
afterEach(() => {
  // Whatever the scenario, both directions stayed within NPM's schema.
  expect(contractProblems(contract, fake.exchanges)).toEqual([]);
});

function inputs(overrides: Partial<ProxyHostInputs> = {}): ProxyHostInputs {
  return hostInputs(fake, overrides);
}

/** Every token the fake handed out. */
function issuedTokens(): string[] {
  return fake.exchanges.flatMap((e) => {
    const token = (e.responseBody as { token?: unknown } | undefined)?.token;
    return typeof token === "string" ? [token] : [];
  });
}

/** Outputs (the state) contain neither the NPM user's password nor a token. */
function expectNoLeak(outs: unknown): void {
  const all = JSON.stringify(outs);
  expect(all).not.toContain(SECRET);
  expect(issuedTokens().length).toBeGreaterThan(0);
  for (const token of issuedTokens()) expect(all).not.toContain(token);
  expect(all).not.toMatch(/token/i);
}

/** The rejection's message, checked to name no secret and no token. */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const message = (err as Error).message;
  expect(message).not.toContain(SECRET);
  for (const token of issuedTokens()) expect(message).not.toContain(token);
  return message;
}

async function create(overrides: Partial<ProxyHostInputs> = {}): Promise<{ id: string; outs: ProxyHostOutputs }> {
  const result = await provider.create(inputs(overrides));
  if (!result.outs) throw new Error("create returned no outputs");
  return { id: result.id, outs: result.outs };
}

describe("create", () => {
  test("creates a certificate, then the host forwarding over http with SSL forced", async () => {
    const { id, outs } = await create();

    expect(id).toBe(DOMAIN);
    expect(fake.hosts.size).toBe(1);
    const host = [...fake.hosts.values()][0]!;
    expect(host).toMatchObject({
      domain_names: [DOMAIN],
      forward_scheme: "http",
      forward_host: "10.20.0.31",
      forward_port: 80,
      ssl_forced: true,
    });
    const certRequest = fake.calls("POST", "/nginx/certificates")[0]?.requestBody;
    expect(certRequest).toEqual({ provider: "letsencrypt", domain_names: [DOMAIN], meta: { dns_challenge: false } });
    expect(host.certificate_id).toBe(fake.liveCertificates[0]!.id);
    expect(outs).toMatchObject({
      hostId: host.id,
      certificateId: host.certificate_id,
      domain: DOMAIN,
      forwardHost: "10.20.0.31",
      forwardPort: 80,
      sslForced: true,
    });
    expectNoLeak(outs);
  });

  test("adopts the host already serving the domain and updates its forward: no duplicate", async () => {
    const existing = fake.addHost({ domain_names: [DOMAIN], forward_host: "10.20.0.99", forward_port: 8080 });

    const { outs } = await create();

    expect(fake.hosts.size).toBe(1);
    expect(fake.calls("POST", "/nginx/proxy-hosts")).toHaveLength(0);
    expect(outs.hostId).toBe(existing.id);
    expect(fake.hosts.get(existing.id)).toMatchObject({
      forward_host: "10.20.0.31",
      forward_port: 80,
      ssl_forced: true,
      certificate_id: outs.certificateId,
    });
    expect(outs.certificateId).toBeGreaterThan(0);
  });

  test("adopting a host that has a certificate keeps it and requests none", async () => {
    const cert = fake.addCertificate([DOMAIN]);
    fake.addHost({ domain_names: [DOMAIN], forward_host: "10.20.0.99", forward_port: 80, certificate_id: cert.id });

    const { outs } = await create();

    expect(outs.certificateId).toBe(cert.id);
    expect(fake.calls("POST", "/nginx/certificates")).toHaveLength(0);
    expect(fake.hosts.size).toBe(1);
  });

  test("reuses an existing Let's Encrypt certificate for the domain instead of requesting another", async () => {
    const cert = fake.addCertificate([DOMAIN]);

    const { outs } = await create();

    expect(outs.certificateId).toBe(cert.id);
    expect(fake.calls("POST", "/nginx/certificates")).toHaveLength(0);
    expect(fake.liveCertificates.length).toBe(1);
  });

  test("a domain taken by a host it cannot see is a clear error", async () => {
    fake.takeDomainElsewhere(DOMAIN);

    const message = await failureOf(provider.create(inputs()));

    expect(message).toContain(`NPM refused proxy host for ${DOMAIN}`);
    expect(message).toContain("already in use");
    expect(fake.hosts.size).toBe(0);
    expect(fake.calls("POST", "/nginx/certificates")).toHaveLength(0);
  });

  test("wrong credentials fail naming the call and NPM's message, never the secret", async () => {
    const wrong = createProxyHostProvider({
      ...tunables,
      credentials: { identity: IDENTITY, secret: `${SECRET}-wrong` },
    });
    const message = await failureOf(wrong.create(inputs()));

    expect(message).toBe(
      "NPM API POST /tokens could not obtain a token: failed with HTTP 400: Invalid email or password",
    );
  });

  test("the NPM user is the stack's: configure reads it from the stack config; the state holds no credential", async () => {
    const configured = createProxyHostProvider(tunables);
    await expect(configured.create(inputs())).rejects.toThrow("the provider has no NPM user");
    const config = npmStackConfig();
    await configured.configure!({ config: { get: (key) => config[key], require: (key) => config[key]! } });
    const { outs } = await configured.create(inputs()).then((r) => ({ outs: r.outs }));
    expect(fake.servesHttps(DOMAIN)).toBe(true);
    expect(JSON.stringify(outs)).not.toContain(SECRET);
    expect(JSON.stringify(outs)).not.toContain(IDENTITY);
  });

  test("a certificate request that times out leaves a host and a certificate being issued; the next run adopts both", async () => {
    fake.certbotMs = 2 * TIMEOUT_MS; // certbot outlasts the client's patience
    const message = await afterFakeTime(
      () => failureOf(provider.create(inputs())),
      "POST",
      "/nginx/certificates",
      fake.certbotMs, // past the client's timeout, then certbot finishes
    );
    expect(message).toContain("POST /nginx/certificates timed out");
    expect(fake.hosts.size).toBe(1);

    const { outs } = await create();

    expect(fake.hosts.size).toBe(1);
    expect(fake.liveCertificates.length).toBe(1);
    expect(fake.calls("POST", "/nginx/proxy-hosts")).toHaveLength(1);
    expect(fake.calls("POST", "/nginx/certificates")).toHaveLength(1);
    expect(fake.hosts.get(outs.hostId)).toMatchObject({ certificate_id: outs.certificateId, ssl_forced: true });
    expect(fake.servesHttps(DOMAIN)).toBe(true);
  });
});

describe("token expiry", () => {
  test('an expired token (NPM\'s 400 "Token has expired") logs in again once and the call succeeds', async () => {
    fake.spoilTokensBeforeNext("expire");

    const { outs } = await create();

    expect(fake.calls("POST", "/tokens")).toHaveLength(2);
    expect(fake.exchanges.filter((e) => e.status === 400)).toHaveLength(1);
    expect(fake.hosts.size).toBe(1);
    expectNoLeak(outs);
  });

  test("a token NPM no longer knows (its bare 500 to a read) is replaced once", async () => {
    fake.spoilTokensBeforeNext("forget");

    await create();

    expect(fake.calls("POST", "/tokens")).toHaveLength(2);
    expect(fake.hosts.size).toBe(1);
  });

  test("a second rejection right after logging in again is an error, not a loop", async () => {
    fake.spoilTokensBeforeNext("expire", 2);

    const message = await failureOf(provider.create(inputs()));

    expect(message).toMatch(
      /^NPM API GET \/nginx\/proxy-hosts\?expand=certificate&query=shop\.acme-customer\.example failed with HTTP 400: Token has expired$/,
    );
    expect(fake.calls("POST", "/tokens")).toHaveLength(2);
  });
});

describe("read", () => {
  test("returns the live host", async () => {
    const { id, outs } = await create();
    fake.hosts.get(outs.hostId)!.forward_port = 8081;

    const result = await provider.read!(id, outs);

    expect(result.id).toBe(DOMAIN);
    expect(result.props).toMatchObject({
      hostId: outs.hostId,
      forwardPort: 8081,
      forwardHost: "10.20.0.31",
      certificateId: outs.certificateId,
    });
    expectNoLeak(result.props);
  });

  test("a host that is gone (404) returns no id, so Pulumi recreates it", async () => {
    const { id, outs } = await create();
    fake.removeHost(outs.hostId);

    const result = await provider.read!(id, outs);

    expect(result.id).toBeUndefined();
    expect(fake.calls("GET", `/nginx/proxy-hosts/${outs.hostId}`)[0]?.status).toBe(404);
  });

  test("a host repurposed for another domain is no longer ours: no id", async () => {
    const { id, outs } = await create();
    fake.hosts.get(outs.hostId)!.domain_names = ["other-customer.example"];

    expect((await provider.read!(id, outs)).id).toBeUndefined();
  });
});

describe("update", () => {
  test("changes forward host and port in place", async () => {
    const { id, outs } = await create();

    const result = await provider.update!(id, outs, inputs({ forwardHost: "10.20.0.32", forwardPort: 8080 }));

    expect(result.outs).toMatchObject({ hostId: outs.hostId, forwardHost: "10.20.0.32", forwardPort: 8080 });
    expect(fake.hosts.get(outs.hostId)).toMatchObject({
      forward_host: "10.20.0.32",
      forward_port: 8080,
      certificate_id: outs.certificateId,
    });
    expect(fake.hosts.size).toBe(1);
    expectNoLeak(result.outs);
  });

  test("recreates a host that vanished, reusing its certificate", async () => {
    const { id, outs } = await create();
    fake.removeHost(outs.hostId);

    const result = await provider.update!(id, outs, inputs({ forwardHost: "10.20.0.33" }));

    expect(fake.hosts.size).toBe(1);
    const host = [...fake.hosts.values()][0]!;
    expect(result.outs).toMatchObject({
      hostId: host.id,
      forwardHost: "10.20.0.33",
      certificateId: outs.certificateId,
    });
    expect(host.id).not.toBe(outs.hostId);
    expect(fake.liveCertificates.length).toBe(1);
  });

  test("does not rewrite a host repurposed for another domain; creates ours anew", async () => {
    const { id, outs } = await create();
    fake.hosts.get(outs.hostId)!.domain_names = ["other-customer.example"];

    const result = await provider.update!(id, outs, inputs({ forwardPort: 8080 }));

    expect(fake.hosts.size).toBe(2);
    expect(fake.hosts.get(outs.hostId)).toMatchObject({ domain_names: ["other-customer.example"], forward_port: 80 });
    expect(fake.hosts.get(result.outs!.hostId)).toMatchObject({ domain_names: [DOMAIN], forward_port: 8080 });
  });
});

describe("delete", () => {
  test("deletes the host", async () => {
    const { id, outs } = await create();

    await provider.delete!(id, outs);

    expect(fake.hosts.size).toBe(0);
  });

  test("a host already gone (404) is fine", async () => {
    const { id, outs } = await create();
    fake.removeHost(outs.hostId);

    await expect(provider.delete!(id, outs)).resolves.toBeUndefined();
    expect(fake.calls("GET", `/nginx/proxy-hosts/${outs.hostId}`).at(-1)?.status).toBe(404);
  });

  test("a 404 from DELETE itself (deleted meanwhile) is fine", async () => {
    const { id, outs } = await create();
    fake.failNext(404, `Not Found - ${outs.hostId}`, { method: "DELETE", path: `/nginx/proxy-hosts/${outs.hostId}` });

    await expect(provider.delete!(id, outs)).resolves.toBeUndefined();
    expect(fake.calls("DELETE", "/nginx/proxy-hosts/")[0]?.status).toBe(404);
  });

  test("a host repurposed for another domain in the NPM UI is left alone", async () => {
    const { id, outs } = await create();
    fake.hosts.get(outs.hostId)!.domain_names = ["other-customer.example"];

    await provider.delete!(id, outs);

    expect(fake.hosts.size).toBe(1);
    expect(fake.calls("DELETE", "/nginx/proxy-hosts/")).toHaveLength(0);
  });

  test("on a host serving several names it removes only its own; the host goes with the last name", async () => {
    fake.addHost({ domain_names: [DOMAIN, `WWW.${DOMAIN}`], forward_host: "10.20.0.99", forward_port: 80 });
    const apex = await create();
    const www = await create({ domain: `www.${DOMAIN}` });
    expect(www.outs.hostId).toBe(apex.outs.hostId);

    await provider.delete!(apex.id, apex.outs);

    expect(fake.hosts.get(apex.outs.hostId)).toMatchObject({
      domain_names: [`WWW.${DOMAIN}`],
      certificate_id: www.outs.certificateId,
    });
    expect((await provider.read!(www.id, www.outs)).id).toBe(www.id);
    expect(fake.calls("DELETE", "/nginx/proxy-hosts/")).toHaveLength(0);

    await provider.delete!(www.id, www.outs);

    expect(fake.hosts.size).toBe(0);
  });
});

describe("replacement", () => {
  /** What the engine does with a diff that replaces: delete first if the diff says so, else create first. */
  async function replace(
    id: string,
    olds: ProxyHostOutputs,
    news: ProxyHostInputs,
  ): Promise<{ id: string; outs: ProxyHostOutputs }> {
    const checked = await provider.check!(olds, news);
    expect(checked.failures).toEqual([]);
    const diff = await provider.diff!(id, olds, checked.inputs!);
    expect(diff.replaces?.length).toBeGreaterThan(0);
    if (diff.deleteBeforeReplace) await provider.delete!(id, olds);
    const created = await provider.create(checked.inputs!);
    if (!diff.deleteBeforeReplace) await provider.delete!(id, olds);
    return { id: created.id, outs: created.outs! };
  }

  test("moving the domain to another name of the adopted host keeps that host, serving the new name", async () => {
    const existing = fake.addHost({
      domain_names: [DOMAIN, `www.${DOMAIN}`],
      forward_host: "10.20.0.99",
      forward_port: 80,
    });
    const { id, outs } = await create();

    const moved = await replace(id, outs, inputs({ domain: `www.${DOMAIN}` }));

    expect(fake.hosts.size).toBe(1);
    expect(moved.outs.hostId).toBe(existing.id);
    expect(fake.hosts.get(existing.id)).toMatchObject({
      domain_names: [`www.${DOMAIN}`],
      ssl_forced: true,
      certificate_id: moved.outs.certificateId,
    });
    expect((await provider.read!(moved.id, moved.outs)).id).toBe(`www.${DOMAIN}`);
  });

  test("even created before the old one is deleted, the new resource keeps the host they share", async () => {
    fake.addHost({ domain_names: [DOMAIN, `www.${DOMAIN}`], forward_host: "10.20.0.99", forward_port: 80 });
    const old = await create();

    const moved = await create({ domain: `www.${DOMAIN}` });
    await provider.delete!(old.id, old.outs);

    expect(fake.hosts.size).toBe(1);
    expect(fake.hosts.get(moved.outs.hostId)?.domain_names).toEqual([`www.${DOMAIN}`]);
  });

  test("a new apiUrl moves the host to that NPM and removes it from the old one", async () => {
    const { id, outs } = await create();
    const other = await FakeNpmServer.start({ identity: IDENTITY, secret: SECRET });
    try {
      const moved = await replace(id, outs, inputs({ apiUrl: other.apiUrl }));

      expect(fake.hosts.size).toBe(0);
      expect(other.hosts.size).toBe(1);
      expect(other.hosts.get(moved.outs.hostId)).toMatchObject({ domain_names: [DOMAIN], ssl_forced: true });
      expect(moved.outs.apiUrl).toBe(other.apiUrl);
    } finally {
      await other.close();
    }
  });
});

describe("timeouts", () => {
  test("a slow answer fails after the client timeout, naming the call", async () => {
    fake.delayNext(10 * TIMEOUT_MS, { method: "GET", path: "/nginx/proxy-hosts" });

    const message = await afterFakeTime(
      () => failureOf(provider.create(inputs())),
      "GET",
      "/nginx/proxy-hosts",
      TIMEOUT_MS,
    );

    expect(message).toBe(
      `NPM API GET /nginx/proxy-hosts?expand=certificate&query=${DOMAIN} timed out after ${TIMEOUT_MS} ms without a complete answer`,
    );
    expect(fake.hosts.size).toBe(0);
  });
});

describe("diff", () => {
  const olds = (): ProxyHostOutputs => ({ ...inputs(), hostId: 4, certificateId: 2 });

  test("no change", async () => {
    expect(await provider.diff!(DOMAIN, olds(), inputs())).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  test("a new domain replaces, deleting first", async () => {
    const result = await provider.diff!(DOMAIN, olds(), inputs({ domain: "www.acme-customer.example" }));
    expect(result).toEqual({ changes: true, replaces: ["domain"], deleteBeforeReplace: true });
  });

  test("a new apiUrl (another NPM) replaces, deleting first", async () => {
    const result = await provider.diff!(DOMAIN, olds(), inputs({ apiUrl: "http://192.168.2.11:81/api" }));
    expect(result).toEqual({ changes: true, replaces: ["apiUrl"], deleteBeforeReplace: true });
  });

  test.each([
    ["forwardHost", { forwardHost: "10.20.0.40" }],
    ["forwardPort", { forwardPort: 8080 }],
    ["sslForced", { sslForced: false }],
  ] as const)("%s is an update", async (_name, change) => {
    const result = await provider.diff!(DOMAIN, olds(), inputs(change));
    expect(result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  test("a host that lost its certificate (seen by refresh) is an update", async () => {
    const result = await provider.diff!(DOMAIN, { ...olds(), certificateId: 0 }, inputs());
    expect(result).toMatchObject({ changes: true, replaces: [] });
  });

  test("a domain not known yet (preview) may replace", async () => {
    const result = await provider.diff!(DOMAIN, olds(), inputs({ domain: UNKNOWN }));
    expect(result.replaces).toEqual(["domain"]);
  });
});

describe("check", () => {
  test("applies defaults and lower-cases the domain", async () => {
    const { forwardPort: _p, sslForced: _s, ...rest } = inputs({ domain: "Shop.ACME-customer.example." });
    const result = await provider.check!(inputs(), rest as ProxyHostInputs);
    expect(result.failures).toEqual([]);
    expect(result.inputs).toMatchObject({ domain: DOMAIN, forwardPort: 80, sslForced: true });
  });

  test("reports every bad input", async () => {
    const bad = {
      apiUrl: "192.168.2.10:81",
      domain: "not a domain",
      forwardHost: "",
      forwardPort: 70000,
      sslForced: "yes",
    };
    const result = await provider.check!(inputs(), bad as unknown as ProxyHostInputs);
    expect(result.failures?.map((f) => f.property).sort()).toEqual([
      "apiUrl",
      "domain",
      "forwardHost",
      "forwardPort",
      "sslForced",
    ]);
  });

  test("values not known yet (preview) are not failures", async () => {
    const result = await provider.check!(inputs(), inputs({ forwardHost: UNKNOWN, domain: UNKNOWN }));
    expect(result.failures).toEqual([]);
  });
});

describe("the NPM user from the stack config", () => {
  const from = (config: Record<string, string>) => npmCredentialsFromConfig({ get: (key) => config[key] });

  test("nodepoint:npm's identity and the secret nodepoint:npmPassword", () => {
    expect(from(npmStackConfig())).toEqual({ identity: IDENTITY, secret: SECRET });
  });

  test.each([
    [{ "nodepoint:npmPassword": SECRET }, "stack config nodepoint:npm has no identity"],
    [{ ...npmStackConfig(), "nodepoint:npm": "{not json" }, "stack config nodepoint:npm has no identity"],
    [{ ...npmStackConfig(), "nodepoint:npm": JSON.stringify({ identity: "nobody" }) }, "nodepoint:npm has no identity"],
    [{ "nodepoint:npm": JSON.stringify({ identity: IDENTITY }) }, "stack config nodepoint:npmPassword is not set"],
  ])("%j fails naming the key", (config, message) => {
    expect(() => from(config)).toThrow(message);
  });
});
