/**
 * The Proxmox VE 9.1 REST API schema (`shared/contracts/proxmox-ve/api-schema.json`, the data behind
 * the official API viewer), indexed by HTTP method and path template.
 *
 * The schema is a tree: each node has `path`, optional `info` keyed by HTTP method, and `children`.
 * Every method may carry `permissions`:
 *   - `check`: a tree of `["perm", aclPath, [privileges], ...options]`, `["and", ...]`, `["or", ...]`,
 *     or the special checks `["userid-param", ...]`, `["userid-group", ...]`, `["perm-modify", path]`;
 *     `perm` options come in key/value pairs: `"any", 1` (one of the privileges suffices) and
 *     `"require_param", "pool"` (the branch only applies when that parameter is passed);
 *   - `user: "all"` (any authenticated user: the real checks are in the code) or `"world"`;
 *   - `description`: text, often describing checks the code makes beyond `check`.
 * A method without `permissions` at all is reserved to root@pam.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { PVE_API_SCHEMA_PATH } from "../contracts";

/** The vendored `contracts/proxmox-ve/api-schema.json` (see contracts/README.md). */
export const DEFAULT_SCHEMA_PATH = PVE_API_SCHEMA_PATH;

export const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One node of a permission check tree, parsed from the schema's array form. */
export type PermissionCheck =
  | {
      readonly kind: "perm";
      /** ACL path template, e.g. `/vms/{vmid}`. */
      readonly path: string;
      readonly privileges: readonly string[];
      /** `any => 1`: one of `privileges` suffices; otherwise all of them are needed. */
      readonly any: boolean;
      /** `require_param => X`: this check only applies when parameter X is given. */
      readonly requireParam?: string;
    }
  | { readonly kind: "and"; readonly checks: readonly PermissionCheck[] }
  | { readonly kind: "or"; readonly checks: readonly PermissionCheck[] }
  /** `["userid-param", "self" | privilege]`: on the user named by the `userid` parameter (or its realm). */
  | { readonly kind: "userid-param"; readonly arg: string }
  /** `["userid-group", [privileges], "groups_param", mode]`: on `/access/groups/<group>` of the user. */
  | { readonly kind: "userid-group"; readonly privileges: readonly string[]; readonly groupsParam?: string }
  /** `["perm-modify", path]`: the right to modify permissions on `path`. */
  | { readonly kind: "perm-modify"; readonly path: string };

export interface MethodPermissions {
  readonly check?: PermissionCheck;
  /** `all`: any authenticated user or token (the checks happen in code); `world`: even unauthenticated. */
  readonly user?: "all" | "world";
  /** Free text; often the only place a check made in code is documented. */
  readonly description?: string;
}

/** A parameter's JSON schema as the API viewer holds it (only the fields this project reads are typed). */
export interface ApiParameter {
  readonly type?: string;
  readonly description?: string;
  /** A named format (`pve-vmid`, `dns-name`) or, for property strings, the sub-properties. */
  readonly format?: string | Readonly<Record<string, ApiParameter>>;
  readonly typetext?: string;
  readonly minimum?: number | string;
  readonly maximum?: number | string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly default?: unknown;
  readonly optional?: number;
  readonly [key: string]: unknown;
}

export interface ApiMethod {
  readonly method: HttpMethod;
  /** Path template, e.g. `/nodes/{node}/lxc/{vmid}/config`. */
  readonly path: string;
  readonly name?: string;
  readonly description?: string;
  /** Undefined when the method declares no permissions (root@pam only). */
  readonly permissions?: MethodPermissions;
  readonly parameters: Readonly<Record<string, ApiParameter>>;
  readonly returns?: unknown;
}

