import { describe, expect, test } from "vitest";
import {
  accessScopesFileOf,
  loadAccessScopes,
  renderAccessScopesFile,
  type AccessScope,
} from "../../lib/permissions/accessScopes";
import { type ClusterFacts, clusterFactsHash, clusterFactsOf, infraVmids } from "../../lib/permissions/clusterFacts";
import { loadPveApiSchema } from "../../lib/permissions/pveApiSchema";
import { requiredPrivileges, type ApiCall } from "../../lib/permissions/requiredPrivileges";
import {
  aclEntryReaches,
  customerHaCalls,
  customerScope as customerScopeOf,
  deriveScope,
  deriveScopes,
  infraScope as infraScopeOf,
  ScopeDerivationError,
  type DerivedScope,
  type ScopeDefinition,
} from "../../lib/permissions/scopes";
import { projectStacks, stackClusterFacts, stackConfigOf } from "../../lib/permissions/stackFacts";

const schema = loadPveApiSchema();
/** Pulumi.prod.yaml's cluster: the detailed tests below are written against its figures. */
const prod = stackClusterFacts("prod");
const { infra, customer } = deriveScopes(schema, prod);
const customerScope = (): ScopeDefinition => customerScopeOf(prod);
const infraScope = (): ScopeDefinition => infraScopeOf(prod);
const INFRA_VMIDS = infraVmids(prod);
const CUSTOMER_POOL = prod.customer.pool;
const CUSTOMER_VMIDS = prod.customer.vmids;

const VM_GUEST = [
  "VM.Allocate",
  "VM.Audit",
  "VM.Config.CPU",
  "VM.Config.Disk",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.PowerMgmt",
];
const QEMU_SERVICE = [
  "VM.Allocate",
  "VM.Audit",
  "VM.Config.CPU",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Migrate",
  "VM.PowerMgmt",
];
const QEMU_TEMPLATE = [
  "VM.Allocate",
  "VM.Audit",
  "VM.Config.CPU",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
];
const CLOUD_INIT_TEMPLATE = [...QEMU_TEMPLATE, "VM.Config.Cloudinit"].sort();
const ISO_TEMPLATE = [...QEMU_TEMPLATE, "VM.Config.CDROM"].sort();

/**
 * What prod's infrastructure token needs, per ACL path, written out: a privilege missing here or one
 * more than the calls need fails the tests below (the derivation, and the generated file deployed).
 */
const INFRA_REQUIRED = {
  "/": ["Sys.Audit", "Sys.Console", "Sys.Modify"],
  "/nodes/node1": ["Sys.AccessNetwork"],
  "/nodes/node2": ["Sys.AccessNetwork"],
  "/nodes/node3": ["Sys.AccessNetwork"],
  "/pool/customers": ["Pool.Allocate", "Pool.Audit"],
  "/sdn/zones/localnetwork/vmbr0": ["SDN.Use"],
  "/sdn/zones/localnetwork/vmbr1": ["SDN.Use"],
  "/sdn/zones/localnetwork/vmbr2/1203": ["SDN.Use"],
  "/storage": ["Datastore.Allocate"],
  "/storage/backup": ["Datastore.Allocate"],
  "/storage/local": ["Datastore.Allocate", "Datastore.AllocateTemplate", "Datastore.Audit"],
  "/storage/local-lvm": ["Datastore.Allocate", "Datastore.AllocateSpace"],
  "/storage/local-zfs": ["Datastore.Allocate", "Datastore.AllocateSpace"],
  "/vms/100": QEMU_SERVICE,
  "/vms/10001": VM_GUEST,
  "/vms/102": VM_GUEST,
  "/vms/107": QEMU_SERVICE,
  "/vms/201": QEMU_SERVICE,
  "/vms/8000": CLOUD_INIT_TEMPLATE,
  "/vms/9000": ISO_TEMPLATE,
};

