/**
 * The automation tokens as code (components/AutomationAccess.ts), under mocks: what is declared
 * equals what lib/permissions/scopes.ts derives from the PVE API schema, the customer token stays
 * out of the infrastructure, and every resource uses the provider of the token that may make its
 * calls.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { aclSlug } from "../components/AutomationAccess";
import {
  accessScopesFile,
  accessScopesFileOf,
  loadAccessScopes,
  renderAccessScopesFile,
} from "../lib/permissions/accessScopes";
import { clusterFactsOf, infraVmids } from "../lib/permissions/clusterFacts";
import { loadPveApiSchema } from "../lib/permissions/pveApiSchema";
import { aclEntryReaches, deriveScopes } from "../lib/permissions/scopes";
import { projectStacks, stackClusterFacts, stackConfigOf } from "../lib/permissions/stackFacts";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { byName, offlinePlan, scratchCustomers, stackValue } from "./helpers/offlinePlan";

const schema = loadPveApiSchema();
const prod = stackClusterFacts("prod");
const derived = deriveScopes(schema, prod);
const INFRA_VMIDS = infraVmids(prod);
const CUSTOMER_POOL = prod.customer.pool;
const CUSTOMER_VMIDS = prod.customer.vmids;
const T = {
  role: "proxmoxve:index/roleLegacy:RoleLegacy",
  user: "proxmoxve:index/userLegacy:UserLegacy",
  token: "proxmoxve:user/token:Token",
  acl: "proxmoxve:index/acl:Acl",
} as const;
const ACCESS_TYPES: readonly string[] = Object.values(T);

let plan: OfflineRunResult;
beforeAll(async () => {
  plan = await offlinePlan();
});
const ofType = (type: string): RecordedResource[] => plan.resources.filter((r) => r.type === type);
const provider = (name: string): RecordedResource => byName(plan.resources, name, "pulumi:providers:proxmoxve");
const underSite = (r: RecordedResource): boolean => r.parent.includes("nodepoint:customers:WordPressSite::");
const aclsOf = (principal: string): Array<Record<string, unknown>> =>
  ofType(T.acl)
    .map((r) => r.inputs)
    .filter((i) => i["userId"] === principal || i["tokenId"] === principal);
const GUEST_TYPES = ["proxmoxve:index/containerLegacy:ContainerLegacy", "proxmoxve:index/vmLegacy:VmLegacy"];
/** Pool membership as a plan declares it: pool → the VMIDs of the guests created with that `poolId`. */
function poolMembersOf(resources: readonly RecordedResource[]): Record<string, (vmid: number) => boolean> {
  const members = new Map<string, Set<number>>();
  for (const r of resources.filter((x) => GUEST_TYPES.includes(x.type) && typeof x.inputs["poolId"] === "string")) {
    const pool = r.inputs["poolId"] as string;
    members.set(pool, (members.get(pool) ?? new Set()).add(Number(r.inputs["vmId"])));
  }
  return Object.fromEntries([...members].map(([pool, vmids]) => [pool, (vmid: number) => vmids.has(vmid)]));
}

