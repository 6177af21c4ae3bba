/**
 * Issue 11 §3, "a proxy host that really serves HTTPS": each behaviour of NPM's real backend
 * (`../shared/reality/nginx-proxy-manager.md`) the provider must handle, on the fake NPM that
 * reproduces it. The verdict is the fake's `servesHttps`: what a browser would get.
 *
 * Only the provider's public surface is used (`createProxyHostProvider` and its CRUD), so the same
 * file runs against any version of the provider.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createProxyHostProvider, type ProxyHostInputs, type ProxyHostOutputs } from "../../lib/npm/proxyHostProvider";
import { DOMAIN, hostInputs, IDENTITY, SECRET, useFakeNpm } from "./fakeNpmServer";
import { contractProblems, loadNpmContract } from "./npmContract";

const contract = loadNpmContract();
const fake = useFakeNpm();
const provider = createProxyHostProvider({
  timeoutMs: 5_000,
  certbotRetryMs: 20,
  certbotAttempts: 100,
  credentials: { identity: IDENTITY, secret: SECRET },
});
afterEach(() => {
  expect(contractProblems(contract, fake.exchanges)).toEqual([]);
});

function inputs(overrides: Partial<ProxyHostInputs> = {}): ProxyHostInputs {
  return hostInputs(fake, overrides);
}

async function create(overrides: Partial<ProxyHostInputs> = {}): Promise<{ id: string; outs: ProxyHostOutputs }> {
  const result = await provider.create(inputs(overrides));
  return { id: result.id, outs: result.outs! };
}

/** The rejection's message; it must not contain the password or a token. */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a failure").toBeDefined();
  const message = (err as { message?: unknown }).message;
  expect(typeof message).toBe("string");
  expect(message).not.toContain(SECRET);
  for (const token of fake.issuedTokens) expect(message).not.toContain(token);
  return message as string;
}

describe("a certificate counts only when NPM returns it, not expired, not being issued", () => {
  test("adopting a host whose certificate was deleted (dangling id): a new one is obtained", async () => {
    const cert = fake.addCertificate([DOMAIN]);
    fake.addHost({ domain_names: [DOMAIN], forward_host: "10.20.0.31", forward_port: 80, certificate_id: cert.id });
    fake.deleteCertificate(cert.id);

    const { outs } = await create();

    expect(fake.servesHttps(DOMAIN)).toBe(true);
    expect(outs.certificateId).not.toBe(cert.id);
  });

  test("an expired certificate for the domain is not reused", async () => {
    const expired = fake.addCertificate([DOMAIN], "expired");

    const { outs } = await create();

    expect(outs.certificateId).not.toBe(expired.id);
    expect(fake.servesHttps(DOMAIN)).toBe(true);
  });

  test("a certificate still being issued (row listed while certbot runs) is waited for, not used early", async () => {
    const elsewhere = fake.issueElsewhere([DOMAIN], 300);

    const { outs } = await create();

    expect(outs.certificateId).toBe((await elsewhere).id);
    expect(fake.servesHttps(DOMAIN)).toBe(true);
    expect(fake.calls("PUT", "/nginx/proxy-hosts/").every((e) => (e.responseBody as any).meta?.nginx_online)).toBe(
      true,
    );
  });
});

describe("read reports an unusable certificate, so the next pulumi up repairs it", () => {
  test("certificate deleted in the UI: certificateId 0, diff asks for an update, the update restores HTTPS", async () => {
    const { id, outs } = await create();
    fake.deleteCertificate(outs.certificateId);
    expect(fake.servesHttps(DOMAIN)).toBe(false);

    const read = await provider.read!(id, outs);
    expect(read.props?.certificateId).toBe(0);
    const diff = await provider.diff!(id, read.props!, inputs());
    expect(diff.changes).toBe(true);
    await provider.update!(id, read.props!, inputs());

    expect(fake.servesHttps(DOMAIN)).toBe(true);
  });
});