/** Thrown for a schema that does not have the shape described above. */
export class PveSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PveSchemaError";
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** Parses one check in the schema's array form (also used for the extra checks scopes document). */
export function parsePermissionCheck(raw: unknown, where = "check"): PermissionCheck {
  if (!Array.isArray(raw) || typeof raw[0] !== "string")
    throw new PveSchemaError(`${where}: not a check array: ${JSON.stringify(raw)}`);
  const [head, ...rest] = raw as [string, ...unknown[]];
  switch (head) {
    case "and":
    case "or":
      if (rest.length === 0) throw new PveSchemaError(`${where}: empty '${head}'`);
      return { kind: head, checks: rest.map((c, i) => parsePermissionCheck(c, `${where}.${head}[${i}]`)) };
    case "perm": {
      const [aclPath, privileges, ...options] = rest;
      if (typeof aclPath !== "string" || !isStringArray(privileges) || privileges.length === 0)
        throw new PveSchemaError(`${where}: malformed perm check ${JSON.stringify(raw)}`);
      if (options.length % 2 !== 0)
        throw new PveSchemaError(`${where}: perm options must be key/value pairs: ${JSON.stringify(raw)}`);
      let any = false;
      let requireParam: string | undefined;
      for (let i = 0; i < options.length; i += 2) {
        const key = options[i];
        const value = options[i + 1];
        if (key === "any") any = Boolean(value);
        else if (key === "require_param" && typeof value === "string") requireParam = value;
        else throw new PveSchemaError(`${where}: unknown perm option ${JSON.stringify(key)} in ${JSON.stringify(raw)}`);
      }
      return {
        kind: "perm",
        path: aclPath,
        privileges: [...privileges],
        any,
        ...(requireParam !== undefined ? { requireParam } : {}),
      };
    }
    case "userid-param": {
      const [arg] = rest;
      if (typeof arg !== "string") throw new PveSchemaError(`${where}: malformed userid-param ${JSON.stringify(raw)}`);
      return { kind: "userid-param", arg };
    }
    case "userid-group": {
      const [privileges, key, value] = rest;
      if (!isStringArray(privileges))
        throw new PveSchemaError(`${where}: malformed userid-group ${JSON.stringify(raw)}`);
      return {
        kind: "userid-group",
        privileges: [...privileges],
        ...(key === "groups_param" && typeof value === "string" ? { groupsParam: value } : {}),
      };
    }
    case "perm-modify": {
      const [aclPath] = rest;
      if (typeof aclPath !== "string")
        throw new PveSchemaError(`${where}: malformed perm-modify ${JSON.stringify(raw)}`);
      return { kind: "perm-modify", path: aclPath };
    }
    default:
      throw new PveSchemaError(`${where}: unknown check kind '${head}'`);
  }
}

function parsePermissions(raw: unknown, where: string): MethodPermissions | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) throw new PveSchemaError(`${where}: permissions is not an object`);
  const user = raw["user"];
  if (user !== undefined && user !== "all" && user !== "world")
    throw new PveSchemaError(`${where}: unknown permissions.user ${JSON.stringify(user)}`);
  const description = raw["description"];
  return {
    ...(raw["check"] !== undefined ? { check: parsePermissionCheck(raw["check"], `${where} permissions.check`) } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(typeof description === "string" ? { description } : {}),
  };
}

function methodKey(method: HttpMethod, pathTemplate: string): string {
  return `${method} ${pathTemplate}`;
}

/** The API schema, indexed. Build it with `loadPveApiSchema` or `pveApiSchemaFromJson`. */
export class PveApiSchema {
  private readonly byKey = new Map<string, ApiMethod>();
  /** Every privilege PVE knows (the properties of a role, `GET /access/roles/{roleid}`), sorted. */
  readonly knownPrivileges: readonly string[];

  constructor(methods: Iterable<ApiMethod>) {
    for (const m of methods) {
      const key = methodKey(m.method, m.path);
      if (this.byKey.has(key)) throw new PveSchemaError(`duplicate method ${key}`);
      this.byKey.set(key, m);
    }
    const roleReturns = this.byKey.get(methodKey("GET", "/access/roles/{roleid}"))?.returns;
    const props =
      isRecord(roleReturns) && isRecord(roleReturns["properties"]) ? Object.keys(roleReturns["properties"]) : [];
    if (props.length === 0) throw new PveSchemaError("GET /access/roles/{roleid} does not list the privileges");
    this.knownPrivileges = props.sort();
  }

  /** Number of (method, path) pairs. */
  get size(): number {
    return this.byKey.size;
  }

