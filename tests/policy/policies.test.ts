/**
 * The policy pack (policy/): every policy with passing and violating fake resources, the secret
 * detection, and the real offline plan passing every policy.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import type { ResourceValidationPolicy } from "@pulumi/policy/policy";
import {
  checkCustomerIsolation,
  customerContainerIsolation,
  customerContainerPlanBounds,
  DEFAULTS,
  findPlaintextCredentials,
  guestsProtected,
  haResourceLimits,
  isCredentialName,
  noPlaintextCredentials,
  onlyRouterPrivileged,
  policies,
  TYPES,
} from "../../policy/policies";
import { runPlan } from "../../lib/plan/runPlan";
import { replacementPendingNote } from "../../lib/replacementNote";
import type { RecordedResource } from "../../lib/plan/offlineRuntime";
import {
  analyzeLikeTheEngine,
  fakeArgs,
  planResource,
  runPolicy,
  sdkProps,
  UNKNOWN_STRING,
  wireSecret,
  type FakeResource,
} from "./sdkArgs";

const ROOT = resolve(__dirname, "../..");
const PARENT_SITE = "urn:pulumi:prod::nodepoint::pulumi:pulumi:Stack$nodepoint:customers:WordPressSite::acme";

/** A customer container as WordPressSite declares it (inputs in wire form). */
function customerContainer(
  overrides: Record<string, unknown> = {},
  opts: FakeResource["opts"] = { protect: true, parent: PARENT_SITE },
): FakeResource {
  return {
    type: TYPES.container,
    name: "acme-ct",
    urn: "urn:pulumi:prod::nodepoint::nodepoint:customers:WordPressSite$proxmoxve:index/containerLegacy:ContainerLegacy::acme-ct",
    props: {
      vmId: 1000,
      nodeName: "node1",
      unprivileged: true,
      cpu: { cores: 2 },
      memory: { dedicated: 2048, swap: 512 },
      disk: { datastoreId: "global-lvm", size: 20 },
      initialization: { hostname: "acme", userAccount: { password: wireSecret("root-pw") } },
      protection: true,
      started: true,
      ...overrides,
    },
    opts,
  };
}

const container = (props: Record<string, unknown>, opts: FakeResource["opts"] = { protect: true }): FakeResource => ({
  type: TYPES.container,
  name: "ct",
  props,
  opts,
});
const vm = (
  opts: FakeResource["opts"],
  props: Record<string, unknown> = { vmId: 100, protection: true, started: true },
): FakeResource => ({ type: TYPES.vm, name: "vm", props, opts });
const ha = (props: Record<string, unknown>, config?: Record<string, unknown>): FakeResource => ({
  type: TYPES.haResource,
  name: "ha",
  props: { resourceId: "ct:1001", type: "ct", ...props },
  ...(config ? { config } : {}),
});
const without = (obj: Record<string, unknown>, key: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));

