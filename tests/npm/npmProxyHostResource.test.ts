/**
 * The resource as Pulumi handles it: the provider survives Pulumi's function serialization and
 * works from the serialized text alone, and `NpmProxyHost` registers its credentials as a secret,
 * with the defaults applied.
 */
import { describe, expect, test } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { NpmProxyHost } from "../../components/NpmProxyHost";
import { proxyHostProvider, type ProxyHostInputs, type ProxyHostOutputs } from "../../lib/npm/proxyHostProvider";
import { IDENTITY, SECRET, useFakeNpm } from "./fakeNpmServer";

/** Pulumi's wire signature of a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

const fake = useFakeNpm();

describe("serialized provider", () => {
  test("is self-contained and manages a host from its serialized text alone", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => proxyHostProvider, { allowSecrets: true });
    expect(serialized.containsSecrets).toBe(false);

    // Load it the way the dynamic provider host does (a CommonJS module exporting `handler`), with
    // a `require` that refuses everything: the text must not need any module.
    const module = {
      exports: {} as { handler?: () => pulumi.dynamic.ResourceProvider<ProxyHostInputs, ProxyHostOutputs> },
    };
    const refuse = (name: string): never => {
      throw new Error(`serialized provider required ${name}`);
    };
    new Function("exports", "module", "require", serialized.text)(module.exports, module, refuse);
    const provider = module.exports.handler!();

    const inputs: ProxyHostInputs = {
      apiUrl: fake.apiUrl,
      credentials: { identity: IDENTITY, secret: SECRET },
      domain: "serialized.example",
      forwardHost: "10.20.0.50",
      forwardPort: 80,
      email: IDENTITY,
      sslForced: true,
    };
    const created = await provider.create(inputs);
    expect(created.id).toBe("serialized.example");
    expect(fake.hosts.size).toBe(1);
    await provider.delete!(created.id, created.outs!);
    expect(fake.hosts.size).toBe(0);
  });
});

describe("NpmProxyHost", () => {
  interface Captured {
    type: string;
    object: Record<string, unknown>;
    additionalSecretOutputs: string[];
  }

  test("registers credentials as a secret input and a secret output, with defaults applied", async () => {
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
      credentials: { identity: IDENTITY, secret: SECRET },
      domain: "acme.example",
      forwardHost: "10.20.0.31",
      email: IDENTITY,
    });
    const hostId = await new Promise<number>((resolve) => host.hostId.apply(resolve));

    expect(hostId).toBe(7);
    const registration = captured.find((c) => c.type === "pulumi-nodejs:dynamic/nodepoint:NpmProxyHost");
    expect(registration).toBeDefined();
    const { object, additionalSecretOutputs } = registration!;
    expect(additionalSecretOutputs).toEqual(["credentials"]);
    expect((object["credentials"] as Record<string, unknown>)[SECRET_SIG]).toBe("1b47061264138c4ac30d75fd1eb44270");
    expect(object).toMatchObject({
      domain: "acme.example",
      forwardHost: "10.20.0.31",
      forwardPort: 80,
      sslForced: true,
    });
    const { credentials: _credentials, ...rest } = object;
    expect(JSON.stringify(rest)).not.toContain(SECRET);
  });
});

/** The parts of the engine's RegisterResourceRequest this test reads. */
interface RegisterRequest {
  getType(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getAdditionalsecretoutputsList(): string[];
}
