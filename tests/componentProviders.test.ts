/**
 * Components take their providers through resource options (as pulumi-eks does), never in Args:
 * their children inherit them; a component given none is refused before any child exists.
 */
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { beforeAll, describe, expect, it } from "vitest";
import { HaPlacement } from "../components/HaPlacement";
import { requireProviders } from "../components/providerOptions";
import { stackConfigOf } from "../lib/config/stacks";
import { ROOT } from "./helpers/offlinePlan";

const ha = stackConfigOf("prod", ROOT).ha;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
    },
    "nodepoint",
    "prod",
    true,
  );
});

describe("providers through resource options", () => {
  it("a component without its provider is refused, naming it and the package", () => {
    expect(() => new HaPlacement("ha-none", { ha })).toThrow(
      /ha-none: no provider for proxmoxve in the resource options/,
    );
  });

  it("a component given its provider hands it on (HA resources use HaPlacement's)", () => {
    const infra = new proxmoxve.Provider("infra", { endpoint: "https://pve.invalid:8006/" });
    const placement = new HaPlacement("ha-given", { ha }, { provider: infra });
    expect(placement.binding.provider).toBe(infra);
    expect(placement.binding.limits).toEqual({ maxRestart: ha.maxRestart, maxRelocate: ha.maxRelocate });
  });

  it("requireProviders names every package missing", () => {
    class Probe extends pulumi.ComponentResource {
      constructor(opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Probe", "probe", {}, opts);
        requireProviders(this, "probe", ["proxmoxve", "cloudflare"]);
      }
    }
    const pve = new proxmoxve.Provider("pve", { endpoint: "https://pve.invalid:8006/" });
    expect(() => new Probe()).toThrow(/probe: no provider for proxmoxve, cloudflare/);
    expect(() => new Probe({ providers: [pve] })).toThrow(/probe: no provider for cloudflare in/);
  });
});
