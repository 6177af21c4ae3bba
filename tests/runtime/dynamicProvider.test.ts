/**
 * The NpmProxyHost provider the way `pulumi up`, `refresh` and `destroy` run it: the resource's
 * `__provider` text, loaded by the SDK's dynamic-provider host (`cmd/dynamic-provider`, the
 * `pulumi-resource-pulumi-nodejs` plugin) and driven over gRPC (Check, Diff, Create, Read, Update,
 * Delete), against the fake NPM. Every error path must arrive with its real message: a provider
 * whose error handling broke once serialized answered `undefined`.
 */
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROVIDER_LOADER } from "../../lib/npm/providerLoader";
import { startDynamicProviderHost, type DynamicProviderHost } from "../../lib/runtimePath/dynamicProviderHost";
import { npmStackConfig, SECRET, useFakeNpm } from "../npm/fakeNpmServer";
import { contractProblems, loadNpmContract } from "../npm/npmContract";
import { ROOT } from "../helpers/offlinePlan";

const NO_LIMIT = 0;
const URN =
  "urn:pulumi:prod::nodepoint::nodepoint:customers:WordPressSite$pulumi-nodejs:dynamic/nodepoint:NpmProxyHost::shop-proxy";
const DOMAIN = "shop.acme-customer.example";

const fake = useFakeNpm();
const contract = loadNpmContract();
let host: DynamicProviderHost;
beforeAll(async () => {
  // Configured as the engine configures it: with the stack's whole config, the NPM user in it.
  host = await startDynamicProviderHost({ root: ROOT, config: npmStackConfig() });
}, NO_LIMIT);
afterAll(() => host.close());

/** Inputs as the program registers them. */
function inputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    __provider: PROVIDER_LOADER,
    apiUrl: fake.apiUrl,
    domain: "Shop.ACME-customer.example",
    forwardHost: "10.20.0.31",
    forwardPort: 80,
    sslForced: true,
    ...overrides,
  };
}

/** Check then Create, as the engine does for a new resource. */
async function created(
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; state: Record<string, unknown> }> {
  const checked = await host.check(URN, {}, inputs(overrides));
  expect(checked.failures).toEqual([]);
  const result = await host.create(URN, checked.inputs);
  return { id: result.id, state: result.properties };
}

/** The error a call answered, checked to carry a real message and neither the password nor a token. */
async function failure(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e as { message: string; code: number },
  );
  expect(err, "expected the call to fail").toBeDefined();
  expect(err!.message).not.toMatch(/^(undefined|\[object Object\])?$/);
  expect(err!.message).not.toContain(SECRET);
  for (const token of fake.issuedTokens) expect(err!.message).not.toContain(token);
  return err!.message;
}

describe("the provider served by cmd/dynamic-provider from its __provider text", () => {
  test("check: defaults, normalization; bad inputs are failures naming the property", async () => {
    const { __provider: _p, forwardPort: _f, ...rest } = inputs();
    const ok = await host.check(URN, {}, { ...rest, __provider: PROVIDER_LOADER });
    expect(ok.failures).toEqual([]);
    expect(ok.inputs).toMatchObject({ domain: DOMAIN, forwardPort: 80, __provider: PROVIDER_LOADER });

    const bad = await host.check(URN, {}, inputs({ domain: "not a domain", forwardPort: 0 }));
    expect(bad.failures.map((f) => f.property).sort()).toEqual(["domain", "forwardPort"]);
  });

  test("create, read, diff, update, delete: a host that serves HTTPS, then nothing left behind", async () => {
    const { id, state } = await created();
    expect(id).toBe(DOMAIN);
    expect(state).toMatchObject({ domain: DOMAIN, __provider: PROVIDER_LOADER });
    expect(state["hostId"]).toBeGreaterThan(0);
    expect(state["certificateId"]).toBeGreaterThan(0);
    expect(fake.servesHttps(DOMAIN)).toBe(true);

    const read = await host.read(id, URN, state, inputs());
    expect(read).toEqual({ id, properties: state });

    const checked = (await host.check(URN, inputs(), inputs())).inputs;
    expect(await host.diff(id, URN, state, checked)).toEqual({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: false,
    });
    const moved = (await host.check(URN, inputs(), inputs({ forwardPort: 8080 }))).inputs;
    expect(await host.diff(id, URN, state, moved)).toEqual({
      changes: "some",
      replaces: [],
      deleteBeforeReplace: false,
    });
    const renamed = (await host.check(URN, inputs(), inputs({ domain: "www.acme-customer.example" }))).inputs;
    expect(await host.diff(id, URN, state, renamed)).toEqual({
      changes: "some",
      replaces: ["domain"],
      deleteBeforeReplace: true,
    });

    const updated = await host.update(id, URN, state, moved);
    expect(updated.properties).toMatchObject({ forwardPort: 8080, hostId: state["hostId"] });
    expect([...fake.hosts.values()][0]).toMatchObject({ forward_port: 8080, ssl_forced: true });

    await host.delete(id, URN, updated.properties);
    expect(fake.hosts.size).toBe(0);
    expect(fake.liveCertificates).toEqual([]);
    // Deleting again (the host is gone): nothing to do, no error.
    await host.delete(id, URN, updated.properties);
    expect(contractProblems(contract, fake.exchanges)).toEqual([]);
  });

  test("read: a host gone answers no id (Pulumi recreates it); a lost certificate answers certificateId 0", async () => {
    const { id, state } = await created();
    fake.deleteCertificate(state["certificateId"] as number);
    expect((await host.read(id, URN, state)).properties["certificateId"]).toBe(0);

    fake.removeHost(state["hostId"] as number);
    expect((await host.read(id, URN, state)).id).toBe("");
  });

  test("diff: state written by an older provider text asks for an update (its Read and Delete would run that text)", async () => {
    const { id, state } = await created();
    const olderText = (await pulumi.runtime.serializeFunction(() => ({ create: async () => ({ id: "x" }) }))).text;
    const checked = (await host.check(URN, inputs(), inputs())).inputs;
    expect(await host.diff(id, URN, { ...state, __provider: olderText }, checked)).toMatchObject({
      changes: "some",
      replaces: [],
    });
  });
});

