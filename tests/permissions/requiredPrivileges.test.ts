import { describe, expect, test } from "vitest";
import { loadPveApiSchema } from "../../lib/permissions/pveApiSchema";
import {
  callRequirements,
  PermissionEvaluationError,
  requiredPrivileges,
  substituteParams,
  whoNeeds,
  type ApiCall,
} from "../../lib/permissions/requiredPrivileges";

const schema = loadPveApiSchema();
const call = (c: Omit<ApiCall, "why"> & { why?: string }): ApiCall => ({ why: "test", ...c });

describe("substitution", () => {
  test("fills placeholders with the call's values", () => {
    expect(substituteParams("/vms/{vmid}", { vmid: 1000 }, call({ method: "GET", path: "/version", params: {} }))).toBe(
      "/vms/1000",
    );
    expect(
      substituteParams(
        "/sdn/zones/localnetwork/{bridge}",
        { bridge: "vmbr0" },
        call({ method: "GET", path: "/version", params: {} }),
      ),
    ).toBe("/sdn/zones/localnetwork/vmbr0");
  });

  test("a missing value is an error naming it", () => {
    expect(() =>
      requiredPrivileges(
        [call({ method: "GET", path: "/nodes/{node}/lxc/{vmid}/config", params: { node: "node1" } })],
        schema,
      ),
    ).toThrow(/needs parameter 'vmid'/);
  });
});

describe("evaluation", () => {
  test("a perm check on concrete paths", () => {
    const calls = [
      call({ method: "GET", path: "/nodes/{node}/lxc/{vmid}/config", params: { node: "node1", vmid: 1000 } }),
      call({ method: "POST", path: "/nodes/{node}/lxc/{vmid}/status/start", params: { node: "node1", vmid: 1000 } }),
      call({ method: "PUT", path: "/storage/{storage}", params: { storage: "local" } }),
    ];
    expect(requiredPrivileges(calls, schema)).toEqual({
      "/storage": ["Datastore.Allocate"],
      "/vms/1000": ["VM.Audit", "VM.PowerMgmt"],
    });
  });

  test("user: all without a check needs nothing", () => {
    expect(
      requiredPrivileges(
        [
          call({ method: "GET", path: "/version", params: {} }),
          call({ method: "GET", path: "/cluster/nextid", params: {} }),
        ],
        schema,
      ),
    ).toEqual({});
  });

  test("and needs every branch; or takes the first applicable branch by default", () => {
    const clone = call({
      method: "POST",
      path: "/nodes/{node}/lxc/{vmid}/clone",
      params: { node: "node1", vmid: 9000, newid: 1001 },
    });
    expect(requiredPrivileges([clone], schema)).toEqual({ "/vms/1001": ["VM.Allocate"], "/vms/9000": ["VM.Clone"] });
  });

  test("or: a branch by path, by index; require_param is honoured", () => {
    const params = { node: "node1", vmid: 9000, newid: 1001, pool: "customers" };
    const byPath = call({
      method: "POST",
      path: "/nodes/{node}/lxc/{vmid}/clone",
      params,
      choose: { orPath: ["/pool/{pool}"] },
    });
    expect(requiredPrivileges([byPath], schema)).toEqual({
      "/pool/customers": ["VM.Allocate"],
      "/vms/9000": ["VM.Clone"],
    });
    const byIndex = call({ method: "POST", path: "/nodes/{node}/lxc/{vmid}/clone", params, choose: { or: 1 } });
    expect(requiredPrivileges([byIndex], schema)).toEqual(requiredPrivileges([byPath], schema));
    const noPool = call({
      method: "POST",
      path: "/nodes/{node}/lxc/{vmid}/clone",
      params: { node: "node1", vmid: 9000, newid: 1001 },
      choose: { or: 1 },
    });
    expect(() => requiredPrivileges([noPool], schema)).toThrow(/needs a parameter/);
    const outOfRange = call({ method: "POST", path: "/nodes/{node}/lxc/{vmid}/clone", params, choose: { or: 5 } });
    expect(() => requiredPrivileges([outOfRange], schema)).toThrow(/no branch 5/);
  });

  test("an or whose branches need several privileges (download-url)", () => {
    const params = { node: "node2", storage: "local" };
    expect(
      requiredPrivileges(
        [call({ method: "POST", path: "/nodes/{node}/storage/{storage}/download-url", params })],
        schema,
      ),
    ).toEqual({ "/": ["Sys.Audit", "Sys.Modify"], "/storage/local": ["Datastore.AllocateTemplate"] });
    expect(
      requiredPrivileges(
        [
          call({
            method: "POST",
            path: "/nodes/{node}/storage/{storage}/download-url",
            params,
            choose: { orPath: ["/nodes/{node}"] },
          }),
        ],
        schema,
      ),
    ).toEqual({ "/nodes/node2": ["Sys.AccessNetwork"], "/storage/local": ["Datastore.AllocateTemplate"] });
  });

  test("any: the first privilege by default, or the chosen ones", () => {
    const params = { node: "node1", storage: "local" };
    expect(
      requiredPrivileges([call({ method: "GET", path: "/nodes/{node}/storage/{storage}/content", params })], schema),
    ).toEqual({ "/storage/local": ["Datastore.Audit"] });
    expect(
      requiredPrivileges(
        [
          call({
            method: "GET",
            path: "/nodes/{node}/storage/{storage}/content",
            params,
            choose: { any: ["Datastore.AllocateSpace"] },
          }),
        ],
        schema,
      ),
    ).toEqual({ "/storage/local": ["Datastore.AllocateSpace"] });
  });

  test("user-management checks are refused, root-only methods too", () => {
    expect(() =>
      requiredPrivileges([call({ method: "PUT", path: "/access/acl", params: { path: "/vms/100" } })], schema),
    ).toThrow(/'perm-modify' checks are not supported/);
    expect(() =>
      requiredPrivileges([call({ method: "GET", path: "/cluster/backup-info", params: {} })], schema),
    ).toThrow(/only root@pam/);
    expect(() => requiredPrivileges([call({ method: "GET", path: "/no/such/path", params: {} })], schema)).toThrow(
      PermissionEvaluationError,
    );
  });
});