describe("the generated roles files, one per stack", () => {
  const stacks = projectStacks();

  it.each(stacks)(
    "%s: equals a fresh derivation from the PVE API schema and Pulumi.%s.yaml (regenerate: npm run roles)",
    (stack) => {
      const file = accessScopesFile(stack);
      expect(existsSync(file), `${file} is missing: run npm run roles`).toBe(true);
      const facts = stackClusterFacts(stack);
      expect(readFileSync(file, "utf8")).toBe(
        renderAccessScopesFile(accessScopesFileOf(deriveScopes(schema, facts), facts)),
      );
    },
  );

  it("no other roles file: none without a stack, no stack-less roles.generated.json", () => {
    const dir = dirname(accessScopesFile("prod"));
    expect(
      readdirSync(dir)
        .filter((f) => /^roles\..*json$/.test(f))
        .sort(),
    ).toEqual(stacks.map((s) => `roles.${s}.generated.json`).sort());
  });

  it("is what the program reads: the two scopes of the stack, valid", () => {
    expect(loadAccessScopes(stackConfigOf("prod"), "prod").map((s) => `${s.userId}!${s.tokenName}`)).toEqual([
      derived.infra.tokenId,
      derived.customer.tokenId,
    ]);
    expect(loadAccessScopes(stackConfigOf("bench"), "bench")[0]?.acl.map((e) => e.path)).toContain("/vms/100");
  });

  it("a stack without a generated file: an error naming the file and the command", () => {
    expect(() => loadAccessScopes(stackConfigOf("prod"), "nosuchstack")).toThrow(
      /roles\.nosuchstack\.generated\.json is missing: stack nosuchstack has no generated automation roles\. Run npm run roles/,
    );
  });

  const STALE =
    /roles\.prod\.generated\.json is out of date: it was generated for other cluster facts than Pulumi\.prod\.yaml gives now .*Run npm run roles and commit it/;
  const website2 = {
    kind: "container",
    vmid: 103,
    name: "website2",
    node: "node3",
    cores: 1,
    memoryMiB: 512,
    networks: ["lan"],
    osType: "ubuntu",
  };

  it("a changed cluster fact (a guest added, a guest moved) makes loading fail, naming the file and npm run roles", () => {
    const config = structuredClone(stackConfigOf("prod"));
    const moved = { ...config, guests: config.guests.map((g) => (g.vmid === 102 ? { ...g, node: "node2" } : g)) };
    expect(clusterFactsOf(moved)).not.toEqual(prod);
    expect(() => loadAccessScopes(moved, "prod")).toThrow(STALE);
    expect(() => loadAccessScopes({ ...config, nodes: config.nodes.slice(0, 2) }, "prod")).toThrow(STALE);
    // what does not reach the facts (a guest's cores) keeps the file valid
    expect(() =>
      loadAccessScopes(
        { ...config, guests: config.guests.map((g) => (g.vmid === 102 ? { ...g, cores: 2 } : g)) },
        "prod",
      ),
    ).not.toThrow();
  });

  it("pulumi up with a guest added to the stack file but no npm run roles: the program stops before declaring anything", async () => {
    await expect(offlinePlan({ set: { guests: [...stackValue<unknown[]>("guests"), website2] } })).rejects.toThrow(
      STALE,
    );
  });
});

describe("declared access equals the derived scopes", () => {
  it("roles: one per derived role, privileges exactly the derived ones, sorted", () => {
    const declared = ofType(T.role).map((r) => ({ name: r.inputs["roleId"], privileges: r.inputs["privileges"] }));
    const expected = [...derived.infra.roles, ...derived.customer.roles].map((r) => ({
      name: r.name,
      privileges: [...r.privileges],
    }));
    expect(declared.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      expected.sort((a, b) => a.name.localeCompare(b.name)),
    );
    for (const r of declared) expect(r.privileges).toEqual([...(r.privileges as string[])].sort());
  });

  it("users and privilege-separated tokens: protected; the infrastructure ones adopted", () => {
    const users = ofType(T.user);
    expect(users.map((u) => u.inputs["userId"]).sort()).toEqual(["pulumi-customers@pve", "pulumi-infra@pve"]);
    const tokens = ofType(T.token);
    expect(tokens.map((t) => `${String(t.inputs["userId"])}!${String(t.inputs["tokenName"])}`).sort()).toEqual(
      [derived.customer.tokenId, derived.infra.tokenId].sort(),
    );
    for (const r of [...users, ...tokens]) expect(r.options.protect, r.name).toBe(true);
    for (const t of tokens) expect(t.inputs["privilegesSeparation"], t.name).toBe(true);
    expect(byName(plan.resources, "pulumi-infra", "UserLegacy").options.import).toBe("pulumi-infra@pve");
    expect(byName(plan.resources, "pulumi-infra-iac", "Token").options.import).toBe("pulumi-infra@pve!iac");
    expect(byName(plan.resources, "pulumi-customers", "UserLegacy").options.import).toBeNull();
    expect(byName(plan.resources, "pulumi-customers-iac", "Token").options.import).toBeNull();
  });

  it("every derived ACL entry is granted to the token AND its user, with the derived role and propagate", () => {
    for (const scope of [derived.infra, derived.customer]) {
      const [user] = scope.tokenId.split("!") as [string];
      const expected = scope.acl
        .map((e) => ({ path: e.path, roleId: e.role, propagate: e.propagate }))
        .sort((a, b) => a.path.localeCompare(b.path));
      const strip = (i: Record<string, unknown>) => ({
        path: i["path"],
        roleId: i["roleId"],
        propagate: i["propagate"],
      });
      const byPath = (a: { path: unknown }, b: { path: unknown }) => String(a.path).localeCompare(String(b.path));
      expect(aclsOf(scope.tokenId).map(strip).sort(byPath), `${scope.name} token`).toEqual(expected);
      expect(aclsOf(user).map(strip).sort(byPath), `${scope.name} user`).toEqual(expected);
    }
    expect(ofType(T.acl).length).toBe(2 * (derived.infra.acl.length + derived.customer.acl.length));
    expect(aclSlug("/")).toBe("root");
    expect(aclSlug("/sdn/zones/localnetwork/vmbr2/1203")).toBe("sdn-zones-localnetwork-vmbr2-1203");
  });
});