/** Prod's ACL entries, written out: path → role and the privileges it grants there (with propagate, below it too). */
const INFRA_GRANTS: Record<string, { role: string; propagate: boolean; privileges: readonly string[] }> = {
  "/": { role: "NodepointInfraCluster", propagate: false, privileges: ["Sys.Audit", "Sys.Console", "Sys.Modify"] },
  "/nodes": { role: "NodepointInfraNodes", propagate: true, privileges: ["Sys.AccessNetwork"] },
  "/pool/customers": { role: "NodepointInfraPool", propagate: false, privileges: ["Pool.Allocate", "Pool.Audit"] },
  "/sdn/zones/localnetwork": { role: "NodepointInfraNetwork", propagate: true, privileges: ["SDN.Use"] },
  "/storage": {
    role: "NodepointInfraStorage",
    propagate: true,
    privileges: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"],
  },
  // One role per kind of guest, each exactly what that guest's calls need (INFRA_REQUIRED).
  "/vms/100": { role: "NodepointInfraVms", propagate: false, privileges: QEMU_SERVICE },
  "/vms/102": { role: "NodepointInfraContainers", propagate: false, privileges: VM_GUEST },
  "/vms/107": { role: "NodepointInfraVms", propagate: false, privileges: QEMU_SERVICE },
  "/vms/201": { role: "NodepointInfraVms", propagate: false, privileges: QEMU_SERVICE },
  "/vms/8000": { role: "NodepointInfraCloudInitTemplates", propagate: false, privileges: CLOUD_INIT_TEMPLATE },
  "/vms/9000": { role: "NodepointInfraIsoTemplates", propagate: false, privileges: ISO_TEMPLATE },
  "/vms/10001": { role: "NodepointInfraContainers", propagate: false, privileges: VM_GUEST },
};

const CUSTOMER_GRANTS: typeof INFRA_GRANTS = {
  "/pool/customers": { role: "NodepointCustomerGuests", propagate: true, privileges: VM_GUEST },
  "/sdn/zones/localnetwork/vmbr0": { role: "NodepointCustomerLan", propagate: false, privileges: ["SDN.Use"] },
  "/storage/global-lvm": { role: "NodepointCustomerDisks", propagate: false, privileges: ["Datastore.AllocateSpace"] },
  "/storage/local": { role: "NodepointCustomerTemplates", propagate: false, privileges: ["Datastore.Audit"] },
};

/** An access scope as deployed: ACL path → role, propagate and the role's privileges. */
function grantsOf(scope: AccessScope): typeof INFRA_GRANTS {
  const roles = new Map(scope.roles.map((r) => [r.name, r.privileges]));
  return Object.fromEntries(
    scope.acl.map((e) => [e.path, { role: e.role, propagate: e.propagate, privileges: roles.get(e.role) ?? [] }]),
  );
}

describe("(a) derived privileges, written out", () => {
  test("customer scope", () => {
    expect(customer.required).toEqual({
      "/pool/customers": ["VM.Allocate"],
      "/sdn/zones/localnetwork/vmbr0": ["SDN.Use"],
      "/storage/global-lvm": ["Datastore.AllocateSpace"],
      "/storage/local": ["Datastore.Audit"],
      "/vms/1000": VM_GUEST,
    });
    expect(customer.roles).toEqual([
      { name: "NodepointCustomerDisks", privileges: ["Datastore.AllocateSpace"] },
      { name: "NodepointCustomerGuests", privileges: VM_GUEST },
      { name: "NodepointCustomerLan", privileges: ["SDN.Use"] },
      { name: "NodepointCustomerTemplates", privileges: ["Datastore.Audit"] },
    ]);
    expect(customer.acl.map(({ path: p, role, propagate }) => ({ path: p, role, propagate }))).toEqual([
      { path: "/pool/customers", role: "NodepointCustomerGuests", propagate: true },
      { path: "/storage/global-lvm", role: "NodepointCustomerDisks", propagate: false },
      { path: "/storage/local", role: "NodepointCustomerTemplates", propagate: false },
      { path: "/sdn/zones/localnetwork/vmbr0", role: "NodepointCustomerLan", propagate: false },
    ]);
    expect(customer.grantedBy["/vms/1000"]).toBe("/pool/customers");
  });

  test("infrastructure scope", () => {
    expect(infra.required).toEqual(INFRA_REQUIRED);
    expect(infra.roles).toEqual([
      { name: "NodepointInfraCloudInitTemplates", privileges: CLOUD_INIT_TEMPLATE },
      { name: "NodepointInfraCluster", privileges: ["Sys.Audit", "Sys.Console", "Sys.Modify"] },
      { name: "NodepointInfraContainers", privileges: VM_GUEST },
      { name: "NodepointInfraIsoTemplates", privileges: ISO_TEMPLATE },
      { name: "NodepointInfraNetwork", privileges: ["SDN.Use"] },
      { name: "NodepointInfraNodes", privileges: ["Sys.AccessNetwork"] },
      { name: "NodepointInfraPool", privileges: ["Pool.Allocate", "Pool.Audit"] },
      {
        name: "NodepointInfraStorage",
        privileges: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"],
      },
      { name: "NodepointInfraVms", privileges: QEMU_SERVICE },
    ]);
    expect(infra.acl.map(({ path: p, role, propagate }) => ({ path: p, role, propagate }))).toEqual([
      { path: "/", role: "NodepointInfraCluster", propagate: false },
      { path: "/nodes", role: "NodepointInfraNodes", propagate: true },
      ...[100, 102, 107, 201, 8000, 9000, 10001].map((id) => ({
        path: `/vms/${id}`,
        role: INFRA_GRANTS[`/vms/${id}`]!.role,
        propagate: false,
      })),
      { path: "/storage", role: "NodepointInfraStorage", propagate: true },
      { path: "/sdn/zones/localnetwork", role: "NodepointInfraNetwork", propagate: true },
      { path: "/pool/customers", role: "NodepointInfraPool", propagate: false },
    ]);
  });

  test("each infrastructure guest's role holds exactly what that guest's calls need: CTs 102 and 10001 get no VM.Migrate, HWType, Cloudinit or CDROM", () => {
    for (const vmid of INFRA_VMIDS) {
      const entry = infra.acl.find((e) => e.path === `/vms/${vmid}`);
      expect(infra.roles.find((r) => r.name === entry?.role)?.privileges, `/vms/${vmid}`).toEqual(
        infra.required[`/vms/${vmid}`],
      );
    }
    for (const ct of ["/vms/102", "/vms/10001"]) {
      const role = infra.roles.find((r) => r.name === infra.acl.find((e) => e.path === ct)?.role);
      for (const p of ["VM.Migrate", "VM.Config.HWType", "VM.Config.Cloudinit", "VM.Config.CDROM"])
        expect(role?.privileges, `${ct} ${p}`).not.toContain(p);
    }
  });

  test("every privilege named is one PVE knows", () => {
    for (const scope of [infra, customer])
      for (const role of scope.roles) for (const p of role.privileges) expect(schema.knownPrivileges).toContain(p);
  });
});

