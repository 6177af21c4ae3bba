/**
 * lib/registrationsSettled.ts under Pulumi's mocks: a component's resources at any depth, and the
 * moment the engine has answered every one of their registrations (the SDK shape it reads: each
 * resource in its parent's `__childResources`, `pulumi.isSecret` settling with an Output).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { declaredUnder, registrationsSettled } from "../lib/registrationsSettled";

/** Registrations of resources named `held-*` wait for `release()`. */
let release: () => void = () => {};
let held = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        if (args.name.startsWith("held-")) await held;
        return { id: `${args.name}-id`, state: args.inputs as Record<string, unknown> };
      },
      call: (args) => args.inputs as Record<string, unknown>,
    },
    "nodepoint",
    "prod",
    true,
  );
});

class Thing extends pulumi.CustomResource {}

class Site extends pulumi.ComponentResource {
  readonly first: pulumi.CustomResource;
  constructor(name: string, heldName: string) {
    super("test:index:Site", name);
    this.first = new Thing("test:index:Thing", `${name}-first`, {}, { parent: this });
    const inner = new pulumi.ComponentResource("test:index:Inner", `${name}-inner`, {}, { parent: this });
    new Thing("test:index:Thing", heldName, { after: this.first.id }, { parent: inner });
  }
}

const turnsOfTheLoop = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("registrationsSettled", () => {
  it("finds the resources declared under a component, at any depth", () => {
    const site = new Site("lists", "lists-last");
    expect(declaredUnder(site).map((r) => r.constructor.name)).toEqual(["Thing", "ComponentResource", "Thing"]);
  });

  it("settles once the last registration under the component is answered, not before", async () => {
    held = new Promise<void>((resolve) => (release = resolve));
    const site = new Site("waits", "held-waits");
    let settled = false;
    const settling = registrationsSettled(site).then(() => (settled = true));
    await pulumi.isSecret(site.first.urn); // the first resource is answered...
    await turnsOfTheLoop(10);
    expect(settled).toBe(false); // ...the held one is not
    release();
    await settling;
    expect(settled).toBe(true);
  });

  it("settles at once for a component with nothing under it", async () => {
    const empty = new pulumi.ComponentResource("test:index:Empty", "empty");
    await expect(registrationsSettled(empty)).resolves.toBeUndefined();
  });
});