describe("the customer token stays out of the infrastructure", () => {
  const customerRoles = () => {
    const names = new Set(aclsOf(derived.customer.tokenId).map((i) => i["roleId"]));
    return ofType(T.role).filter((r) => names.has(r.inputs["roleId"]));
  };

  it("its roles hold no Sys.* privilege, Sys.Modify least of all", () => {
    expect(customerRoles().length).toBe(derived.customer.roles.length);
    for (const r of customerRoles()) {
      expect(r.inputs["privileges"], r.name).not.toContain("Sys.Modify");
      expect(
        (r.inputs["privileges"] as string[]).filter((p) => p.startsWith("Sys.")),
        r.name,
      ).toEqual([]);
    }
  });

  it("the pool's members, as the plan declares them: the customer containers, none of the infrastructure guests", () => {
    const members = poolMembersOf(plan.resources);
    expect(Object.keys(members)).toEqual([CUSTOMER_POOL]);
    const guests = plan.resources.filter((r) => GUEST_TYPES.includes(r.type));
    const customerVmids = guests.filter(underSite).map((r) => Number(r.inputs["vmId"]));
    expect(customerVmids.length).toBeGreaterThan(0);
    for (const vmid of customerVmids) {
      expect(members[CUSTOMER_POOL]!(vmid), `customer ${vmid}`).toBe(true);
      expect(vmid >= CUSTOMER_VMIDS.first && vmid <= CUSTOMER_VMIDS.last, `customer ${vmid} in the range`).toBe(true);
    }
    for (const vmid of INFRA_VMIDS) expect(members[CUSTOMER_POOL]!(vmid), `infrastructure ${vmid}`).toBe(false);
    for (const r of guests.filter((g) => !underSite(g))) expect(r.inputs["poolId"], r.name).toBeUndefined();
  });

  it("no ACL entry on `/` nor on, or reaching (with the plan's pool membership), any infrastructure VMID; the pool entry reaches the customer containers", () => {
    const members = poolMembersOf(plan.resources);
    const customerVmids = plan.resources
      .filter((r) => GUEST_TYPES.includes(r.type) && underSite(r))
      .map((r) => Number(r.inputs["vmId"]));
    for (const principal of [derived.customer.tokenId, "pulumi-customers@pve"]) {
      const acls = aclsOf(principal);
      expect(acls.length).toBeGreaterThan(0);
      expect(acls.map((a) => a["path"])).not.toContain("/");
      for (const a of acls) {
        expect(String(a["path"])).not.toMatch(/^\/vms(\/|$)/);
        for (const vmid of INFRA_VMIDS)
          expect(
            aclEntryReaches({ path: String(a["path"]), propagate: a["propagate"] === true }, `/vms/${vmid}`, members),
            `${String(a["path"])} -> ${vmid}`,
          ).toBe(false);
      }
      const pool = acls.find((a) => a["path"] === `/pool/${CUSTOMER_POOL}`);
      expect(pool).toMatchObject({ propagate: true });
      for (const vmid of customerVmids)
        expect(
          aclEntryReaches({ path: `/pool/${CUSTOMER_POOL}`, propagate: true }, `/vms/${vmid}`, members),
          `pool -> ${vmid}`,
        ).toBe(true);
    }
  });

  it("the infrastructure token keeps Sys.Modify on `/`", () => {
    const root = aclsOf(derived.infra.tokenId).find((a) => a["path"] === "/");
    expect(root).toMatchObject({ propagate: false });
    expect(byName(plan.resources, `role-${String(root?.["roleId"])}`, "RoleLegacy").inputs["privileges"]).toContain(
      "Sys.Modify",
    );
  });
});

