/** The one home of provider facts: complete for every type the program declares, sourced, and consistent with its readers. */
import { describe, expect, it } from "vitest";
import { createProxyHostProvider } from "../lib/npm/proxyHostProvider";
import {
  adoptionIgnores,
  CUSTOMER_FIELD_INPUTS,
  CUSTOMER_REPLACING_FIELDS,
  FACTS,
  factsOf,
  TYPES,
  type TypeName,
} from "../lib/providerFacts";
import { REPLACING_FIELDS } from "../lib/customers/schema";
import { PROVIDER_DEFAULTS, TYPES as POLICY_TYPES } from "../policy/policies";
import { offlinePlan } from "./helpers/offlinePlan";

describe("provider facts", () => {
  it.each(["prod", "bench"])("cover every custom resource type the %s plan declares", async (stack) => {
    const plan = await offlinePlan({ stack });
    const types = new Set(
      plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => r.type),
    );
    expect([...types].filter((t) => !factsOf(t))).toEqual([]);
  });

  it("name a source for every fact", () => {
    for (const [name, f] of Object.entries(FACTS)) {
      expect(f.token, name).toBe(TYPES[name as TypeName]);
      const all = [
        ...f.replaceOnChange,
        ...(f.hazards ?? []),
        ...(f.createOnly ?? []),
        ...(f.adoption?.ignore ?? []),
        ...(f.adoption?.ignoreUnlessDeclared ?? []),
      ];
      for (const fact of all) expect(fact.source.length, `${name} ${fact.path}`).toBeGreaterThan(10);
      for (const [path, d] of Object.entries(f.defaults ?? {}))
        expect(d.source.length, `${name} ${path}`).toBeGreaterThan(10);
    }
  });

  it("give customer validation exactly the customer-file fields whose container input replaces (always, or when it shrinks)", () => {
    const replacing = (Object.keys(CUSTOMER_FIELD_INPUTS) as Array<keyof typeof CUSTOMER_FIELD_INPUTS>).filter(
      (field) => FACTS.container.replaceOnChange.some((r) => r.path === CUSTOMER_FIELD_INPUTS[field] && !r.unless),
    );
    expect([...CUSTOMER_REPLACING_FIELDS].sort()).toEqual(replacing.sort());
    expect(REPLACING_FIELDS).toBe(CUSTOMER_REPLACING_FIELDS);
  });

  it("give the policy pack its type tokens and the provider's container defaults", () => {
    expect(POLICY_TYPES.container).toBe(TYPES.container);
    expect(PROVIDER_DEFAULTS).toEqual({
      cores: 1,
      memoryMiB: 512,
      diskGiB: 4,
      datastoreId: "local",
      unprivileged: false,
    });
  });

  it("agree with the NPM provider's own diff: apiUrl and domain replace, delete first", async () => {
    const provider = createProxyHostProvider();
    const olds = {
      apiUrl: "http://npm/api",
      credentials: { identity: "a@b.c", secret: "s" },
      domain: "a.example.com",
      forwardHost: "192.168.1.100",
      forwardPort: 80,
      email: "a@b.c",
      sslForced: true,
      hostId: 1,
      certificateId: 2,
    };
    for (const fact of FACTS.npmProxyHost.replaceOnChange) {
      const news = { ...olds, [fact.path]: fact.path === "apiUrl" ? "http://npm2/api" : "b.example.com" };
      const d = await provider.diff!("a.example.com", olds, news);
      expect(d.replaces, fact.path).toEqual([fact.path]);
    }
  });

  it("adoption ignores: what the importer never reads back, plus every defaulted input left undeclared", () => {
    const undeclared = adoptionIgnores("container", { vmId: 102, cpu: { cores: 4 }, memory: { dedicated: 2048 } });
    expect(undeclared).toEqual(
      expect.arrayContaining(["vmId", "timeoutDelete", "description", "memory.swap", "unprivileged", "protection"]),
    );
    const declared = adoptionIgnores("container", { description: "notes", memory: { swap: 512 }, unprivileged: true });
    expect(declared).not.toContain("description");
    expect(declared).not.toContain("memory.swap");
    expect(declared).not.toContain("unprivileged");
    expect(adoptionIgnores("acl", {})).toEqual([]);
  });
});