describe("(b) the customer token stays out of the infrastructure", () => {
  const allCustomerPrivileges = (d: DerivedScope) => [
    ...Object.values(d.required).flat(),
    ...d.roles.flatMap((r) => r.privileges),
  ];

  test("no Sys.Modify anywhere", () => {
    expect(allCustomerPrivileges(customer)).not.toContain("Sys.Modify");
  });

  test("no ACL entry, no needed path, and no entry reaching by path or propagation, on an infrastructure VMID", () => {
    expect(INFRA_VMIDS).toEqual([100, 102, 107, 201, 8000, 9000, 10001]);
    for (const vmid of INFRA_VMIDS) {
      expect(customer.acl.map((e) => e.path)).not.toContain(`/vms/${vmid}`);
      expect(Object.keys(customer.required)).not.toContain(`/vms/${vmid}`);
      // Pool membership is not modelled here: tests/access.test.ts checks it on the plan's guests.
      for (const entry of customer.acl) expect(aclEntryReaches(entry, `/vms/${vmid}`)).toBe(false);
    }
  });

  test("infrastructure guests are created in no pool, so the customer pool entry never reaches them", () => {
    const creates = infraScope().calls.filter(
      (c) => c.method === "POST" && (c.path === "/nodes/{node}/lxc" || c.path === "/nodes/{node}/qemu"),
    );
    expect(creates.map((c) => c.params["vmid"]).sort()).toEqual([...INFRA_VMIDS].map(Number).sort());
    for (const c of creates) expect(c.params["pool"], String(c.params["vmid"])).toBeUndefined();
    expect(
      customerScope().calls.find((c) => c.method === "POST" && c.path === "/nodes/{node}/lxc")?.params["pool"],
    ).toBe(CUSTOMER_POOL);
  });

  test("guest privileges only through the pool; no entry on /vms, /nodes or /storage as a whole", () => {
    expect(customer.acl.filter((e) => e.path.startsWith("/vms"))).toEqual([]);
    expect(customer.acl.map((e) => e.path)).not.toContain("/nodes");
    expect(customer.acl.map((e) => e.path)).not.toContain("/storage");
    for (const entry of customer.acl)
      if (entry.path === "/" || entry.path.startsWith("/storage/") || entry.path.startsWith("/sdn/"))
        expect(entry.propagate).toBe(false);
    expect(customer.acl.find((e) => e.path === `/pool/${CUSTOMER_POOL}`)?.propagate).toBe(true);
  });

  test("nothing on `/`: no ACL entry there, no call needing it", () => {
    expect(customer.acl.map((e) => e.path)).not.toContain("/");
    expect(customer.required["/"]).toBeUndefined();
    expect(customer.requirements.filter((r) => r.aclPath === "/")).toEqual([]);
    expect(customer.roles.flatMap((r) => r.privileges).filter((p) => p.startsWith("Sys."))).toEqual([]);
  });

  test("the customer firewall: reads VM.Audit, writes VM.Config.Network, on the container, through the pool", () => {
    const fw = customer.requirements.filter((r) => r.call.path.startsWith("/nodes/{node}/lxc/{vmid}/firewall/"));
    expect(fw.length).toBeGreaterThan(0);
    for (const r of fw) {
      expect(r.aclPath).toBe(`/vms/${CUSTOMER_VMIDS.first}`);
      expect(r.privilege).toBe(r.call.method === "GET" ? "VM.Audit" : "VM.Config.Network");
    }
    const calls = new Set(fw.map((r) => `${r.call.method} ${r.call.path}`));
    for (const c of [
      "GET /nodes/{node}/lxc/{vmid}/firewall/options",
      "PUT /nodes/{node}/lxc/{vmid}/firewall/options",
      "GET /nodes/{node}/lxc/{vmid}/firewall/rules",
      "POST /nodes/{node}/lxc/{vmid}/firewall/rules",
      "PUT /nodes/{node}/lxc/{vmid}/firewall/rules/{pos}",
      "DELETE /nodes/{node}/lxc/{vmid}/firewall/rules/{pos}",
    ])
      expect(calls).toContain(c);
    expect(schema.checkOf("PUT", "/nodes/{node}/lxc/{vmid}/firewall/options")).toEqual({
      kind: "perm",
      path: "/vms/{vmid}",
      privileges: ["VM.Config.Network"],
      any: false,
    });
    expect(customer.grantedBy[`/vms/${CUSTOMER_VMIDS.first}`]).toBe(`/pool/${CUSTOMER_POOL}`);
  });
});