describe("each resource uses its token's provider", () => {
  it("three Proxmox providers, every token a secret; access needs the administrator token", () => {
    for (const name of ["proxmox-access", "proxmox-infra", "proxmox-customers"]) {
      expect(provider(name).inputs, name).toMatchObject({
        endpoint: "https://192.168.1.10:8006/",
        insecure: "true",
        apiToken: "[secret]",
      });
    }
    expect(
      plan.resources
        .filter((r) => r.type === "pulumi:providers:proxmoxve")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["proxmox-access", "proxmox-customers", "proxmox-infra"]);
  });

  it("users, tokens, roles and ACLs: the access provider, and nothing else does", () => {
    const access = provider("proxmox-access").urn;
    for (const r of plan.resources.filter((x) => ACCESS_TYPES.includes(x.type)))
      expect(r.provider, r.name).toBe(access);
    for (const r of plan.resources.filter(
      (x) => x.custom && x.type.startsWith("proxmoxve:") && !ACCESS_TYPES.includes(x.type),
    ))
      expect(r.provider, r.name).not.toBe(access);
  });

  it("customer containers and their firewall: the customer provider; their HA resources: the infrastructure provider", () => {
    const customers = provider("proxmox-customers").urn;
    const infra = provider("proxmox-infra").urn;
    const siteProxmox = plan.resources.filter((r) => r.custom && r.type.startsWith("proxmoxve:") && underSite(r));
    const cts = siteProxmox.filter((r) => r.type === "proxmoxve:index/containerLegacy:ContainerLegacy");
    expect(cts.length).toBeGreaterThan(0);
    for (const r of siteProxmox.filter((x) => x.type !== "proxmoxve:index/haresource:Haresource"))
      expect(r.provider, r.name).toBe(customers);
    for (const kind of ["firewall/optionsLegacy:OptionsLegacy", "firewall/rulesLegacy:RulesLegacy"])
      expect(siteProxmox.filter((r) => r.type.endsWith(kind)).length, kind).toBe(cts.length);
    const ha = plan.resources.filter((r) => r.type === "proxmoxve:index/haresource:Haresource");
    expect(ha.length).toBeGreaterThan(0);
    for (const r of ha) expect(r.provider, r.name).toBe(infra);
  });

  it("infrastructure guests, the HA rule, the pool and everything else: the infrastructure provider", () => {
    const infra = provider("proxmox-infra").urn;
    const rest = plan.resources.filter(
      (r) => r.custom && r.type.startsWith("proxmoxve:") && !ACCESS_TYPES.includes(r.type) && !underSite(r),
    );
    for (const r of rest) expect(r.provider, r.name).toBe(infra);
    const guests = rest.filter((r) => /ContainerLegacy|VmLegacy/.test(r.type)).map((r) => r.inputs["vmId"]);
    expect([...guests].sort((a, b) => Number(a) - Number(b))).toEqual([...INFRA_VMIDS]);
    expect(byName(plan.resources, "pool-customers", "PoolLegacy").provider).toBe(infra);
    expect(byName(plan.resources, "drbd-nodes", "Harule").provider).toBe(infra);
  });

  it("each automation provider waits for its token's roles and ACL entries", () => {
    for (const [name, scope] of [
      ["proxmox-infra", derived.infra],
      ["proxmox-customers", derived.customer],
    ] as const) {
      const [user] = scope.tokenId.split("!") as [string];
      const grants = ofType(T.acl).filter((r) => r.inputs["tokenId"] === scope.tokenId || r.inputs["userId"] === user);
      const roles = ofType(T.role).filter((r) => scope.roles.some((x) => x.name === r.inputs["roleId"]));
      expect(provider(name).options.dependsOn, name).toEqual(
        expect.arrayContaining([...grants, ...roles].map((r) => r.urn)),
      );
      expect(grants.length).toBe(2 * scope.acl.length);
    }
    expect(provider("proxmox-access").options.dependsOn).toEqual([]);
  });
});