describe("policy pack", () => {
  it("registers the six policies, named uniquely, mandatory (the credential policy at 'remediate', reported as mandatory)", () => {
    expect(policies.map((p) => p.name)).toEqual([
      "customer-container-isolation",
      "customer-container-plan-bounds",
      "ha-resource-limits",
      "guests-protected",
      "only-router-privileged",
      "no-plaintext-credentials",
    ]);
    for (const p of policies) expect(p.enforcementLevel).toBe(p === noPlaintextCredentials ? "remediate" : "mandatory");
  });

  it("defaults its configuration from Pulumi.prod.yaml (customerPools.storage and bounds, ha limits)", () => {
    const config = (parse(readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> })
      .config;
    const pools = config["nodepoint:customerPools"];
    const haConfig = config["nodepoint:ha"];
    const defaults = (p: ResourceValidationPolicy) =>
      Object.fromEntries(
        Object.entries(p.configSchema?.properties ?? {}).map(([k, s]) => [
          k,
          typeof s === "object" ? s.default : undefined,
        ]),
      );
    expect(DEFAULTS.storage).toBe(pools.storage);
    expect(defaults(customerContainerIsolation)).toEqual({ storage: pools.storage });
    expect(defaults(customerContainerPlanBounds)).toEqual({
      minCores: pools.bounds.cores.first,
      maxCores: pools.bounds.cores.last,
      minMemoryMiB: pools.bounds.memoryMiB.first,
      maxMemoryMiB: pools.bounds.memoryMiB.last,
      minDiskGiB: pools.bounds.diskGiB.first,
      maxDiskGiB: pools.bounds.diskGiB.last,
    });
    expect(defaults(haResourceLimits)).toEqual({ maxRestart: haConfig.maxRestart, maxRelocate: haConfig.maxRelocate });
  });

  it("ships what `pulumi preview --policy-pack policy` needs: PulumiPolicy.yaml (nodejs) and a versioned package.json", () => {
    const manifest = parse(readFileSync(join(ROOT, "policy/PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
    expect(manifest["runtime"]).toBe("nodejs");
    expect(manifest["name"]).toBe("nodepoint-policy");
    const pkg = JSON.parse(readFileSync(join(ROOT, "policy/package.json"), "utf8")) as {
      version: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/); // PolicyPack refuses to start without one
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@pulumi/policy", "@pulumi/pulumi"]);
    expect(readFileSync(join(ROOT, "policy/index.ts"), "utf8")).toContain('new PolicyPack("nodepoint-policy"');
  });
});

describe("customer-container-isolation", () => {
  const run = (r: FakeResource) => runPolicy(customerContainerIsolation, r);

  it("passes an unprivileged customer container on global-lvm", async () => {
    expect(await run(customerContainer())).toEqual([]);
  });

  it("rejects a privileged customer container, or one left at the provider's (privileged) default", async () => {
    expect(await run(customerContainer({ unprivileged: false }))).toEqual([
      expect.stringContaining("customer containers must be unprivileged"),
    ]);
    expect(await run(customerContainer({ unprivileged: undefined }))).toEqual([
      expect.stringContaining("unprivileged is not set"),
    ]);
  });

  it("rejects a root disk off the DRBD pool, including the provider's default datastore", async () => {
    expect(await run(customerContainer({ disk: { datastoreId: "local-zfs", size: 20 } }))).toEqual([
      expect.stringContaining('root disk is on "local-zfs"'),
    ]);
    expect(await run(customerContainer({ disk: { size: 20 } }))).toEqual([
      expect.stringContaining('root disk is on "local"'),
    ]);
  });

  it("takes the pool from policy config", async () => {
    const r = { ...customerContainer({ disk: { datastoreId: "drbd-2", size: 20 } }), config: { storage: "drbd-2" } };
    expect(await run(r)).toEqual([]);
    expect(await run({ ...r, config: undefined })).toEqual([expect.stringContaining('root disk is on "drbd-2"')]);
    expect(await run({ ...customerContainer(), config: { storage: "drbd-2" } })).toHaveLength(1);
  });

  it("recognizes a customer container by its parent WordPressSite even without the customer tag", async () => {
    expect(await run(customerContainer({ tags: [], unprivileged: false }))).toHaveLength(1);
    expect(
      checkCustomerIsolation(fakeArgs(customerContainer({ tags: [], unprivileged: false }, { protect: true })), {
        storage: "global-lvm",
      }),
    ).toEqual([]);
  });

  it("ignores service containers and other types", async () => {
    expect(await run(container({ tags: [], unprivileged: true, disk: { datastoreId: "local-lvm", size: 8 } }))).toEqual(
      [],
    );
    expect(await run(vm({ protect: true }))).toEqual([]);
  });
});

describe("customer-container-plan-bounds", () => {
  const run = (r: FakeResource) => runPolicy(customerContainerPlanBounds, r);

  it("passes a standard-plan container (2 cores, 2048 MiB, 20 GiB) and the bounds themselves", async () => {
    expect(await run(customerContainer())).toEqual([]);
    expect(
      await run(
        customerContainer({
          cpu: { cores: 8 },
          memory: { dedicated: 16384 },
          disk: { datastoreId: "global-lvm", size: 200 },
        }),
      ),
    ).toEqual([]);
    expect(
      await run(
        customerContainer({
          cpu: { cores: 1 },
          memory: { dedicated: 512 },
          disk: { datastoreId: "global-lvm", size: 8 },
        }),
      ),
    ).toEqual([]);
  });

  it("rejects cores, memory and disk outside the bounds, one violation each", async () => {
    const r = customerContainer({
      cpu: { cores: 12 },
      memory: { dedicated: 256 },
      disk: { datastoreId: "global-lvm", size: 500 },
    });
    expect(await run(r)).toEqual([
      expect.stringContaining("cpu.cores is 12"),
      expect.stringContaining("memory.dedicated (MiB) is 256"),
      expect.stringContaining("disk.size (GiB) is 500"),
    ]);
  });

  it("judges an unset size by the provider's default (4 GiB disk is below the 8 GiB floor)", async () => {
    expect(await run(customerContainer({ disk: { datastoreId: "global-lvm" } }))).toEqual([
      expect.stringContaining("disk.size (GiB) is 4 (unset, provider default)"),
    ]);
  });

  it("takes the bounds from policy config", async () => {
    expect(await run({ ...customerContainer(), config: { maxCores: 1 } })).toEqual([
      expect.stringContaining("within 1-1"),
    ]);
  });

  it("ignores non-customer containers (the 4-core website container)", async () => {
    expect(await run(container({ tags: [], unprivileged: true, cpu: { cores: 40 } }))).toEqual([]);
  });
});

describe("ha-resource-limits", () => {
  const run = (r: FakeResource) => runPolicy(haResourceLimits, r);

  it("passes maxRestart 3, maxRelocate 2", async () => {
    expect(await run(ha({ maxRestart: 3, maxRelocate: 2 }))).toEqual([]);
  });

  it("rejects other limits, and unset ones", async () => {
    expect(await run(ha({ maxRestart: 1, maxRelocate: 2 }))).toEqual([
      expect.stringMatching(/^maxRestart is 1: it must be 3/),
    ]);
    expect(await run(ha({}))).toEqual([
      expect.stringContaining("maxRestart is unset"),
      expect.stringContaining("maxRelocate is unset"),
    ]);
  });

  it("takes the limits from policy config", async () => {
    expect(await run(ha({ maxRestart: 5, maxRelocate: 2 }, { maxRestart: 5 }))).toEqual([]);
    expect(await run(ha({ maxRestart: 3, maxRelocate: 2 }, { maxRestart: 5 }))).toHaveLength(1);
  });

  it("ignores other resource types", async () => {
    expect(await run({ type: "proxmoxve:index/harule:Harule", props: { maxRestart: 9 } })).toEqual([]);
  });
});

describe("guests-protected", () => {
  const run = (r: FakeResource) => runPolicy(guestsProtected, r);

  it("passes protected VMs and containers", async () => {
    expect(await run(vm({ protect: true }))).toEqual([]);
    expect(await run(customerContainer())).toEqual([]);
  });

  it("rejects an unprotected VM or container", async () => {
    expect(await run(vm({ protect: false }))).toEqual([expect.stringContaining("protect is not set")]);
    expect(await run(container({ tags: [], unprivileged: true }, { protect: false }))).toHaveLength(1);
  });

  it("exempts a decommissioned customer container (protection: false and started: false)", async () => {
    expect(
      await run(
        customerContainer(
          { protection: false, started: false, startOnBoot: false },
          { protect: false, parent: PARENT_SITE },
        ),
      ),
    ).toEqual([]);
  });

  it("exempts a customer container prepared for a confirmed replacement (protection: false, the note in its description)", async () => {
    const description = `WordPress site x. ${replacementPendingNote([{ field: "node", from: "node1", to: "node2" }])}`;
    expect(
      await run(
        customerContainer({ protection: false, started: true, description }, { protect: false, parent: PARENT_SITE }),
      ),
    ).toEqual([]);
    // The note without lifting PVE's protection is not a prepared replacement.
    expect(
      await run(
        customerContainer({ protection: true, started: true, description }, { protect: false, parent: PARENT_SITE }),
      ),
    ).toHaveLength(1);
  });

  it("does not exempt half-decommissioned or non-customer guests", async () => {
    expect(
      await run(customerContainer({ protection: false, started: true }, { protect: false, parent: PARENT_SITE })),
    ).toHaveLength(1);
    expect(
      await run(
        customerContainer(without(customerContainer().props, "protection"), { protect: false, parent: PARENT_SITE }),
      ),
    ).toHaveLength(1);
    expect(await run(container({ tags: [], protection: false, started: false }, { protect: false }))).toHaveLength(1);
    expect(await run(vm({ protect: false }, { protection: false, started: false }))).toHaveLength(1);
  });
});

describe("only-router-privileged", () => {
  const run = (r: FakeResource) => runPolicy(onlyRouterPrivileged, r);

  it("passes the privileged router and unprivileged containers", async () => {
    expect(await run(container({ tags: ["router"], unprivileged: false }))).toEqual([]);
    expect(await run(container({ tags: [], unprivileged: true }))).toEqual([]);
  });

  it("rejects any other privileged container, explicit or by the provider's default", async () => {
    expect(await run(container({ tags: ["web"], unprivileged: false }))).toEqual([
      expect.stringContaining("unprivileged is false: only the router"),
    ]);
    expect(await run(container({ tags: [] }))).toEqual([expect.stringContaining("unprivileged is not set")]);
  });

  it("knows the router by its OpenWrtRouter parent too (a router the program creates carries no tags)", async () => {
    const parent = "urn:pulumi:bench::nodepoint::pulumi:pulumi:Stack$nodepoint:network:OpenWrtRouter::router";
    expect(await run(container({ unprivileged: false }, { protect: true, parent }))).toEqual([]);
    expect(await run(container({ unprivileged: false }, { protect: true }))).toHaveLength(1);
  });

  it("does not judge an adopted container whose privilege the program leaves as it is (not declared, ignored)", async () => {
    expect(await run(container({ vmId: 102 }, { protect: true, ignoreChanges: ["unprivileged"] }))).toEqual([]);
    // Declared privileged, or undeclared but not left alone: the program makes it privileged.
    expect(
      await run(container({ unprivileged: false }, { protect: true, ignoreChanges: ["unprivileged"] })),
    ).toHaveLength(1);
    expect(await run(container({ vmId: 102 }, { protect: true }))).toHaveLength(1);
  });

  it("takes the router tag from policy config", async () => {
    expect(await run({ ...container({ tags: ["gw"], unprivileged: false }), config: { routerTag: "gw" } })).toEqual([]);
    expect(
      await run({ ...container({ tags: ["router"], unprivileged: false }), config: { routerTag: "gw" } }),
    ).toHaveLength(1);
  });
});

describe("no-plaintext-credentials", () => {
  const run = (r: FakeResource, level?: ResourceValidationPolicy["enforcementLevel"]) =>
    runPolicy(noPlaintextCredentials, r, level);
  const provider = (props: Record<string, unknown>): FakeResource => ({
    type: "pulumi:providers:proxmoxve",
    name: "proxmox-infra",
    urn: "urn:pulumi:prod::nodepoint::pulumi:providers:proxmoxve::proxmox-infra",
    props,
  });

  it("classifies property names", () => {
    for (const name of [
      "password",
      "apiToken",
      "token",
      "secret",
      "privateKey",
      "apiKey",
      "APIKey",
      "clientSecret",
      "secret_access_key",
      "sshPrivateKey",
      "privateKeyPem",
      "password_wo",
      "presharedKey",
      "apiUserServiceKey",
      "passwords",
      "credentials",
      "rootPassword",
      "tokenValue",
    ]) {
      expect([name, isCredentialName(name)]).toEqual([name, true]);
    }
    for (const name of [
      "tokenId",
      "passwordLength",
      "secretName",
      "publicKey",
      "sshPublicKey",
      "keys",
      "keyctl",
      "key",
      "resourceId",
      "zoneId",
      "keep-daily",
      "overrideSpecial",
      "username",
      "passwordAuthentication",
      "tokenLifetime",
      "passwordWoVersion",
    ]) {
      expect([name, isCredentialName(name)]).toEqual([name, false]);
    }
    expect(isCredentialName("key", ["key"])).toBe(true);
  });

  it("(the SDK's behaviour it relies on) a validation sees secrets unwrapped; a remediation sees the SDK's Secret marker", () => {
    const wire = { apiToken: wireSecret("t0k3n") };
    expect(sdkProps(wire, "validate")["apiToken"]).toBe("t0k3n");
    expect(sdkProps(wire, "remediate")["apiToken"]).toBe("t0k3n"); // the proxy's `get` unwraps it too…
    expect(findPlaintextCredentials(sdkProps(wire, "remediate"))).toEqual([]); // …but not the property's descriptor
    expect(findPlaintextCredentials(sdkProps(wire, "validate"))).toEqual(["apiToken"]);
  });

  it("passes a provider whose apiToken is a secret", async () => {
    expect(
      await run(
        provider({
          apiToken: wireSecret("root@pam!ci=uuid"),
          endpoint: "https://192.168.1.10:8006/",
          insecure: "true",
        }),
      ),
    ).toEqual([]);
  });

  it("rejects a provider token in plain text", async () => {
    expect(await run(provider({ apiToken: "root@pam!ci=uuid", endpoint: "https://192.168.1.10:8006/" }))).toEqual([
      expect.stringMatching(/^apiToken holds a credential in plain text/),
    ]);
  });

  it("finds nested credentials and reports their paths", async () => {
    const r = customerContainer({
      initialization: { hostname: "acme", userAccount: { password: "hunter2", keys: ["ssh-ed25519 AAAA"] } },
    });
    expect(await run(r)).toEqual([expect.stringMatching(/^initialization\.userAccount\.password holds a credential/)]);
    expect(
      await run({
        type: "x:index:Y",
        props: { ssh: { privateKey: "-----BEGIN", username: "root" }, passwords: ["a", wireSecret("b")] },
      }),
    ).toEqual([
      expect.stringMatching(/^passwords\[0\] /), // fields come in the Struct's (sorted) order
      expect.stringMatching(/^ssh\.privateKey /),
    ]);
  });

  it("accepts a whole secret object, unknown values (preview) and empty strings", async () => {
    expect(
      await run({
        type: "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost",
        props: { credentials: wireSecret({ identity: "a@b", secret: "pw" }), __provider: "exports.handler = ..." },
      }),
    ).toEqual([]);
    expect(await run(customerContainer({ initialization: { userAccount: { password: UNKNOWN_STRING } } }))).toEqual([]);
    expect(await run(provider({ password: "" }))).toEqual([]);
  });

  it("takes extra credential names from policy config", async () => {
    expect(await run({ type: "x:index:Y", props: { key: "abc" } })).toEqual([]);
    expect(await run({ type: "x:index:Y", props: { key: "abc" }, config: { extraNames: ["key"] } })).toHaveLength(1);
  });

  it("fails closed when its remediation step did not run (policy reconfigured to mandatory): secretness is then invisible", async () => {
    const violations = await run(provider({ apiToken: wireSecret("root@pam!ci=uuid") }), "mandatory");
    expect(violations).toEqual([
      expect.stringContaining(
        'apiToken: cannot verify that this credential is a secret; keep this policy at enforcementLevel "remediate"',
      ),
    ]);
  });

  it("changes nothing in its remediation step", async () => {
    expect(
      await noPlaintextCredentials.remediateResource!(fakeArgs(provider({ apiToken: "plain" }), "remediate")),
    ).toBeUndefined();
    // drain the finding it recorded for that URN
    const spy = vi.fn();
    await (
      noPlaintextCredentials.validateResource as Exclude<
        typeof noPlaintextCredentials.validateResource,
        unknown[] | undefined
      >
    )(fakeArgs(provider({ apiToken: "plain" })), spy);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe("through the SDK's own gRPC handlers (Remediate, then Analyze, as the engine calls them)", () => {
  it("reports a plain-text provider token as a mandatory violation, and nothing for a secret one", async () => {
    const plain = {
      type: "pulumi:providers:cloudflare",
      name: "cloudflare",
      urn: "urn:pulumi:prod::nodepoint::pulumi:providers:cloudflare::cloudflare",
      props: { apiToken: "cf-token" },
    };
    const { diagnostics, remediations } = await analyzeLikeTheEngine(policies, [
      plain,
      { ...plain, props: { apiToken: wireSecret("cf-token") } },
    ]);
    expect(remediations).toEqual([]);
    expect(diagnostics).toEqual([
      {
        policy: "no-plaintext-credentials",
        urn: plain.urn,
        enforcementLevel: "mandatory",
        message: expect.stringContaining("apiToken holds a credential in plain text"),
      },
    ]);
  });

  it("reports the other policies' violations as mandatory", async () => {
    const { diagnostics } = await analyzeLikeTheEngine(policies, [
      customerContainer({ unprivileged: false, cpu: { cores: 64 } }, { protect: false, parent: PARENT_SITE }),
    ]);
    expect(diagnostics.map((d) => [d.policy, d.enforcementLevel])).toEqual([
      ["customer-container-isolation", "mandatory"],
      ["customer-container-plan-bounds", "mandatory"],
      ["guests-protected", "mandatory"],
      ["only-router-privileged", "mandatory"],
    ]);
  });
});

describe("the real plan (lib/plan/runPlan, stack prod)", () => {
  let resources: RecordedResource[] = [];
  beforeAll(async () => {
    // runPlan evaluates index.ts as the CLI does, once per process: in a worker shared with other
    // test files (the unit tier does not isolate them), the program must be evaluated afresh.
    vi.resetModules();
    resources = (await runPlan({ stack: "prod", root: ROOT })).resources;
  }, 60_000);

  it("covers what the policies look at, with secrets recorded as [secret]", () => {
    const types = resources.map((r) => r.type);
    expect(types.filter((t) => t === TYPES.container).length).toBeGreaterThanOrEqual(5);
    expect(types.filter((t) => t === TYPES.vm).length).toBeGreaterThanOrEqual(5);
    expect(types).toContain(TYPES.haResource);
    expect(types.filter((t) => t.startsWith("pulumi:providers:")).length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(resources)).toContain('"[secret]"');
  });

  it("passes every policy, resource by resource (fake args built from the plan)", async () => {
    const violations: string[] = [];
    for (const r of resources) {
      for (const policy of policies) {
        for (const message of await runPolicy(policy, planResource(r)))
          violations.push(`${policy.name} ${r.urn}: ${message}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("passes every policy through the SDK's gRPC handlers", async () => {
    const { diagnostics, remediations } = await analyzeLikeTheEngine(policies, resources.map(planResource));
    expect(diagnostics).toEqual([]);
    expect(remediations).toEqual([]);
  });

  it("would fail if the plan's secret markers were lost (the adapter's markers are what makes it pass)", async () => {
    const stripped = resources
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => ({ ...planResource(r), props: r.inputs }));
    expect(stripped.length).toBeGreaterThanOrEqual(2);
    const violations = (await Promise.all(stripped.map((r) => runPolicy(noPlaintextCredentials, r)))).flat();
    expect(violations.length).toBe(stripped.length);
    expect(violations.every((v) => v.startsWith("apiToken holds a credential in plain text"))).toBe(true);
  });
});