describe("HA resources are the infrastructure token's", () => {
  test("every HA resource call is checked on `/` only, with no per-guest check", () => {
    expect(schema.checkOf("POST", "/cluster/ha/resources")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Console"],
      any: false,
    });
    expect(schema.checkOf("PUT", "/cluster/ha/resources/{sid}")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Console"],
      any: false,
    });
    expect(schema.checkOf("DELETE", "/cluster/ha/resources/{sid}")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Console"],
      any: false,
    });
    expect(schema.checkOf("GET", "/cluster/ha/resources/{sid}")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Audit"],
      any: false,
    });
  });

  test("the customer HA calls are in the infrastructure scope, granted by its `/` entry", () => {
    const customerCalls = customerScope().calls.map((c) => `${c.method} ${c.path}`);
    expect(customerCalls.filter((c) => c.includes("/cluster/ha/"))).toEqual([]);
    const ha = infra.requirements.filter((r) => r.call.params["sid"] === `ct:${CUSTOMER_VMIDS.first}`);
    expect([...new Set(ha.map((r) => `${r.call.method} ${r.call.path} ${r.aclPath} ${r.privilege}`))].sort()).toEqual([
      "DELETE /cluster/ha/resources/{sid} / Sys.Console",
      "GET /cluster/ha/resources/{sid} / Sys.Audit",
      "POST /cluster/ha/resources / Sys.Console",
      "PUT /cluster/ha/resources/{sid} / Sys.Console",
    ]);
    expect(infra.grantedBy["/"]).toBe("/");
    expect(infra.acl.find((e) => e.path === "/")).toMatchObject({ role: "NodepointInfraCluster", propagate: false });
  });

  test("put back into the customer scope, they need `/`, which no customer ACL entry reaches", () => {
    const def = customerScope();
    const withHa: ScopeDefinition = { ...def, calls: [...def.calls, ...customerHaCalls(prod)] };
    expect(requiredPrivileges(withHa.calls, schema)["/"]).toEqual(["Sys.Audit", "Sys.Console"]);
    expect(() => deriveScope(withHa, schema)).toThrow(/\/ \(Sys.Audit, Sys.Console\) is reached by no ACL entry/);
  });
});

