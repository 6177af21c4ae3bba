/**
 * Contract: everything the client sends and everything the fake NPM answers is valid against NPM's
 * own OpenAPI schema (resolved from the files on disk), so the behaviour tests run against answers
 * shaped like the real API's, and the client sends only requests the real API accepts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { createNpmClient } from "../../lib/npm/client";
import { FakeNpmServer, IDENTITY, SECRET, useFakeNpm } from "./fakeNpmServer";
import { CONTRACT_DIR, contractProblems, loadNpmContract, type NpmContract } from "./npmContract";

/** NPM's real backend, recorded: a copy of `../shared/reality/nginx-proxy-manager-exchanges.jsonl`. */
const RECORDED = join(__dirname, "recorded", "nginx-proxy-manager-exchanges.jsonl");
const SHARED_RECORDED = resolve(__dirname, "../../../shared/reality/nginx-proxy-manager-exchanges.jsonl");

const fake = useFakeNpm();
let contract: NpmContract;
beforeAll(() => {
  contract = loadNpmContract();
});

/** The documented examples of one operation, from its file. */
function examplesOf(method: string, path: string): { request?: unknown; responses: [number, unknown][] } {
  const op = contract.operationFor(method, path);
  if (!op) throw new Error(`${method} ${path} not documented`);
  const spec = op.spec as {
    requestBody?: { content: Record<string, { example?: unknown }> };
    responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }>;
  };
  const responses = Object.entries(spec.responses).flatMap(([status, r]) =>
    Object.values(r.content?.["application/json"]?.examples ?? {}).map((e): [number, unknown] => [
      Number(status),
      e.value,
    ]),
  );
  const request = spec.requestBody?.content["application/json"]?.example;
  return request === undefined ? { responses } : { request, responses };
}

describe("the schema as loaded", () => {
  const used: [string, string][] = [
    ["POST", "/tokens"],
    ["GET", "/tokens"],
    ["GET", "/users/me"],
    ["GET", "/nginx/proxy-hosts"],
    ["POST", "/nginx/proxy-hosts"],
    ["GET", "/nginx/proxy-hosts/1"],
    ["PUT", "/nginx/proxy-hosts/1"],
    ["DELETE", "/nginx/proxy-hosts/1"],
    ["GET", "/nginx/certificates"],
    ["POST", "/nginx/certificates"],
  ];

  test.each(used)("accepts its own examples for %s %s (the $refs resolve)", (method, path) => {
    const { request, responses } = examplesOf(method, path);
    if (request !== undefined) expect(contract.validateRequest(method, path, request)).toEqual([]);
    expect(responses.length).toBeGreaterThan(0);
    for (const [status, body] of responses) expect(contract.validateResponse(method, path, status, body)).toEqual([]);
  });

  test("rejects what NPM would reject", () => {
    // The certificate meta takes no Let's Encrypt email (older NPM versions did).
    expect(
      contract.validateRequest("POST", "/nginx/certificates", {
        provider: "letsencrypt",
        domain_names: ["a.example"],
        meta: { letsencrypt_email: "x@a.example" },
      }),
    ).not.toEqual([]);
    expect(
      contract.validateRequest("POST", "/nginx/certificates", { provider: "acme", domain_names: ["a.example"] }),
    ).not.toEqual([]);
    expect(contract.validateRequest("POST", "/tokens", { identity: IDENTITY })).not.toEqual([]);
    expect(
      contract.validateRequest("POST", "/nginx/proxy-hosts", {
        domain_names: ["a.example"],
        forward_scheme: "http",
        forward_host: "10.0.0.1",
      }),
    ).not.toEqual([]);
    expect(contract.validateRequest("PUT", "/nginx/proxy-hosts/1", {})).not.toEqual([]);
    expect(contract.validateRequest("PUT", "/nginx/proxy-hosts/1", { forward_port: 0 })).not.toEqual([]);
    expect(contract.validateRequest("PUT", "/nginx/proxy-hosts/1", { domain_names: ["a b.example"] })).not.toEqual([]);
    expect(
      contract.validateResponse("GET", "/nginx/proxy-hosts/1", 200, { id: 1, domain_names: ["a.example"] }),
    ).not.toEqual([]);
    expect(contract.validateResponse("GET", "/nginx/proxy-hosts/1", 404, { error: { code: 404 } })).not.toEqual([]);
    expect(contract.validateResponse("GET", "/nginx/proxy-hosts/1", 201, {})).not.toEqual([]);
    expect(contract.validateRequest("GET", "/nginx/upstreams", undefined)).not.toEqual([]);
  });
});