describe("secrets", () => {
  it("the administrator token is a required secret, shown as [secret]", async () => {
    await expect(offlinePlan({ omit: ["nodepoint:proxmoxAccessApiToken"] })).rejects.toThrow(
      /nodepoint:proxmoxAccessApiToken: is missing \(the Proxmox VE administrator API token/,
    );
    await expect(offlinePlan({ plain: ["nodepoint:proxmoxAccessApiToken"] })).rejects.toThrow(
      /nodepoint:proxmoxAccessApiToken: is stored in plain text/,
    );
  });

  it("no token value appears in the plan: the customer provider's token is the created token's value, a secret", () => {
    expect(provider("proxmox-customers").inputs["apiToken"]).toBe("[secret]");
    const text = JSON.stringify(plan);
    expect(text).not.toContain("=[computed]");
    expect(text).not.toContain("00000000-0000-0000-0000-000000000000");
  });
});

describe("another stack declares its own cluster's access (bench: 21 nodes, other VMIDs and storages)", () => {
  const bench = stackClusterFacts("bench");
  const benchDerived = deriveScopes(schema, bench);
  let benchPlan: OfflineRunResult;
  beforeAll(async () => {
    const customers = scratchCustomers({
      "shop.yaml":
        "domain: shop.bench-two.example\nplan: premium\nvmid: 1000\nip: 10.20.1.0\nnode: bnode01\nstate: active\n",
    });
    try {
      benchPlan = await offlinePlan({ stack: "bench", customersDir: customers.dir });
    } finally {
      customers.cleanup();
    }
  });

  it("the ACL entries declared are bench's derived ones, for token and user", () => {
    const acls = benchPlan.resources.filter((r) => r.type === T.acl).map((r) => r.inputs);
    for (const scope of [benchDerived.infra, benchDerived.customer]) {
      const [user] = scope.tokenId.split("!") as [string];
      const expected = scope.acl.map((e) => `${e.path} ${e.role} ${String(e.propagate)}`).sort();
      for (const principal of [scope.tokenId, user]) {
        expect(
          acls
            .filter((i) => i["userId"] === principal || i["tokenId"] === principal)
            .map((i) => `${String(i["path"])} ${String(i["roleId"])} ${String(i["propagate"])}`)
            .sort(),
          `${scope.name} ${principal}`,
        ).toEqual(expected);
      }
    }
    const paths = acls.map((i) => String(i["path"]));
    expect(paths.filter((p) => p.startsWith("/vms/")).sort()).toEqual(["/vms/100", "/vms/100", "/vms/201", "/vms/201"]);
    for (const prodOnly of ["/vms/102", "/vms/107", "/vms/8000", "/vms/9000", "/vms/10001", "/storage/global-lvm"])
      expect(paths).not.toContain(prodOnly);
  });

  it("the customer token: nothing on `/`, nothing reaching bench's infrastructure VMIDs (with the plan's pool membership)", () => {
    const members = poolMembersOf(benchPlan.resources);
    expect(members[bench.customer.pool]?.(1000)).toBe(true);
    const acls = benchPlan.resources
      .filter((r) => r.type === T.acl)
      .map((r) => r.inputs)
      .filter((i) => i["tokenId"] === benchDerived.customer.tokenId || i["userId"] === "pulumi-customers@pve");
    expect(acls.length).toBe(2 * benchDerived.customer.acl.length);
    for (const a of acls) {
      expect(a["path"]).not.toBe("/");
      for (const vmid of infraVmids(bench))
        expect(
          aclEntryReaches({ path: String(a["path"]), propagate: a["propagate"] === true }, `/vms/${vmid}`, members),
        ).toBe(false);
    }
  });
});
