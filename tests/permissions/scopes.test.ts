import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { loadPveApiSchema } from "../../lib/permissions/pveApiSchema";
import { callRequirements, privilegeMapOf, requiredPrivileges, type ApiCall } from "../../lib/permissions/requiredPrivileges";
import {
  aclEntryReaches,
  BACKUP_JOBS,
  CUSTOMER_POOL,
  CUSTOMER_STORAGE,
  CUSTOMER_VMIDS,
  customerHaCalls,
  customerScope,
  deriveScope,
  deriveScopes,
  HA_RULE,
  INFRA_CONTAINERS,
  INFRA_VMIDS,
  INFRA_VMS,
  infraScope,
  LAN_BRIDGE,
  MANAGED_STORAGES,
  ScopeDerivationError,
  TEMPLATE_STORAGE,
  WAN,
  type DerivedScope,
  type ScopeDefinition,
} from "../../lib/permissions/scopes";

const schema = loadPveApiSchema();
const { infra, customer } = deriveScopes(schema);

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
    const withHa: ScopeDefinition = { ...def, calls: [...def.calls, ...customerHaCalls()] };
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
        // the privileged OpenWrt router (schema description of container create)
        "POST /nodes/{node}/lxc 10001",
        // QEMU `startup` (qemu-server code; LXC's startup is only VM.Config.Options)
        "POST /nodes/{node}/qemu 100",
        "POST /nodes/{node}/qemu 107",
        "POST /nodes/{node}/qemu 201",
        "POST /nodes/{node}/qemu/{vmid}/config 100",
        "POST /nodes/{node}/qemu/{vmid}/config 107",
        "POST /nodes/{node}/qemu/{vmid}/config 201",
        "PUT /nodes/{node}/qemu/{vmid}/config 100",
        "PUT /nodes/{node}/qemu/{vmid}/config 107",
        "PUT /nodes/{node}/qemu/{vmid}/config 201",
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

describe("the scopes match Pulumi.prod.yaml", () => {
  const stack = parseYaml(readFileSync(path.resolve(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
  const cfg = (k: string) => stack.config[`nodepoint:${k}`] as never;

  test("infrastructure guests", () => {
    const guests = cfg("guests") as Array<{ kind: string; vmid: number; node: string; privileged?: boolean; startupOrder?: number }>;
    expect([...guests.map((g) => g.vmid)].sort((a, b) => a - b)).toEqual(INFRA_VMIDS);
    for (const g of guests) {
      const ct = INFRA_CONTAINERS.find((c) => c.vmid === g.vmid);
      const vm = INFRA_VMS.find((v) => v.vmid === g.vmid);
      expect(ct ?? vm, String(g.vmid)).toBeDefined();
      expect((ct ?? vm)?.node).toBe(g.node);
      expect((ct ?? vm)?.startup).toBe(g.startupOrder !== undefined);
      if (ct) expect(ct.privileged).toBe(g.privileged === true);
      if (vm) expect(vm.template !== undefined).toBe(g.kind === "vm-template");
    }
  });

  test("pools, storages, networks, HA, backups", () => {
    const pools = cfg("customerPools") as { vmids: { first: number; last: number }; storage: string; proxmoxPool?: string };
    expect(CUSTOMER_VMIDS).toEqual(pools.vmids);
    expect(CUSTOMER_STORAGE).toBe(pools.storage);
    expect(CUSTOMER_POOL).toBe(pools.proxmoxPool ?? "customers");
    expect(TEMPLATE_STORAGE).toBe((cfg("lxcTemplate") as { storage: string }).storage);
    const networks = cfg("networks") as { lan: { bridge: string }; wan: { bridge: string; vlanId: number } };
    expect(LAN_BRIDGE).toBe(networks.lan.bridge);
    expect(WAN).toEqual({ bridge: networks.wan.bridge, vlan: networks.wan.vlanId });
    expect(HA_RULE).toBe((cfg("ha") as { name: string }).name);
    const storages = cfg("storage") as Array<{ id: string; type: string }>;
    expect([...MANAGED_STORAGES].sort()).toEqual(storages.filter((s) => s.type !== "drbd").map((s) => s.id).sort());
    expect([...BACKUP_JOBS].sort()).toEqual((cfg("backupJobs") as Array<{ id: string }>).map((j) => j.id).sort());
  });
});