describe("extra requirements", () => {
  const create = (extra: ApiCall["extra"]): ApiCall =>
    call({
      method: "POST",
      path: "/nodes/{node}/lxc",
      params: { node: "node1", vmid: 1000, storage: "global-lvm" },
      extra,
    });

  test("are evaluated like schema checks", () => {
    const c = create([
      {
        check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]],
        because: "rootfs",
        source: {
          kind: "schema-description",
          quote: "You also need 'Datastore.AllocateSpace' permissions on the storage.",
        },
      },
    ]);
    expect(requiredPrivileges([c], schema)).toEqual({ "/storage/global-lvm": ["Datastore.AllocateSpace"] });
    const [r] = callRequirements(c, schema);
    expect(r?.origin).toBe("extra");
    expect(whoNeeds([c], schema, "/storage/global-lvm", "Datastore.AllocateSpace")).toHaveLength(1);
  });

  test("a quote must be in the method's permission description", () => {
    const c = create([
      {
        check: ["perm", "/", ["Sys.Modify"]],
        because: "x",
        source: { kind: "schema-description", quote: "Sys.Modify is needed for everything." },
      },
    ]);
    expect(() => requiredPrivileges([c], schema)).toThrow(/does not say/);
    const elsewhere = create([
      {
        check: ["perm", "/", ["Sys.Modify"]],
        because: "x",
        source: { kind: "server-code", ref: "x" },
        alsoDocumented: [{ method: "GET", path: "/version", quote: "x" }],
      },
    ]);
    expect(() => requiredPrivileges([elsewhere], schema)).toThrow(/no permission description/);
  });

  test("an unknown privilege is an error", () => {
    const c = create([
      { check: ["perm", "/", ["Sys.Modfy"]], because: "typo", source: { kind: "server-code", ref: "x" } },
    ]);
    expect(() => requiredPrivileges([c], schema)).toThrow(/unknown privilege 'Sys.Modfy'/);
  });

  test("an extra's own choices win over the call's", () => {
    const c = call({
      method: "GET",
      path: "/nodes/{node}/storage/{storage}/content",
      params: { node: "node1", storage: "local" },
      choose: { any: ["Datastore.AllocateSpace"] },
      extra: [
        {
          check: ["perm", "/storage/{storage}", ["Datastore.AllocateSpace", "Datastore.Audit"], "any", 1],
          because: "x",
          source: { kind: "server-code", ref: "x" },
          choose: { any: ["Datastore.Audit"] },
        },
      ],
    });
    expect(requiredPrivileges([c], schema)).toEqual({
      "/storage/local": ["Datastore.AllocateSpace", "Datastore.Audit"],
    });
  });
});
