import { describe, expect, test } from "vitest";
import { createServer } from "node:net";
import { createNpmClient, isDomainTaken, isNpmStatus, NpmApiError } from "../../lib/npm/client";
import { IDENTITY, SECRET, useFakeNpm } from "./fakeNpmServer";

const fake = useFakeNpm();

const withCredentials = (timeoutMs = 2_000) =>
  createNpmClient({ apiUrl: `${fake.apiUrl}/`, credentials: { identity: IDENTITY, secret: SECRET }, timeoutMs });

async function rejection(promise: Promise<unknown>): Promise<NpmApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NpmApiError);
  return err as NpmApiError;
}

describe("authentication", () => {
  test("logs in once and reuses the token", async () => {
    const client = withCredentials();
    await client.listProxyHosts();
    await client.listCertificates();
    expect(fake.calls("POST", "/tokens")).toHaveLength(1);
    const auth = fake.exchanges.filter((e) => e.path !== "/tokens").map((e) => e.authorization);
    expect(new Set(auth).size).toBe(1);
    expect(auth[0]).toMatch(/^Bearer fake-jwt\./);
  });

  test("a given token is refreshed through GET /tokens when rejected, then the call is retried", async () => {
    const client = createNpmClient({ apiUrl: fake.apiUrl, token: fake.grantToken() });
    fake.rejectNextAuthenticated({ status: 401, invalidate: false });
    await expect(client.listProxyHosts()).resolves.toEqual([]);
    expect(fake.calls("GET", "/tokens")).toHaveLength(1);
    expect(fake.calls("POST", "/tokens")).toHaveLength(0);
  });

  test("a given token that expired fails clearly, without the token in the message", async () => {
    const token = fake.grantToken();
    const client = createNpmClient({ apiUrl: fake.apiUrl, token });
    fake.rejectNextAuthenticated({ status: 401 });
    const err = await rejection(client.listProxyHosts());
    expect(err.message).toBe(
      "NPM API GET /tokens could not refresh the token: failed with HTTP 401: Token has expired",
    );
    expect(err.message).not.toContain(token);
  });

  test("needs credentials or a token", () => {
    expect(() => createNpmClient({ apiUrl: fake.apiUrl })).toThrow(/credentials .* or a token/);
  });
});

describe("errors", () => {
  test("carry method, path, status and NPM's message", async () => {
    const err = await rejection(withCredentials().getProxyHost(42));
    expect(err).toMatchObject({
      kind: "http",
      method: "GET",
      path: "/nginx/proxy-hosts/42",
      status: 404,
      npmMessage: "Not Found - 42",
    });
    expect(err.message).toBe("NPM API GET /nginx/proxy-hosts/42 failed with HTTP 404: Not Found - 42");
    expect(isNpmStatus(err, 404)).toBe(true);
    expect(isDomainTaken(err)).toBe(false);
  });

  test("never contain the secret or the token, even when NPM echoes them", async () => {
    const client = withCredentials();
    await client.listProxyHosts();
    const token = fake.exchanges.map((e) => (e.responseBody as { token?: string }).token).find(Boolean)!;
    fake.failNext(500, `boom for ${IDENTITY} with ${SECRET} and ${token}`, {
      method: "GET",
      path: "/nginx/certificates",
    });
    const err = await rejection(client.listCertificates());
    expect(err.message).toBe(
      `NPM API GET /nginx/certificates failed with HTTP 500: boom for ${IDENTITY} with [redacted] and [redacted]`,
    );
    expect(err.npmMessage).not.toContain(SECRET);
  });

  test("a non-JSON error page is cut to 200 characters only after redaction: no part of a secret crossing the cut", async () => {
    const client = withCredentials();
    await client.listProxyHosts();
    const token = fake.exchanges.map((e) => (e.responseBody as { token?: string }).token).find(Boolean)!;
    // The secret starts 10 characters before the cut, the token right after it.
    const page = `${"x".repeat(190)}${SECRET}${token}</html>`;
    fake.failNextWithText(502, page, { method: "GET", path: "/nginx/certificates" });
    const err = await rejection(client.listCertificates());
    expect(err.npmMessage).toBe(`${"x".repeat(190)}[redacted]`);
    expect(err.message).toBe(`NPM API GET /nginx/certificates failed with HTTP 502: ${"x".repeat(190)}[redacted]`);
    expect(err.message).not.toContain(SECRET.slice(0, 6));
  });

  test("a slow answer times out with the call named", async () => {
    fake.delayNext(2_000, { method: "GET", path: "/nginx/certificates" });
    const started = Date.now();
    const err = await rejection(withCredentials(200).listCertificates());
    expect(err).toMatchObject({ kind: "timeout", method: "GET", path: "/nginx/certificates" });
    expect(err.message).toBe("NPM API GET /nginx/certificates timed out after 200 ms without a complete answer");
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  test("an unreachable NPM is a network error naming the URL", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const client = createNpmClient({
      apiUrl: `http://127.0.0.1:${port}/api`,
      credentials: { identity: IDENTITY, secret: SECRET },
      timeoutMs: 2_000,
    });
    const err = await rejection(client.listProxyHosts());
    expect(err.kind).toBe("network");
    expect(err.message).toContain(`NPM API POST /tokens could not reach http://127.0.0.1:${port}/api`);
    expect(err.message).not.toContain(SECRET);
  });
});

describe("look-ups", () => {
  test("finds a host by any of its domains, case-insensitively", async () => {
    const host = fake.addHost({
      domain_names: ["b.example", "www.b.example"],
      forward_host: "10.0.0.5",
      forward_port: 80,
    });
    const client = withCredentials();
    expect(await client.findProxyHostByDomain("WWW.b.example")).toMatchObject({ id: host.id });
    expect(await client.findProxyHostByDomain("c.example")).toBeUndefined();
  });

  test("reads a host whatever its `enabled` is: a field it does not use is not checked", async () => {
    const host = fake.addHost({
      domain_names: ["b.example"],
      forward_host: "10.0.0.5",
      forward_port: 80,
      enabled: 1 as unknown as boolean,
    });
    expect(await withCredentials().getProxyHost(host.id)).toMatchObject({ id: host.id, domain_names: ["b.example"] });
  });

  test("finds a Let's Encrypt certificate only if it covers every domain", async () => {
    const cert = fake.addCertificate(["b.example", "www.b.example"]);
    const client = withCredentials();
    expect(await client.findLetsEncryptCertificate(["www.b.example"])).toMatchObject({ id: cert.id });
    expect(await client.findLetsEncryptCertificate(["b.example", "c.example"])).toBeUndefined();
  });
});
