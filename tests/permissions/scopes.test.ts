import { describe, expect, test } from "vitest";
import { loadPveApiSchema } from "../../lib/permissions/pveApiSchema";
import { callRequirements, privilegeMapOf, requiredPrivileges, type ApiCall } from "../../lib/permissions/requiredPrivileges";
import {
  aclEntryReaches,
  type ClusterFacts,
  clusterFactsOf,
  customerHaCalls,
  customerScope as customerScopeOf,
  deriveScope,
  deriveScopes,
  infraScope as infraScopeOf,
  infraVmids,
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

const VM_GUEST = ["VM.Allocate", "VM.Audit", "VM.Config.CPU", "VM.Config.Disk", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.PowerMgmt"];
const QEMU_SERVICE = ["VM.Allocate", "VM.Audit", "VM.Config.CPU", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Migrate", "VM.PowerMgmt"];
const QEMU_TEMPLATE = ["VM.Allocate", "VM.Audit", "VM.Config.CPU", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"];

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
    expect(infra.required).toEqual({
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
      "/vms/8000": [...QEMU_TEMPLATE, "VM.Config.Cloudinit"].sort(),
      "/vms/9000": [...QEMU_TEMPLATE, "VM.Config.CDROM"].sort(),
    });
    expect(infra.roles).toEqual([
      { name: "NodepointInfraCluster", privileges: ["Sys.Audit", "Sys.Console", "Sys.Modify"] },
      { name: "NodepointInfraGuests", privileges: ["VM.Allocate", "VM.Audit", "VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Migrate", "VM.PowerMgmt"] },
      { name: "NodepointInfraNetwork", privileges: ["SDN.Use"] },
      { name: "NodepointInfraNodes", privileges: ["Sys.AccessNetwork"] },
      { name: "NodepointInfraPool", privileges: ["Pool.Allocate", "Pool.Audit"] },
      { name: "NodepointInfraStorage", privileges: ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"] },
    ]);
    expect(infra.acl.map(({ path: p, role, propagate }) => ({ path: p, role, propagate }))).toEqual([
      { path: "/", role: "NodepointInfraCluster", propagate: false },
      { path: "/nodes", role: "NodepointInfraNodes", propagate: true },
      ...[100, 102, 107, 201, 8000, 9000, 10001].map((id) => ({ path: `/vms/${id}`, role: "NodepointInfraGuests", propagate: false })),
      { path: "/storage", role: "NodepointInfraStorage", propagate: true },
      { path: "/sdn/zones/localnetwork", role: "NodepointInfraNetwork", propagate: true },
      { path: "/pool/customers", role: "NodepointInfraPool", propagate: false },
    ]);
  });

  test("every privilege named is one PVE knows", () => {
    for (const scope of [infra, customer]) for (const role of scope.roles) for (const p of role.privileges) expect(schema.knownPrivileges).toContain(p);
  });
});

describe("(b) the customer token stays out of the infrastructure", () => {
  const allCustomerPrivileges = (d: DerivedScope) => [...Object.values(d.required).flat(), ...d.roles.flatMap((r) => r.privileges)];

  test("no Sys.Modify anywhere", () => {
    expect(allCustomerPrivileges(customer)).not.toContain("Sys.Modify");
  });

  test("no ACL entry and no needed path on an infrastructure VMID", () => {
    expect(INFRA_VMIDS).toEqual([100, 102, 107, 201, 8000, 9000, 10001]);
    for (const vmid of INFRA_VMIDS) {
      expect(customer.acl.map((e) => e.path)).not.toContain(`/vms/${vmid}`);
      expect(Object.keys(customer.required)).not.toContain(`/vms/${vmid}`);
      // and no customer ACL entry reaches it, through propagation or the pool
      for (const entry of customer.acl) expect(aclEntryReaches(entry, `/vms/${vmid}`, customerScope().poolMembers)).toBe(false);
    }
  });

  test("guest privileges only through the pool; no entry on /vms, /nodes or /storage as a whole", () => {
    expect(customer.acl.filter((e) => e.path.startsWith("/vms"))).toEqual([]);
    expect(customer.acl.map((e) => e.path)).not.toContain("/nodes");
    expect(customer.acl.map((e) => e.path)).not.toContain("/storage");
    for (const entry of customer.acl) if (entry.path === "/" || entry.path.startsWith("/storage/") || entry.path.startsWith("/sdn/")) expect(entry.propagate).toBe(false);
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
    for (const c of ["GET /nodes/{node}/lxc/{vmid}/firewall/options", "PUT /nodes/{node}/lxc/{vmid}/firewall/options", "GET /nodes/{node}/lxc/{vmid}/firewall/rules", "POST /nodes/{node}/lxc/{vmid}/firewall/rules", "PUT /nodes/{node}/lxc/{vmid}/firewall/rules/{pos}", "DELETE /nodes/{node}/lxc/{vmid}/firewall/rules/{pos}"]) expect(calls).toContain(c);
    expect(schema.checkOf("PUT", "/nodes/{node}/lxc/{vmid}/firewall/options")).toEqual({ kind: "perm", path: "/vms/{vmid}", privileges: ["VM.Config.Network"], any: false });
    expect(customer.grantedBy[`/vms/${CUSTOMER_VMIDS.first}`]).toBe(`/pool/${CUSTOMER_POOL}`);
  });
});

describe("HA resources are the infrastructure token's", () => {
  test("every HA resource call is checked on `/` only, with no per-guest check", () => {
    expect(schema.checkOf("POST", "/cluster/ha/resources")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Console"], any: false });
    expect(schema.checkOf("PUT", "/cluster/ha/resources/{sid}")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Console"], any: false });
    expect(schema.checkOf("DELETE", "/cluster/ha/resources/{sid}")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Console"], any: false });
    expect(schema.checkOf("GET", "/cluster/ha/resources/{sid}")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Audit"], any: false });
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
    const fromCheck = [...new Set(needing.filter((r) => r.origin === "check").map((r) => `${r.call.method} ${r.call.path}`))].sort();
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
    const fromExtras = [...new Set(needing.filter((r) => r.origin === "extra").map((r) => `${r.call.method} ${r.call.path} ${String(r.call.params["vmid"])}`))].sort();
    expect(fromExtras).toEqual(
      [
        // the privileged OpenWrt router (schema description of container create). No VM sets a
        // `startup` order in prod (QEMU startup would need Sys.Modify too; LXC's only VM.Config.Options).
        "POST /nodes/{node}/lxc 10001",
      ].sort(),
    );
  });

  test("the schema says so itself", () => {
    expect(schema.checkOf("POST", "/cluster/backup")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Modify"], any: false });
    expect(schema.checkOf("PUT", "/nodes/{node}/config")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Modify"], any: false });
    expect(schema.checkOf("PUT", "/cluster/firewall/options")).toEqual({ kind: "perm", path: "/", privileges: ["Sys.Modify"], any: false });
  });

  test("storage definitions do not need it: Datastore.Allocate on /storage", () => {
    for (const m of ["POST", "PUT", "DELETE"] as const) {
      const p = m === "POST" ? "/storage" : "/storage/{storage}";
      expect(schema.checkOf(m, p)).toEqual({ kind: "perm", path: "/storage", privileges: ["Datastore.Allocate"], any: false });
    }
  });
});

describe("(d) no unneeded privilege", () => {
  const key = (p: string, priv: string) => `${p} ${priv}`;
  const pairs = (m: Readonly<Record<string, readonly string[]>>) => new Set(Object.entries(m).flatMap(([p, privs]) => privs.map((x) => key(p, x))));

  for (const def of [infraScope(), customerScope()]) {
    test(`${def.name}: removing any one call drops exactly the privileges only it needs`, () => {
      const perCall = def.calls.map((c) => pairs(privilegeMapOf(callRequirements(c, schema))));
      const full = pairs(requiredPrivileges(def.calls, schema));
      def.calls.forEach((_, i) => {
        const others = def.calls.filter((__, j) => j !== i);
        const reduced = pairs(requiredPrivileges(others, schema));
        const onlyThis = [...(perCall[i] ?? [])].filter((p) => !perCall.some((s, j) => j !== i && s.has(p)));
        for (const p of onlyThis) expect(reduced.has(p)).toBe(false);
        for (const p of full) if (!onlyThis.includes(p)) expect(reduced.has(p)).toBe(true);
      });
    });

    test(`${def.name}: every role privilege is needed by a call on a path its ACL entries grant`, () => {
      const derived = deriveScope(def, schema);
      for (const role of derived.roles) {
        const paths = Object.entries(derived.grantedBy).filter(([, entry]) => derived.acl.some((e) => e.path === entry && e.role === role.name)).map(([p]) => p);
        for (const privilege of role.privileges) {
          const needers = derived.requirements.filter((r) => r.privilege === privilege && paths.includes(r.aclPath));
          expect(needers.length, `${role.name} ${privilege}`).toBeGreaterThan(0);
        }
      }
    });
  }

  test("customer: an ACL entry on / would be refused as unneeded", () => {
    const def = customerScope();
    const withRoot: ScopeDefinition = { ...def, acl: [...def.acl, { path: "/", role: "NodepointCustomerHa", propagate: false, why: "x" }] };
    expect(() => deriveScope(withRoot, schema)).toThrow(/ACL entries no call needs: \/ \(NodepointCustomerHa\)/);
  });

  test("customer: without create and delete, VM.Allocate goes from the guests role", () => {
    const def = customerScope();
    const calls = def.calls.filter((c) => !(c.method === "POST" && c.path === "/nodes/{node}/lxc") && !(c.method === "DELETE" && c.path === "/nodes/{node}/lxc/{vmid}"));
    const m = requiredPrivileges(calls, schema);
    expect(m["/vms/1000"]).not.toContain("VM.Allocate");
    expect(m["/pool/customers"]).toBeUndefined();
    expect(m["/storage/local"]).toEqual(["Datastore.Audit"]); // still the template lookup
  });

  test("infrastructure: without backup jobs, node notes, cluster firewall, the router and QEMU startup, Sys.Modify goes", () => {
    const def = infraScope();
    const calls: ApiCall[] = def.calls
      .filter((c) => !c.path.startsWith("/cluster/backup") && !c.path.startsWith("/cluster/firewall") && c.path !== "/nodes/{node}/config" && c.params["vmid"] !== 10001)
      .map((c) => ({ ...c, extra: (c.extra ?? []).filter((e) => !(e.source.kind === "server-code" && e.source.ref.includes("special case for startup"))) }));
    expect(requiredPrivileges(calls, schema)["/"]).toEqual(["Sys.Audit", "Sys.Console"]);
  });

  test("an ACL path reached twice, or not at all, is refused", () => {
    const def = customerScope();
    expect(() => deriveScope({ ...def, acl: [...def.acl, { path: "/storage", role: "X", propagate: true, why: "x" }] }, schema)).toThrow(ScopeDerivationError);
    expect(() => deriveScope({ ...def, acl: def.acl.filter((e) => e.path !== "/storage/local") }, schema)).toThrow(/\/storage\/local \(Datastore.Audit\) is reached by no ACL entry/);
  });
});

describe("documented checks are accounted for", () => {
  for (const def of [infraScope(), customerScope()]) {
    test(`${def.name}: each call to a method with a permission description quotes it in an extra or says why it does not apply`, () => {
      for (const c of def.calls) {
        const description = schema.require(c.method, c.path).permissions?.description;
        if (description === undefined) continue;
        const quoted = (c.extra ?? []).some((e) => e.source.kind === "schema-description" && (e.source.method ?? c.method) === c.method && (e.source.path ?? c.path) === c.path);
        expect(quoted || (c.descriptionReviewed ?? "").length > 0, `${c.method} ${c.path} (${c.why})`).toBe(true);
      }
    });
  }

  test("container create: every description clause is encoded or reviewed", () => {
    const create = customerScope().calls.find((c) => c.method === "POST" && c.path === "/nodes/{node}/lxc");
    const quotes = (create?.extra ?? []).flatMap((e) => (e.source.kind === "schema-description" ? [e.source.quote] : []));
    expect(quotes).toEqual(["You need 'VM.Allocate' permission on /vms/{vmid} or on the VM pool /pool/{pool}.", "You also need 'Datastore.AllocateSpace' permissions on the storage."]);
    expect(create?.descriptionReviewed).toMatch(/unprivileged/);
    const router = infraScope().calls.find((c) => c.method === "POST" && c.path === "/nodes/{node}/lxc" && c.params["vmid"] === 10001);
    expect(router?.extra?.some((e) => e.source.kind === "schema-description" && e.source.quote.includes("For privileged containers"))).toBe(true);
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
        { vmid: 10001, name: "openwrt", node: "node3", privileged: true, startup: true, rootStorage: "local-lvm", templateStorage: "local", nics: [WAN, LAN, DMZ] },
        { vmid: 102, name: "website", node: "node3", privileged: false, startup: false, rootStorage: "local-lvm", templateStorage: "local", nics: [LAN] },
      ],
      vms: [
        { vmid: 100, name: "ispconfig", node: "node2", diskStorage: "local-zfs", nics: [LAN], startup: false, migrate: true },
        { vmid: 107, name: "paymenter", node: "node3", diskStorage: "local-lvm", nics: [LAN], startup: false, migrate: true },
        { vmid: 201, name: "nginx-proxy-manager", node: "node3", diskStorage: "local-lvm", nics: [DMZ, LAN], startup: false, migrate: true },
        { vmid: 8000, name: "ubuntu-24-cloud", node: "node2", diskStorage: "local-zfs", nics: [LAN], startup: false, migrate: false, template: "cloud-init", image: { storage: "local", fileName: "noble-server-cloudimg-amd64.img" } },
        { vmid: 9000, name: "ubuntu-template", node: "node3", diskStorage: "local-lvm", nics: [LAN], startup: false, migrate: false, template: "iso", image: { storage: "local", fileName: "ubuntu-24.04.3-live-server-amd64.iso" } },
      ],
      managedStorages: ["local-zfs", "local-lvm", "local", "backup"],
      lanBridge: "vmbr0",
      customer: { pool: "customers", vmids: { first: 1000, last: 7999 }, storage: "global-lvm", storageType: "drbd", node: "node1" },
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
    const downloads = infraScope().calls.filter((c) => c.path === "/nodes/{node}/storage/{storage}/download-url").map((c) => `${String(c.params["node"])}:${String(c.params["storage"])}`);
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

      test("customer scope: no Sys.*, nothing on `/`, nothing on or reaching an infrastructure VMID", () => {
        const c = derived.customer;
        expect(c.acl.map((e) => e.path)).not.toContain("/");
        expect(c.required["/"]).toBeUndefined();
        expect([...Object.values(c.required).flat(), ...c.roles.flatMap((r) => r.privileges)].filter((p) => p.startsWith("Sys."))).toEqual([]);
        expect(vmids.length).toBeGreaterThan(0);
        const members = customerScopeOf(facts).poolMembers;
        for (const vmid of vmids) {
          expect(Object.keys(c.required)).not.toContain(`/vms/${vmid}`);
          for (const entry of c.acl) expect(aclEntryReaches(entry, `/vms/${vmid}`, members), `${entry.path} -> ${vmid}`).toBe(false);
        }
        expect(c.acl.filter((e) => e.path.startsWith("/vms"))).toEqual([]);
        expect(c.acl.find((e) => e.path === `/pool/${facts.customer.pool}`)?.propagate).toBe(true);
      });

      test("infrastructure scope: Sys.Modify on `/`, one ACL entry per infrastructure VMID", () => {
        expect(derived.infra.required["/"]).toContain("Sys.Modify");
        expect(derived.infra.acl.filter((e) => e.path.startsWith("/vms/")).map((e) => e.path)).toEqual(vmids.map((v) => `/vms/${v}`));
      });

      test("every node gets its notes call; every managed storage and backup job its calls", () => {
        const infraCalls = infraScopeOf(facts).calls;
        const notes = infraCalls.filter((c) => c.method === "PUT" && c.path === "/nodes/{node}/config").map((c) => c.params["node"]);
        expect(notes).toEqual([...facts.nodes]);
        expect(infraCalls.filter((c) => c.method === "POST" && c.path === "/storage").map((c) => c.params["storage"])).toEqual([...facts.managedStorages]);
        expect(infraCalls.filter((c) => c.method === "POST" && c.path === "/cluster/backup").map((c) => `${String(c.params["id"])}:${String(c.params["storage"])}`)).toEqual(facts.backupJobs.map((j) => `${j.id}:${j.storage}`));
      });

      test("every role privilege is one PVE knows", () => {
        for (const scope of [derived.infra, derived.customer]) for (const role of scope.roles) for (const p of role.privileges) expect(schema.knownPrivileges).toContain(p);
      });
    });
  }

  test("bench: its own nodes, VMIDs, storages and bridges, not prod's", () => {
    const bench = stackClusterFacts("bench");
    expect(bench.nodes.length).toBe(21);
    expect(infraVmids(bench)).toEqual([100, 201]);
    const { infra: bi, customer: bc } = deriveScopes(schema, bench);
    expect(bc.acl.map((e) => e.path)).toEqual(["/pool/customers", "/storage/drbd-pool", "/storage/local", "/sdn/zones/localnetwork/vmbr0"]);
    expect(Object.keys(bi.required).filter((p) => p.startsWith("/nodes/")).sort()).toEqual(bench.lxcTemplate.nodes.map((n) => `/nodes/${n}`).sort());
    expect(bi.required["/sdn/zones/localnetwork/vmbr2/100"]).toEqual(["SDN.Use"]);
    for (const p of ["/vms/102", "/vms/107", "/vms/8000", "/vms/9000", "/vms/10001", "/storage/global-lvm", "/storage/local-zfs", "/nodes/node1"]) expect(bi.required[p], p).toBeUndefined();
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
    expect(c.acl.map((e) => e.path)).toEqual(["/pool/tenants", "/storage/global-lvm", "/storage/local", "/sdn/zones/localnetwork/vmbr9"]);
    expect(c.grantedBy["/vms/20000"]).toBe("/pool/tenants");
    expect(customerHaCalls(facts)[0]?.params["sid"]).toBe("ct:20000");
  });
});