describe("(c) the infrastructure token needs Sys.Modify on /", () => {
  test("by the API's own checks, and these calls need it", () => {
    expect(infra.required["/"]).toContain("Sys.Modify");
    const needing = infra.requirements.filter((r) => r.aclPath === "/" && r.privilege === "Sys.Modify");
    const fromCheck = [
      ...new Set(needing.filter((r) => r.origin === "check").map((r) => `${r.call.method} ${r.call.path}`)),
    ].sort();
    expect(fromCheck).toEqual(
      [
        "POST /cluster/backup",
        "PUT /cluster/backup/{id}",
        "DELETE /cluster/backup/{id}",
        "PUT /nodes/{node}/config",
        "PUT /cluster/firewall/options",
        "POST /cluster/firewall/rules",
        "PUT /cluster/firewall/rules/{pos}",
        "DELETE /cluster/firewall/rules/{pos}",
        "POST /cluster/firewall/groups",
        "POST /cluster/firewall/groups/{group}",
        "PUT /cluster/firewall/groups/{group}/{pos}",
        "DELETE /cluster/firewall/groups/{group}/{pos}",
        "DELETE /cluster/firewall/groups/{group}",
        "POST /cluster/firewall/ipset",
        "POST /cluster/firewall/ipset/{name}",
        "DELETE /cluster/firewall/ipset/{name}/{cidr}",
        "DELETE /cluster/firewall/ipset/{name}",
        "POST /cluster/firewall/aliases",
        "PUT /cluster/firewall/aliases/{name}",
        "DELETE /cluster/firewall/aliases/{name}",
      ].sort(),
    );
    const fromExtras = [
      ...new Set(
        needing
          .filter((r) => r.origin === "extra")
          .map((r) => `${r.call.method} ${r.call.path} ${String(r.call.params["vmid"])}`),
      ),
    ].sort();
    expect(fromExtras).toEqual(
      [
        // the privileged OpenWrt router (schema description of container create). No VM sets a
        // `startup` order in prod (QEMU startup would need Sys.Modify too; LXC's only VM.Config.Options).
        "POST /nodes/{node}/lxc 10001",
      ].sort(),
    );
  });

  test("the schema says so itself", () => {
    expect(schema.checkOf("POST", "/cluster/backup")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Modify"],
      any: false,
    });
    expect(schema.checkOf("PUT", "/nodes/{node}/config")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Modify"],
      any: false,
    });
    expect(schema.checkOf("PUT", "/cluster/firewall/options")).toEqual({
      kind: "perm",
      path: "/",
      privileges: ["Sys.Modify"],
      any: false,
    });
  });

  test("storage definitions do not need it: Datastore.Allocate on /storage", () => {
    for (const m of ["POST", "PUT", "DELETE"] as const) {
      const p = m === "POST" ? "/storage" : "/storage/{storage}";
      expect(schema.checkOf(m, p)).toEqual({
        kind: "perm",
        path: "/storage",
        privileges: ["Datastore.Allocate"],
        any: false,
      });
    }
  });
});

describe("(d) no unneeded privilege", () => {
  test("the generated roles file (what is deployed) grants exactly the privileges written out above, path by path", () => {
    const [fileInfra, fileCustomer] = loadAccessScopes(stackConfigOf("prod"), "prod") as [AccessScope, AccessScope];
    expect(grantsOf(fileInfra)).toEqual(INFRA_GRANTS);
    expect(grantsOf(fileCustomer)).toEqual(CUSTOMER_GRANTS);
    // An entry without propagate grants on its path only: there, what it grants is what is needed.
    for (const [p, grant] of Object.entries(INFRA_GRANTS))
      if (!grant.propagate && p in INFRA_REQUIRED)
        expect(grant.privileges, p).toEqual(INFRA_REQUIRED[p as keyof typeof INFRA_REQUIRED]);
  });

  test("a role given to guests that need different privileges is refused", () => {
    const def = infraScope();
    const oneRole: ScopeDefinition = {
      ...def,
      acl: def.acl.map((e) => (e.path.startsWith("/vms/") ? { ...e, role: "NodepointInfraGuests" } : e)),
    };
    expect(() => deriveScope(oneRole, schema)).toThrow(
      /role NodepointInfraGuests is granted on \/vms\/100, which needs .*VM.Migrate.*, and on \/vms\/102, which needs .*: give each privilege set its own role/,
    );
  });

  test("two roles with the same privileges are refused", () => {
    const def = infraScope();
    const split: ScopeDefinition = {
      ...def,
      acl: def.acl.map((e) => (e.path === "/vms/107" ? { ...e, role: "NodepointInfraPaymenter" } : e)),
    };
    expect(() => deriveScope(split, schema)).toThrow(
      /roles NodepointInfraPaymenter and NodepointInfraVms hold the same privileges|roles NodepointInfraVms and NodepointInfraPaymenter hold the same privileges/,
    );
  });

  test("customer: an ACL entry on / would be refused as unneeded", () => {
    const def = customerScope();
    const withRoot: ScopeDefinition = {
      ...def,
      acl: [...def.acl, { path: "/", role: "NodepointCustomerHa", propagate: false, why: "x" }],
    };
    expect(() => deriveScope(withRoot, schema)).toThrow(/ACL entries no call needs: \/ \(NodepointCustomerHa\)/);
  });

  test("customer: without create and delete, VM.Allocate goes from the guests role", () => {
    const def = customerScope();
    const calls = def.calls.filter(
      (c) =>
        !(c.method === "POST" && c.path === "/nodes/{node}/lxc") &&
        !(c.method === "DELETE" && c.path === "/nodes/{node}/lxc/{vmid}"),
    );
    const m = requiredPrivileges(calls, schema);
    expect(m["/vms/1000"]).not.toContain("VM.Allocate");
    expect(m["/pool/customers"]).toBeUndefined();
    expect(m["/storage/local"]).toEqual(["Datastore.Audit"]); // still the template lookup
  });

  test("infrastructure: without backup jobs, node notes, cluster firewall, the router and QEMU startup, Sys.Modify goes", () => {
    const def = infraScope();
    const calls: ApiCall[] = def.calls
      .filter(
        (c) =>
          !c.path.startsWith("/cluster/backup") &&
          !c.path.startsWith("/cluster/firewall") &&
          c.path !== "/nodes/{node}/config" &&
          c.params["vmid"] !== 10001,
      )
      .map((c) => ({
        ...c,
        extra: (c.extra ?? []).filter(
          (e) => !(e.source.kind === "server-code" && e.source.ref.includes("special case for startup")),
        ),
      }));
    expect(requiredPrivileges(calls, schema)["/"]).toEqual(["Sys.Audit", "Sys.Console"]);
  });

  test("an ACL path reached twice, or not at all, is refused", () => {
    const def = customerScope();
    expect(() =>
      deriveScope({ ...def, acl: [...def.acl, { path: "/storage", role: "X", propagate: true, why: "x" }] }, schema),
    ).toThrow(ScopeDerivationError);
    expect(() => deriveScope({ ...def, acl: def.acl.filter((e) => e.path !== "/storage/local") }, schema)).toThrow(
      /\/storage\/local \(Datastore.Audit\) is reached by no ACL entry/,
    );
  });
});