describe("nginx's verdict", () => {
  test("a PUT answered 200 with nginx_online false fails with nginx's own error", async () => {
    const { id, outs } = await create();
    fake.loseCertificateFiles(outs.certificateId);

    const message = await failureOf(provider.update!(id, outs, inputs({ forwardPort: 8080 })));

    expect(message).toContain("cannot load certificate");
    expect(message).toContain(`(${DOMAIN})`);
  });

  test("POST /nginx/proxy-hosts answered 500 after creating the row: the row is adopted, no duplicate", async () => {
    fake.breakNginxReload(1);

    await create();

    expect(fake.hosts.size).toBe(1);
    expect(fake.servesHttps(DOMAIN)).toBe(true);
  });

  test("a PUT answered 500 that NPM nevertheless applied is read back and accepted", async () => {
    const { id, outs } = await create();
    fake.breakNginxReload(1);

    const result = await provider.update!(id, outs, inputs({ forwardHost: "10.20.0.77" }));

    expect(result.outs?.forwardHost).toBe("10.20.0.77");
    expect([...fake.hosts.values()][0]?.forward_host).toBe("10.20.0.77");
  });
});

describe("certbot, one at a time", () => {
  test("certificate requests of one run never overlap (three sites at once)", async () => {
    fake.certbotMs = 150;
    const domains = ["a.acme-customer.example", "b.acme-customer.example", "c.acme-customer.example"];

    await Promise.all(domains.map((domain) => create({ domain })));

    expect(fake.maxConcurrentCertbot).toBe(1);
    for (const domain of domains) expect(fake.servesHttps(domain), domain).toBe(true);
  });

  test('"Another instance of Certbot is already running" (NPM renewing) is waited out and retried', async () => {
    const renewal = fake.runCertbotElsewhere(200);

    await create();
    await renewal;

    expect(fake.servesHttps(DOMAIN)).toBe(true);
    expect(fake.calls("POST", "/nginx/certificates").map((e) => e.status)).toContain(500);
  });
});

describe("errors carry NPM's cause", () => {
  test("a failed certificate says why (certbot's output from the error's debug), redacted and capped", async () => {
    fake.certbotOutcomes({
      fail:
        `requests.exceptions.ConnectionError: HTTPSConnectionPool(host='acme-v02.api.letsencrypt.org', port=443): ` +
        `Max retries exceeded (Network is unreachable) ${SECRET} ${"x".repeat(2000)}`,
    });

    const message = await failureOf(provider.create(inputs()));

    expect(message).toContain("POST /nginx/certificates");
    expect(message).toContain("Network is unreachable");
    expect(message).toContain("[redacted]");
    expect(message.length).toBeLessThan(1_000);
  });
});

describe("look-ups", () => {
  test("hosts and certificates are looked up with ?query=, never by listing all of them", async () => {
    for (let i = 0; i < 5; i++)
      fake.addHost({ domain_names: [`other${i}.example`], forward_host: "10.0.0.9", forward_port: 80 });

    const { id, outs } = await create();
    await provider.update!(id, outs, inputs({ forwardPort: 8080 }));

    const lists = fake.exchanges.filter(
      (e) => e.method === "GET" && /^\/nginx\/(proxy-hosts|certificates)(\?|$)/.test(e.path),
    );
    expect(lists.length).toBeGreaterThan(0);
    for (const e of lists) expect(e.path).toMatch(/[?&]query=/);
  });
});

describe("a certificate goes with the last host that used it", () => {
  test("deleting the host deletes its certificate", async () => {
    const { id, outs } = await create();

    await provider.delete!(id, outs);

    expect(fake.hosts.size).toBe(0);
    expect(fake.liveCertificates).toEqual([]);
  });

  test("on a host serving several names, the certificate stays until the last name goes", async () => {
    fake.addHost({ domain_names: [DOMAIN, `www.${DOMAIN}`], forward_host: "10.20.0.99", forward_port: 80 });
    const apex = await create();
    const www = await create({ domain: `www.${DOMAIN}` });

    await provider.delete!(apex.id, apex.outs);
    expect(fake.liveCertificates).toHaveLength(1);

    await provider.delete!(www.id, www.outs);
    expect(fake.liveCertificates).toEqual([]);
  });
});