describe("every error path arrives over gRPC with its real message", () => {
  test("wrong password in the stack config", async () => {
    const misconfigured = await startDynamicProviderHost({
      root: ROOT,
      config: npmStackConfig(undefined, "wrong-password-1"),
    });
    try {
      const checked = (await misconfigured.check(URN, {}, inputs())).inputs;
      expect(await failure(misconfigured.create(URN, checked))).toBe(
        "NPM API POST /tokens could not obtain a token: failed with HTTP 400: Invalid email or password",
      );
    } finally {
      await misconfigured.close();
    }
  });

  test("no NPM password in the stack config: the key is named", async () => {
    const { "nodepoint:npmPassword": _password, ...config } = npmStackConfig();
    const misconfigured = await startDynamicProviderHost({ root: ROOT, config });
    try {
      expect(await failure(misconfigured.check(URN, {}, inputs()))).toContain(
        "stack config nodepoint:npmPassword is not set",
      );
    } finally {
      await misconfigured.close();
    }
  });

  test("NPM unreachable", async () => {
    const checked = (await host.check(URN, {}, inputs({ apiUrl: "http://127.0.0.1:9/api" }))).inputs;
    expect(await failure(host.create(URN, checked))).toContain(
      "NPM API POST /tokens could not reach http://127.0.0.1:9/api",
    );
  });

  test("domain used by a host the API user cannot see", async () => {
    fake.takeDomainElsewhere(DOMAIN);
    const checked = (await host.check(URN, {}, inputs())).inputs;
    expect(await failure(host.create(URN, checked))).toContain(
      `NPM refused proxy host for ${DOMAIN}: the domain is already in use`,
    );
  });

  test("certbot failed: NPM's real cause", async () => {
    fake.certbotOutcomes({ fail: "requests.exceptions.ConnectionError: Network is unreachable" });
    const checked = (await host.check(URN, {}, inputs())).inputs;
    expect(await failure(host.create(URN, checked))).toContain(
      "(cause: An unexpected error occurred: | requests.exceptions.ConnectionError: Network is unreachable)",
    );
  });

  test("nginx refused the configuration on update", async () => {
    const { id, state } = await created();
    fake.loseCertificateFiles(state["certificateId"] as number);
    const moved = (await host.check(URN, inputs(), inputs({ forwardPort: 8080 }))).inputs;
    expect(await failure(host.update(id, URN, state, moved))).toContain("nginx refused its configuration");
  });

  test("an error answer while reading and while deleting", async () => {
    const { id, state } = await created();
    fake.failNext(502, "Bad Gateway", { method: "GET", path: `/nginx/proxy-hosts/${String(state["hostId"])}` });
    expect(await failure(host.read(id, URN, state))).toContain("failed with HTTP 502: Bad Gateway");
    fake.failNext(500, "Internal Error", { method: "DELETE", path: `/nginx/proxy-hosts/${String(state["hostId"])}` });
    expect(await failure(host.delete(id, URN, state))).toContain("DELETE /nginx/proxy-hosts");
    expect(fake.hosts.size).toBe(1);
  });

  test(
    "run outside the project directory: the loader names the file it looked for there",
    async () => {
      const elsewhere = mkdtempSync(join(tmpdir(), "not-the-project-"));
      const misplaced = await startDynamicProviderHost({ root: ROOT, cwd: elsewhere });
      try {
        expect(await failure(misplaced.check(URN, {}, inputs()))).toContain(
          `Cannot find module '${join(realpathSync(elsewhere), "lib/dynamicProviderBootstrap.cjs")}'`,
        );
      } finally {
        await misplaced.close();
        rmSync(elsewhere, { recursive: true, force: true });
      }
    },
    NO_LIMIT,
  );
});
