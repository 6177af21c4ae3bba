import { describe, expect, test } from "vitest";
import * as path from "node:path";
import {
  DEFAULT_SCHEMA_PATH,
  loadPveApiSchema,
  parsePermissionCheck,
  permissionCheck,
  PveSchemaError,
  pveApiSchemaFromJson,
} from "../../lib/permissions/pveApiSchema";

const schema = loadPveApiSchema();

describe("loading", () => {
  test("the default path is the vendored contracts/proxmox-ve/api-schema.json", () => {
    const projectRoot = path.resolve(__dirname, "..", "..");
    expect(DEFAULT_SCHEMA_PATH).toBe(path.resolve(projectRoot, "contracts", "proxmox-ve", "api-schema.json"));
  });

  test("indexes every method of the tree, once", () => {
    expect(schema.size).toBe(649);
    expect(loadPveApiSchema(DEFAULT_SCHEMA_PATH)).toBe(schema);
    expect(schema.get("GET", "/nodes/{node}/lxc/{vmid}/config")?.name).toBe("vm_config");
    expect(schema.get("PATCH" as "GET", "/version")).toBeUndefined();
    expect(() => schema.require("GET", "/nodes/{node}/lxc/{vmid}/nonsense")).toThrow(PveSchemaError);
  });

  test("knows the privileges a role can hold", () => {
    expect(schema.knownPrivileges).toContain("Sys.AccessNetwork");
    expect(schema.knownPrivileges).toContain("VM.GuestAgent.Audit");
    expect(schema.knownPrivileges).not.toContain("VM.Monitor"); // removed in PVE 9
    expect([...schema.knownPrivileges].sort()).toEqual(schema.knownPrivileges);
  });

  test("rejects JSON that is not the schema", () => {
    expect(() => pveApiSchemaFromJson({})).toThrow(PveSchemaError);
    expect(() =>
      pveApiSchemaFromJson([{ path: "/x", info: { GET: { permissions: { check: ["frobnicate"] } } } }]),
    ).toThrow(/unknown check kind/);
  });
});

describe("permission check trees", () => {
  test("a simple perm", () => {
    expect(permissionCheck("DELETE", "/nodes/{node}/lxc/{vmid}", schema)).toEqual({
      kind: "perm",
      path: "/vms/{vmid}",
      privileges: ["VM.Allocate"],
      any: false,
    });
  });

  test("a perm with any", () => {
    expect(schema.checkOf("GET", "/nodes/{node}/storage/{storage}/content")).toEqual({
      kind: "perm",
      path: "/storage/{storage}",
      privileges: ["Datastore.Audit", "Datastore.AllocateSpace"],
      any: true,
    });
  });

  test("and / or / require_param (container clone)", () => {
    expect(schema.checkOf("POST", "/nodes/{node}/lxc/{vmid}/clone")).toEqual({
      kind: "and",
      checks: [
        { kind: "perm", path: "/vms/{vmid}", privileges: ["VM.Clone"], any: false },
        {
          kind: "or",
          checks: [
            { kind: "perm", path: "/vms/{newid}", privileges: ["VM.Allocate"], any: false },
            { kind: "perm", path: "/pool/{pool}", privileges: ["VM.Allocate"], any: false, requireParam: "pool" },
          ],
        },
      ],
    });
  });

  test("user: all methods have no check, only a description", () => {
    const p = schema.permissionsOf("POST", "/nodes/{node}/lxc");
    expect(p?.check).toBeUndefined();
    expect(p?.user).toBe("all");
    expect(p?.description).toContain("For privileged containers, 'Sys.Modify' permissions on '/' are required.");
  });

  test("user-management checks parse", () => {
    expect(parsePermissionCheck(["userid-group", ["User.Modify"], "groups_param", "create"])).toEqual({
      kind: "userid-group",
      privileges: ["User.Modify"],
      groupsParam: "create",
    });
    expect(schema.checkOf("PUT", "/access/acl")).toEqual({ kind: "perm-modify", path: "{path}" });
  });

  test("malformed checks are errors", () => {
    expect(() => parsePermissionCheck(["perm", "/", []])).toThrow(PveSchemaError);
    expect(() => parsePermissionCheck(["perm", "/", ["Sys.Audit"], "any"])).toThrow(/key\/value/);
    expect(() => parsePermissionCheck(["or"])).toThrow(/empty/);
  });

  test("every check in the schema parses", () => {
    let checks = 0;
    for (const m of schema.methods()) if (m.permissions?.check) checks++;
    expect(checks).toBeGreaterThan(450);
  });
});
