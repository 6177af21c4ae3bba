/**
 * The resource as the program registers it: the provider's loader as `__provider` (the same small
 * text for every resource; the dynamic-provider host runs it in tests/runtime/), the defaults
 * applied, and no credential (the provider takes the stack's NPM user from the stack config).
 */
import { describe, expect, test } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { NpmProxyHost } from "../../components/NpmProxyHost";
import { DYNAMIC_PROVIDERS } from "../../lib/dynamicProviderLoader";
import { PROVIDER_LOADER } from "../../lib/npm/providerLoader";
import { IDENTITY, SECRET, useFakeNpm } from "./fakeNpmServer";

const fake = useFakeNpm();

describe("the loader", () => {
  test("is small and names the provider, whose module exports it", async () => {
    expect(Buffer.byteLength(PROVIDER_LOADER)).toBeLessThan(100);
    expect(PROVIDER_LOADER).toContain(JSON.stringify("NpmProxyHost"));
    const { module, export: name } = DYNAMIC_PROVIDERS.NpmProxyHost;
    const loaded = (await import(`../../${module}`)) as Record<string, { create?: unknown } | undefined>;
    expect(typeof loaded[name]?.create).toBe("function");
  });
});

describe("NpmProxyHost", () => {
  interface Captured {
    type: string;
    object: Record<string, unknown>;
    additionalSecretOutputs: string[];
  }

  test("registers no credential, the defaults applied", async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({
          id: String(args.inputs.domain),
          state: { ...args.inputs, hostId: 7, certificateId: 3 },
        }),
        call: (args) => args.inputs,
      },
      "nodepoint",
      "test",
      false,
    );
    const captured: Captured[] = [];
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource: (req: RegisterRequest, cb: (...args: unknown[]) => void) => unknown;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      captured.push({
        type: req.getType(),
        object: req.getObject()?.toJavaScript() ?? {},
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      });
      return register(req, cb);
    };

    const host = new NpmProxyHost("site-acme", {
      apiUrl: fake.apiUrl,
      domain: "acme.example",
      forwardHost: "10.20.0.31",
    });
    const hostId = await new Promise<number>((resolve) => host.hostId.apply(resolve));

    expect(hostId).toBe(7);
    const registration = captured.find((c) => c.type === "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost");
    expect(registration).toBeDefined();
    const { object, additionalSecretOutputs } = registration!;
    expect(object["__provider"]).toBe(PROVIDER_LOADER);
    expect(additionalSecretOutputs).toEqual([]);
    expect(object).toEqual({
      __provider: PROVIDER_LOADER,
      apiUrl: fake.apiUrl,
      domain: "acme.example",
      forwardHost: "10.20.0.31",
      forwardPort: 80,
      sslForced: true,
    });
    expect(JSON.stringify(object)).not.toContain(SECRET);
    expect(JSON.stringify(object)).not.toContain(IDENTITY);
  });
});

/** The parts of the engine's RegisterResourceRequest this test reads. */
interface RegisterRequest {
  getType(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getAdditionalsecretoutputsList(): string[];
}