describe("documented checks are accounted for", () => {
  for (const def of [infraScope(), customerScope()]) {
    test(`${def.name}: each call to a method with a permission description quotes it in an extra or says why it does not apply`, () => {
      for (const c of def.calls) {
        const description = schema.require(c.method, c.path).permissions?.description;
        if (description === undefined) continue;
        const quoted = (c.extra ?? []).some(
          (e) =>
            e.source.kind === "schema-description" &&
            (e.source.method ?? c.method) === c.method &&
            (e.source.path ?? c.path) === c.path,
        );
        expect(quoted || (c.descriptionReviewed ?? "").length > 0, `${c.method} ${c.path} (${c.why})`).toBe(true);
      }
    });
  }

  test("container create: every description clause is encoded or reviewed", () => {
    const create = customerScope().calls.find((c) => c.method === "POST" && c.path === "/nodes/{node}/lxc");
    const quotes = (create?.extra ?? []).flatMap((e) =>
      e.source.kind === "schema-description" ? [e.source.quote] : [],
    );
    expect(quotes).toEqual([
      "You need 'VM.Allocate' permission on /vms/{vmid} or on the VM pool /pool/{pool}.",
      "You also need 'Datastore.AllocateSpace' permissions on the storage.",
    ]);
    expect(create?.descriptionReviewed).toMatch(/unprivileged/);
    const router = infraScope().calls.find(
      (c) => c.method === "POST" && c.path === "/nodes/{node}/lxc" && c.params["vmid"] === 10001,
    );
    expect(
      router?.extra?.some(
        (e) => e.source.kind === "schema-description" && e.source.quote.includes("For privileged containers"),
      ),
    ).toBe(true);
  });
});

