import { describe, expect, test, vi } from "vitest";
import { createServer } from "node:net";
import {
  CAUSE_LIMIT,
  createNpmClient,
  isCertbotBusy,
  isDomainTaken,
  npmFailureOf,
  type NpmFailure,
} from "../../lib/npm/client";
import { IDENTITY, SECRET, useFakeNpm } from "./fakeNpmServer";

const fake = useFakeNpm();

const withCredentials = (timeoutMs = 10_000) =>
  createNpmClient({ apiUrl: `${fake.apiUrl}/`, credentials: { identity: IDENTITY, secret: SECRET }, timeoutMs });

/** The rejection: a plain Error carrying an `NpmFailure`. */
async function rejection(promise: Promise<unknown>): Promise<{ message: string; failure: NpmFailure }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const failure = npmFailureOf(err);
  expect(failure).toBeDefined();
  return { message: (err as Error).message, failure: failure! };
}

describe("authentication", () => {
  test("logs in once and reuses the token", async () => {
    const client = withCredentials();
    await client.searchProxyHosts("a.example");
    await client.searchCertificates("a.example");
    expect(fake.calls("POST", "/tokens")).toHaveLength(1);
    const auth = fake.exchanges.filter((e) => e.path !== "/tokens").map((e) => e.authorization);
    expect(new Set(auth).size).toBe(1);
    expect(auth[0]).toMatch(/^Bearer fake-jwt\./);
  });

  test("wrong credentials: NPM's message, not the secret", async () => {
    const client = createNpmClient({ apiUrl: fake.apiUrl, credentials: { identity: IDENTITY, secret: "nope-nope" } });
    const { message, failure } = await rejection(client.getCurrentUser());
    expect(message).toBe(
      "NPM API POST /tokens could not obtain a token: failed with HTTP 400: Invalid email or password",
    );
    expect(failure).toMatchObject({ kind: "http", status: 400 });
  });

  test("a write is not retried on NPM's bare 500, only on a rejected token", async () => {
    const client = withCredentials();
    await client.getCurrentUser();
    fake.spoilTokensBeforeNext("forget");
    const { failure } = await rejection(client.deleteProxyHost(1));
    expect(failure).toMatchObject({ method: "DELETE", status: 500, message: "Internal Error" });
    expect(fake.calls("POST", "/tokens")).toHaveLength(1);
  });
});