describe("what the real server sent (the recorded exchanges)", () => {
  const recorded = readFileSync(RECORDED, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { m: string; p: string; status: number; req: string; res: string });
  /** The exchanges whose bodies are complete JSON (the recorder kept 600 characters, and some gzip bytes). */
  const readable = recorded.flatMap((e) => {
    try {
      return [
        {
          method: e.m,
          path: e.p.replace(/^\/api/, ""),
          status: e.status,
          requestBody: e.req === "" ? undefined : (JSON.parse(e.req) as unknown),
          responseBody: e.res === "" ? undefined : (JSON.parse(e.res) as unknown),
        },
      ];
    } catch {
      return [];
    }
  });

  test.skipIf(!existsSync(SHARED_RECORDED))("the copy equals ../shared/reality's", () => {
    expect(readFileSync(RECORDED, "utf8")).toBe(readFileSync(SHARED_RECORDED, "utf8"));
  });

  test("283 exchanges recorded, most of them complete", () => {
    expect(recorded).toHaveLength(283);
    expect(readable.length).toBeGreaterThanOrEqual(190);
  });

  test("the contract check accepts every answer NPM's real backend gave", () => {
    const problems = readable.flatMap((e) =>
      contract
        .validateResponse(e.method, e.path, e.status, e.responseBody)
        .map((p) => `${e.status} ${e.method} ${e.path}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  test("and every request it accepted; the requests it refused the schema refuses too", () => {
    for (const e of readable) {
      const problems = contract.validateRequest(e.method, e.path, e.requestBody);
      if (e.status < 400) expect(problems, `${e.method} ${e.path}`).toEqual([]);
      if (e.status === 400 && /additional properties/.test(JSON.stringify(e.responseBody)))
        expect(problems, `${e.method} ${e.path}`).not.toEqual([]);
    }
  });

  test("each allowance is needed: without them the recorded answers fail the vendored schema", () => {
    const strict = loadNpmContract(CONTRACT_DIR, { allowances: [] });
    const failing = readable.filter(
      (e) => strict.validateResponse(e.method, e.path, e.status, e.responseBody).length > 0,
    );
    expect(failing.length).toBeGreaterThan(0);
    const text = JSON.stringify(failing.map((e) => e.responseBody));
    expect(text).toContain('"locations":null');
    expect(text).toContain("message_i18n");
  });
});

describe("client and fake against the schema", () => {
  test("every request the client sends and every answer the fake gives is schema-valid", async () => {
    const client = createNpmClient({
      apiUrl: fake.apiUrl,
      credentials: { identity: IDENTITY, secret: SECRET },
      timeoutMs: 2_000,
    });
    fake.addHost({ domain_names: ["taken.example"], forward_host: "10.0.0.9", forward_port: 80 });

    await client.getCurrentUser();
    const cert = await client.requestLetsEncryptCertificate(["a.example"]);
    expect(await client.searchCertificates("a.example")).toMatchObject([{ id: cert.id }]);
    const host = await client.createProxyHost({
      domain_names: ["a.example"],
      forward_scheme: "http",
      forward_host: "10.0.0.1",
      forward_port: 80,
      ssl_forced: false,
    });
    await client.updateProxyHost(host.id, {
      forward_scheme: "http",
      forward_host: "10.0.0.2",
      forward_port: 8080,
      certificate_id: cert.id,
      ssl_forced: true,
    });
    expect(await client.findProxyHostByDomain("A.EXAMPLE")).toMatchObject({
      id: host.id,
      forward_port: 8080,
      certificate_id: cert.id,
      nginx_online: true,
    });
    fake.spoilTokensBeforeNext("expire");
    expect(await client.getProxyHost(host.id)).toMatchObject({ ssl_forced: true });
    fake.spoilTokensBeforeNext("forget");
    await client.searchProxyHosts("a.example");
    await expect(
      client.createProxyHost({
        domain_names: ["taken.example"],
        forward_scheme: "http",
        forward_host: "10.0.0.3",
        forward_port: 80,
      }),
    ).rejects.toThrow(/already in use/);
    fake.certbotOutcomes({ fail: "Connection refused" });
    await expect(client.requestLetsEncryptCertificate(["b.example"])).rejects.toThrow(/Connection refused/);
    fake.breakNginxReload(1);
    await expect(
      client.createProxyHost({
        domain_names: ["c.example"],
        forward_scheme: "http",
        forward_host: "10.0.0.3",
        forward_port: 80,
      }),
    ).rejects.toThrow(/HTTP 500/);
    expect(await client.deleteProxyHost(host.id)).toBe(true);
    expect(await client.getProxyHost(host.id)).toBeUndefined();
    expect(await client.deleteCertificate(cert.id)).toBe(true);

    expect(contractProblems(contract, fake.exchanges)).toEqual([]);
    const operations = new Set(
      fake.exchanges.map((e) => `${e.method} ${contract.operationFor(e.method, e.path)?.template} ${e.status}`),
    );
    expect([...operations].sort()).toEqual(
      [
        "DELETE /nginx/certificates/{certID} 200",
        "DELETE /nginx/proxy-hosts/{hostID} 200",
        "GET /nginx/certificates 200",
        "GET /nginx/proxy-hosts 200",
        "GET /nginx/proxy-hosts 500",
        "GET /nginx/proxy-hosts/{hostID} 200",
        "GET /nginx/proxy-hosts/{hostID} 400",
        "GET /nginx/proxy-hosts/{hostID} 404",
        "GET /users/{userID} 200",
        "POST /nginx/certificates 201",
        "POST /nginx/certificates 500",
        "POST /nginx/proxy-hosts 201",
        "POST /nginx/proxy-hosts 400",
        "POST /nginx/proxy-hosts 500",
        "POST /tokens 200",
        "PUT /nginx/proxy-hosts/{hostID} 200",
      ].sort(),
    );
  });

  test("the fake's answers stay valid with hosts and certificates it was seeded with, in every state", async () => {
    const cert = fake.addCertificate(["b.example", "www.b.example"]);
    fake.addCertificate(["c.example"], "being-issued");
    fake.addCertificate(["d.example"], "expired");
    const host = fake.addHost({
      domain_names: ["b.example", "www.b.example"],
      forward_host: "10.0.0.5",
      forward_port: 80,
      certificate_id: cert.id,
      ssl_forced: true,
    });
    fake.deleteCertificate(cert.id);
    const client = createNpmClient({ apiUrl: fake.apiUrl, credentials: { identity: IDENTITY, secret: SECRET } });

    await client.searchProxyHosts("b.example");
    await client.getProxyHost(host.id);
    await client.searchCertificates("example");

    expect(contractProblems(contract, fake.exchanges)).toEqual([]);
  });

  test("a 2FA challenge answer is schema-valid and a clear error", async () => {
    const twoFactor = await FakeNpmServer.start({ identity: IDENTITY, secret: SECRET, twoFactor: true });
    try {
      const client = createNpmClient({ apiUrl: twoFactor.apiUrl, credentials: { identity: IDENTITY, secret: SECRET } });
      await expect(client.searchProxyHosts("a.example")).rejects.toThrow(
        "NPM API POST /tokens requires two-factor authentication",
      );
      expect(contractProblems(contract, twoFactor.exchanges)).toEqual([]);
    } finally {
      await twoFactor.close();
    }
  });
});