describe("prod's cluster facts are the figures the scopes were first written with", () => {
  const LAN = { bridge: "vmbr0" };
  const DMZ = { bridge: "vmbr1" };
  const WAN = { bridge: "vmbr2", vlan: 1203 };

  test("clusterFactsOf(Pulumi.prod.yaml)", () => {
    expect(prod).toEqual({
      cluster: "cluster0",
      nodes: ["node1", "node2", "node3"],
      containers: [
        {
          vmid: 10001,
          name: "openwrt",
          node: "node3",
          privileged: true,
          startup: false,
          rootStorage: "local-lvm",
          templateStorage: "local",
          nics: [WAN, LAN, DMZ],
        },
        {
          vmid: 102,
          name: "website",
          node: "node3",
          privileged: false,
          startup: false,
          rootStorage: "local-lvm",
          templateStorage: "local",
          nics: [LAN],
        },
      ],
      vms: [
        {
          vmid: 100,
          name: "ispconfig",
          node: "node2",
          diskStorage: "local-zfs",
          nics: [LAN],
          startup: false,
          migrate: true,
        },
        {
          vmid: 107,
          name: "paymenter",
          node: "node3",
          diskStorage: "local-lvm",
          nics: [LAN],
          startup: false,
          migrate: true,
        },
        {
          vmid: 201,
          name: "nginx-proxy-manager",
          node: "node3",
          diskStorage: "local-lvm",
          nics: [DMZ, LAN],
          startup: false,
          migrate: true,
        },
        {
          vmid: 8000,
          name: "ubuntu-24-cloud",
          node: "node2",
          diskStorage: "local-zfs",
          nics: [LAN],
          startup: false,
          migrate: false,
          template: "cloud-init",
          image: { storage: "local", fileName: "noble-server-cloudimg-amd64.img" },
        },
        {
          vmid: 9000,
          name: "ubuntu-template",
          node: "node3",
          diskStorage: "local-lvm",
          nics: [LAN],
          startup: false,
          migrate: false,
          template: "iso",
          image: { storage: "local", fileName: "ubuntu-24.04.3-live-server-amd64.iso" },
        },
      ],
      managedStorages: ["local-zfs", "local-lvm", "local", "backup"],
      lanBridge: "vmbr0",
      customer: {
        pool: "customers",
        vmids: { first: 1000, last: 7999 },
        storage: "global-lvm",
        storageType: "drbd",
        node: "node1",
      },
      lxcTemplate: { storage: "local", nodes: ["node1", "node2"] },
      ha: { mode: "rule", name: "drbd-nodes" },
      backupJobs: [
        { id: "nightly-node3", storage: "backup" },
        { id: "nightly-node1", storage: "backup" },
        { id: "nightly-node2", storage: "backup" },
      ],
    } satisfies ClusterFacts);
    expect(INFRA_VMIDS).toEqual([100, 102, 107, 201, 8000, 9000, 10001]);
  });

  test("downloads: the LXC template on node1 and node2, the cloud image on node2, the ISO on node3", () => {
    const downloads = infraScope()
      .calls.filter((c) => c.path === "/nodes/{node}/storage/{storage}/download-url")
      .map((c) => `${String(c.params["node"])}:${String(c.params["storage"])}`);
    expect(downloads).toEqual(["node1:local", "node2:local", "node2:local", "node3:local"]);
  });

  test("a guest without a disk in config: the first non-DRBD storage on its node for its content", () => {
    // ispconfig (node2) has no `disk`: global-lvm (DRBD) is skipped, local-zfs holds images.
    expect(prod.vms.find((v) => v.vmid === 100)?.diskStorage).toBe("local-zfs");
  });
});