describe("errors", () => {
  test("carry method, path, status and NPM's message; a missing host is a value, not an error", async () => {
    const client = withCredentials();
    expect(await client.getProxyHost(42)).toBeUndefined();
    expect(await client.deleteProxyHost(42)).toBe(false);
    expect(await client.deleteCertificate(42)).toBe(false);
    fake.failNext(502, "Bad Gateway", { method: "GET", path: "/nginx/proxy-hosts/42" });
    const { message, failure } = await rejection(client.getProxyHost(42));
    expect(failure).toEqual({
      kind: "http",
      method: "GET",
      path: "/nginx/proxy-hosts/42?expand=certificate",
      status: 502,
      message: "Bad Gateway",
    });
    expect(message).toBe("NPM API GET /nginx/proxy-hosts/42?expand=certificate failed with HTTP 502: Bad Gateway");
    expect(isDomainTaken(new Error("x"))).toBe(false);
    expect(npmFailureOf(undefined)).toBeUndefined();
  });

  test("never contain the secret or the token, even when NPM echoes them", async () => {
    const client = withCredentials();
    await client.getCurrentUser();
    const token = fake.issuedTokens[0]!;
    fake.failNext(500, `boom for ${IDENTITY} with ${SECRET} and ${token}`, {
      method: "GET",
      path: "/nginx/certificates",
    });
    fake.failNext(500, `boom for ${IDENTITY} with ${SECRET} and ${token}`, {
      method: "GET",
      path: "/nginx/certificates",
    });
    const { message, failure } = await rejection(client.searchCertificates("a.example"));
    expect(message).toBe(
      `NPM API GET /nginx/certificates?query=a.example failed with HTTP 500: boom for ${IDENTITY} with [redacted] and [redacted]`,
    );
    expect(failure.message).not.toContain(SECRET);
  });

  test("a non-JSON error page is cut only after redaction: no part of a secret crossing the cut", async () => {
    const client = withCredentials();
    await client.getCurrentUser();
    const token = fake.issuedTokens[0]!;
    const page = `${"x".repeat(CAUSE_LIMIT - 10)}${SECRET}${token}</html>`;
    fake.failNextWithText(502, page, { method: "GET", path: "/nginx/certificates" });
    const { failure } = await rejection(client.searchCertificates("a.example"));
    expect(failure.message).toBe(`${"x".repeat(CAUSE_LIMIT - 10)}[redacted]`);
    expect(failure.message).not.toContain(SECRET.slice(0, 6));
  });

  test("the real cause comes from the error's debug: certbot's lines, a failed spawn", async () => {
    const client = withCredentials();
    fake.certbotOutcomes({ fail: "requests.exceptions.ConnectionError: Network is unreachable" });
    const certbot = await rejection(client.requestLetsEncryptCertificate(["a.example"]));
    expect(certbot.failure.cause).toBe(
      "An unexpected error occurred: | requests.exceptions.ConnectionError: Network is unreachable",
    );
    expect(certbot.message).toContain("failed with HTTP 500: Internal Error (cause: An unexpected error occurred:");

    fake.breakNginxReload(1);
    const nginx = await rejection(
      client.createProxyHost({
        domain_names: ["b.example"],
        forward_scheme: "http",
        forward_host: "10.0.0.1",
        forward_port: 80,
      }),
    );
    expect(nginx.failure.cause).toBe("spawn /usr/sbin/nginx ENOENT");
    expect(isCertbotBusy(nginx.failure)).toBe(false);
  });

  test("certbot's 'already running' is recognized", async () => {
    const client = withCredentials();
    const elsewhere = fake.runCertbotElsewhere(100);
    const busy = await rejection(client.requestLetsEncryptCertificate(["a.example"]));
    expect(isCertbotBusy(Object.assign(new Error(), { npm: busy.failure }))).toBe(true);
    await elsewhere;
  });

  test("a slow answer times out with the call named", async () => {
    // Fake timers: the client's timeout passes in fake time once the fake NPM holds the request.
    fake.delayNext(60_000, { method: "GET", path: "/nginx/certificates" });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const arrived = fake.arrivalOf("GET", "/nginx/certificates");
      const pending = rejection(withCredentials(5_000).searchCertificates("a.example"));
      await arrived;
      await vi.advanceTimersByTimeAsync(5_000);
      const { message, failure } = await pending;
      expect(failure).toMatchObject({ kind: "timeout", method: "GET", path: "/nginx/certificates?query=a.example" });
      expect(message).toBe(
        "NPM API GET /nginx/certificates?query=a.example timed out after 5000 ms without a complete answer",
      );
    } finally {
      vi.useRealTimers();
    }
  });

  test("an unreachable NPM is a network error naming the URL", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const client = createNpmClient({
      apiUrl: `http://127.0.0.1:${port}/api`,
      credentials: { identity: IDENTITY, secret: SECRET },
      timeoutMs: 2_000,
    });
    const { message, failure } = await rejection(client.searchProxyHosts("a.example"));
    expect(failure.kind).toBe("network");
    expect(message).toContain(`NPM API POST /tokens could not reach http://127.0.0.1:${port}/api`);
    expect(message).not.toContain(SECRET);
  });
});

describe("look-ups", () => {
  test("finds a host by any of its names, case-insensitively, through ?query=", async () => {
    const host = fake.addHost({
      domain_names: ["b.example", "www.b.example"],
      forward_host: "10.0.0.5",
      forward_port: 80,
    });
    fake.addHost({ domain_names: ["www.b.example.org"], forward_host: "10.0.0.6", forward_port: 80 });
    const client = withCredentials();
    expect(await client.findProxyHostByDomain("WWW.b.example")).toMatchObject({ id: host.id });
    expect(await client.findProxyHostByDomain("c.example")).toBeUndefined();
    expect(fake.calls("GET", "/nginx/proxy-hosts").map((e) => e.path)).toEqual([
      "/nginx/proxy-hosts?expand=certificate&query=www.b.example",
      "/nginx/proxy-hosts?expand=certificate&query=c.example",
    ]);
  });

  test("a host's certificate comes expanded: the row, null when its id dangles", async () => {
    const cert = fake.addCertificate(["b.example"]);
    const host = fake.addHost({
      domain_names: ["b.example"],
      forward_host: "10.0.0.5",
      forward_port: 80,
      certificate_id: cert.id,
    });
    const client = withCredentials();
    expect((await client.getProxyHost(host.id))?.certificate).toMatchObject({
      id: cert.id,
      domain_names: ["b.example"],
    });
    fake.deleteCertificate(cert.id);
    const dangling = await client.getProxyHost(host.id);
    expect(dangling).toMatchObject({ certificate_id: cert.id, certificate: null });
  });

  test("reads nginx's verdict of a host", async () => {
    const cert = fake.addCertificate(["b.example"], "being-issued");
    const host = fake.addHost({
      domain_names: ["b.example"],
      forward_host: "10.0.0.5",
      forward_port: 80,
      certificate_id: cert.id,
    });
    const read = await withCredentials().getProxyHost(host.id);
    expect(read?.nginx_online).toBe(false);
    expect(read?.nginx_err).toContain("cannot load certificate");
  });
});