  get(method: HttpMethod, pathTemplate: string): ApiMethod | undefined {
    return this.byKey.get(methodKey(method, pathTemplate));
  }

  /** Like `get`, but an unknown method is an error (a typo in a scope must not go unnoticed). */
  require(method: HttpMethod, pathTemplate: string): ApiMethod {
    const m = this.get(method, pathTemplate);
    if (!m) throw new PveSchemaError(`the PVE API has no ${method} ${pathTemplate}`);
    return m;
  }

  methods(): IterableIterator<ApiMethod> {
    return this.byKey.values();
  }

  /**
   * A method's permission declaration: its check tree, `user`, and description. Undefined when the
   * method declares none (root@pam only).
   */
  permissionsOf(method: HttpMethod, pathTemplate: string): MethodPermissions | undefined {
    return this.require(method, pathTemplate).permissions;
  }

  /** A method's permission check tree (undefined for `user: all/world` methods and root-only ones). */
  checkOf(method: HttpMethod, pathTemplate: string): PermissionCheck | undefined {
    return this.permissionsOf(method, pathTemplate)?.check;
  }

  /** A method's parameter, e.g. (`POST`, `/nodes/{node}/lxc`, `vmid`); an unknown one is an error. */
  parameter(method: HttpMethod, pathTemplate: string, name: string): ApiParameter {
    const p = this.require(method, pathTemplate).parameters[name];
    if (!p) throw new PveSchemaError(`${method} ${pathTemplate} has no parameter '${name}'`);
    return p;
  }
}

/** Indexes the parsed JSON of the schema (the top-level array of path nodes). */
export function pveApiSchemaFromJson(json: unknown): PveApiSchema {
  if (!Array.isArray(json)) throw new PveSchemaError("the schema's top level is not an array of path nodes");
  const methods: ApiMethod[] = [];
  const walk = (node: unknown): void => {
    if (!isRecord(node)) throw new PveSchemaError("a path node is not an object");
    const nodePath = node["path"];
    if (typeof nodePath !== "string") throw new PveSchemaError("a path node has no path");
    const info = node["info"];
    if (isRecord(info)) {
      for (const [httpMethod, raw] of Object.entries(info)) {
        if (!(HTTP_METHODS as readonly string[]).includes(httpMethod))
          throw new PveSchemaError(`${nodePath}: unknown HTTP method ${httpMethod}`);
        if (!isRecord(raw)) throw new PveSchemaError(`${httpMethod} ${nodePath}: not an object`);
        const where = `${httpMethod} ${nodePath}`;
        const params =
          isRecord(raw["parameters"]) && isRecord(raw["parameters"]["properties"])
            ? raw["parameters"]["properties"]
            : {};
        const permissions = parsePermissions(raw["permissions"], where);
        methods.push({
          method: httpMethod as HttpMethod,
          path: nodePath,
          ...(typeof raw["name"] === "string" ? { name: raw["name"] } : {}),
          ...(typeof raw["description"] === "string" ? { description: raw["description"] } : {}),
          ...(permissions ? { permissions } : {}),
          parameters: params as Record<string, ApiParameter>,
          ...(raw["returns"] !== undefined ? { returns: raw["returns"] } : {}),
        });
      }
    }
    const children = node["children"];
    if (Array.isArray(children)) children.forEach(walk);
  };
  json.forEach(walk);
  return new PveApiSchema(methods);
}

const cache = new Map<string, PveApiSchema>();

/** Reads and indexes the schema file (once per path; the file is 1.2 MB of JSON). */
export function loadPveApiSchema(file: string = DEFAULT_SCHEMA_PATH): PveApiSchema {
  const resolved = path.resolve(file);
  let schema = cache.get(resolved);
  if (!schema) {
    schema = pveApiSchemaFromJson(JSON.parse(readFileSync(resolved, "utf8")) as unknown);
    cache.set(resolved, schema);
  }
  return schema;
}

/** Shorthand: the permission check tree of one method in the default schema. */
export function permissionCheck(
  method: HttpMethod,
  pathTemplate: string,
  schema: PveApiSchema = loadPveApiSchema(),
): PermissionCheck | undefined {
  return schema.checkOf(method, pathTemplate);
}