describe("every stack: nothing assumes prod's cluster", () => {
  const stacks = projectStacks();

  test("the project has the prod and bench stacks", () => {
    expect(stacks).toEqual(expect.arrayContaining(["bench", "prod"]));
  });

  for (const stack of stacks) {
    describe(stack, () => {
      const facts = stackClusterFacts(stack);
      const derived = deriveScopes(schema, facts);
      const vmids = infraVmids(facts);

      test("customer scope: no Sys.*, nothing on `/`, nothing on an infrastructure VMID or reaching it by path or propagation", () => {
        const c = derived.customer;
        expect(c.acl.map((e) => e.path)).not.toContain("/");
        expect(c.required["/"]).toBeUndefined();
        expect(
          [...Object.values(c.required).flat(), ...c.roles.flatMap((r) => r.privileges)].filter((p) =>
            p.startsWith("Sys."),
          ),
        ).toEqual([]);
        expect(vmids.length).toBeGreaterThan(0);
        for (const vmid of vmids) {
          expect(Object.keys(c.required)).not.toContain(`/vms/${vmid}`);
          for (const entry of c.acl)
            expect(aclEntryReaches(entry, `/vms/${vmid}`), `${entry.path} -> ${vmid}`).toBe(false);
        }
        expect(c.acl.filter((e) => e.path.startsWith("/vms"))).toEqual([]);
        expect(c.acl.find((e) => e.path === `/pool/${facts.customer.pool}`)?.propagate).toBe(true);
      });

      test("infrastructure scope: Sys.Modify on `/`, one ACL entry per infrastructure VMID", () => {
        expect(derived.infra.required["/"]).toContain("Sys.Modify");
        expect(derived.infra.acl.filter((e) => e.path.startsWith("/vms/")).map((e) => e.path)).toEqual(
          vmids.map((v) => `/vms/${v}`),
        );
      });

      test("every node gets its notes call; every managed storage and backup job its calls", () => {
        const infraCalls = infraScopeOf(facts).calls;
        const notes = infraCalls
          .filter((c) => c.method === "PUT" && c.path === "/nodes/{node}/config")
          .map((c) => c.params["node"]);
        expect(notes).toEqual([...facts.nodes]);
        expect(
          infraCalls.filter((c) => c.method === "POST" && c.path === "/storage").map((c) => c.params["storage"]),
        ).toEqual([...facts.managedStorages]);
        expect(
          infraCalls
            .filter((c) => c.method === "POST" && c.path === "/cluster/backup")
            .map((c) => `${String(c.params["id"])}:${String(c.params["storage"])}`),
        ).toEqual(facts.backupJobs.map((j) => `${j.id}:${j.storage}`));
      });

      test("every role privilege is one PVE knows", () => {
        for (const scope of [derived.infra, derived.customer])
          for (const role of scope.roles) for (const p of role.privileges) expect(schema.knownPrivileges).toContain(p);
      });

      test("the HA mode, left out of the facts' fingerprint, changes nothing in the generated file", () => {
        const config = structuredClone(stackConfigOf(stack));
        const flipped = clusterFactsOf({
          ...config,
          ha: { ...config.ha, mode: config.ha.mode === "rule" ? "group" : "rule" },
        });
        expect(clusterFactsHash(flipped)).toBe(clusterFactsHash(facts));
        expect(renderAccessScopesFile(accessScopesFileOf(deriveScopes(schema, flipped), flipped))).toBe(
          renderAccessScopesFile(accessScopesFileOf(derived, facts)),
        );
      });
    });
  }

  test("bench: its own nodes, VMIDs, storages and bridges, not prod's", () => {
    const bench = stackClusterFacts("bench");
    expect(bench.nodes.length).toBe(21);
    expect(infraVmids(bench)).toEqual([100, 201]);
    const { infra: bi, customer: bc } = deriveScopes(schema, bench);
    expect(bc.acl.map((e) => e.path)).toEqual([
      "/pool/customers",
      "/storage/drbd-pool",
      "/storage/local",
      "/sdn/zones/localnetwork/vmbr0",
    ]);
    expect(
      Object.keys(bi.required)
        .filter((p) => p.startsWith("/nodes/"))
        .sort(),
    ).toEqual(bench.lxcTemplate.nodes.map((n) => `/nodes/${n}`).sort());
    expect(bi.required["/sdn/zones/localnetwork/vmbr2/100"]).toEqual(["SDN.Use"]);
    for (const p of [
      "/vms/102",
      "/vms/107",
      "/vms/8000",
      "/vms/9000",
      "/vms/10001",
      "/storage/global-lvm",
      "/storage/local-zfs",
      "/nodes/node1",
    ])
      expect(bi.required[p], p).toBeUndefined();
  });
});

describe("clusterFactsOf: other cluster shapes", () => {
  const base = (): Parameters<typeof clusterFactsOf>[0] => structuredClone(stackConfigOf("prod"));

  test("no infrastructure guests and no backup jobs: no /vms, /sdn entries in the infrastructure scope, still Sys.Modify on `/`", () => {
    const config = { ...base(), guests: [], backupJobs: [] };
    const { infra: i, customer: c } = deriveScopes(schema, clusterFactsOf(config));
    expect(i.acl.map((e) => e.path)).toEqual(["/", "/nodes", "/storage", "/pool/customers"]);
    expect(i.required["/"]).toContain("Sys.Modify");
    expect(c.acl.map((e) => e.path)).not.toContain("/");
  });

  test("PVE 8: an HA group instead of a rule", () => {
    const config = base();
    config.ha = { ...config.ha, mode: "group" };
    const def = infraScopeOf(clusterFactsOf(config));
    expect(def.calls.filter((c) => c.path.startsWith("/cluster/ha/groups")).length).toBe(5);
    expect(def.calls.filter((c) => c.path.startsWith("/cluster/ha/rules"))).toEqual([]);
    expect(deriveScope(def, schema).required["/"]).toEqual(["Sys.Audit", "Sys.Console", "Sys.Modify"]);
  });

  test("another pool, VMID range and LAN bridge", () => {
    const config = base();
    config.customerPools = { ...config.customerPools, proxmoxPool: "tenants", vmids: { first: 20000, last: 29999 } };
    config.networks = { ...config.networks, lan: { ...config.networks.lan, bridge: "vmbr9" } };
    const facts = clusterFactsOf(config);
    const c = deriveScope(customerScopeOf(facts), schema);
    expect(c.acl.map((e) => e.path)).toEqual([
      "/pool/tenants",
      "/storage/global-lvm",
      "/storage/local",
      "/sdn/zones/localnetwork/vmbr9",
    ]);
    expect(c.grantedBy["/vms/20000"]).toBe("/pool/tenants");
    expect(customerHaCalls(facts)[0]?.params["sid"]).toBe("ct:20000");
  });
});
