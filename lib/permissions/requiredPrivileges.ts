/**
 * Which privileges, on which ACL paths, a list of PVE API calls needs. Pure: the schema is passed in
 * (see `loadPveApiSchema`), nothing is read or written.
 *
 * For each call, the method's `permissions.check` from the schema is evaluated with the call's
 * concrete parameters: `/vms/{vmid}` becomes `/vms/1000`; `and` needs every branch; `or` needs one
 * branch, the one the call chooses (default: the first applicable); a `perm` with `any` needs one of
 * its privileges, the one the call chooses (default: the first).
 *
 * Checks the API only makes in code, and documents in a `description` text or not at all (container
 * create needs `Datastore.AllocateSpace` on the storage, privileged containers need `Sys.Modify` on
 * `/`, ...), are added per call as `extra` requirements, each with its source. A source quoting the
 * schema is verified: the quote must appear verbatim in that method's permission description.
 */
import {
  parsePermissionCheck,
  type ApiMethod,
  type HttpMethod,
  type PermissionCheck,
  type PveApiSchema,
} from "./pveApiSchema";

/** Where an extra requirement is written down. */
export type RequirementSource =
  /** A verbatim quote of a method's `permissions.description` (default: the call's own method). */
  | {
      readonly kind: "schema-description";
      readonly quote: string;
      readonly method?: HttpMethod;
      readonly path?: string;
    }
  /** A check the server code makes that no schema text states; `ref` names the code. */
  | { readonly kind: "server-code"; readonly ref: string };

/** A schema text that documents a requirement as well (verified like a `schema-description` source). */
export interface SchemaQuote {
  readonly method: HttpMethod;
  readonly path: string;
  readonly quote: string;
}

export interface ExtraRequirement {
  /** The check, in the schema's array form: `["perm", "/storage/{storage}", ["Datastore.AllocateSpace"]]`, `["or", ...]`. */
  readonly check: readonly unknown[];
  /** What in this call triggers it (which parameter, which situation). */
  readonly because: string;
  readonly source: RequirementSource;
  /** Other schema texts saying the same (e.g. the clone call stating what create leaves unsaid). */
  readonly alsoDocumented?: readonly SchemaQuote[];
  /** Choices for this check's alternatives (default: the call's `choose`). */
  readonly choose?: Choices;
}

/** How to resolve the alternatives a check leaves open. */
export interface Choices {
  /**
   * At each `or`, prefer the branch that contains a `perm` on one of these path templates
   * (e.g. `/pool/{pool}`, `/nodes/{node}`). Tried before `or`.
   */
  readonly orPath?: readonly string[];
  /** Branch index at each `or`: one number for every `or`, or one per `or` in evaluation order (the method's check and each extra count separately). */
  readonly or?: number | readonly number[];
  /** At each `perm` with `any`: use those of its privileges listed here (default: its first). */
  readonly any?: readonly string[];
}

/** One API call a scope makes, with concrete parameters. */
export interface ApiCall {
  readonly method: HttpMethod;
  /** Path template as in the schema, e.g. `/nodes/{node}/lxc/{vmid}/config`. */
  readonly path: string;
  /** Concrete values for the path's and the ACL paths' placeholders (node, vmid, storage, pool, bridge, ...). */
  readonly params: Readonly<Record<string, string | number>>;
  /** Why the scope makes this call (which resource, which operation). */
  readonly why: string;
  readonly choose?: Choices;
  /** Checks made in code, beyond `permissions.check`. */
  readonly extra?: readonly ExtraRequirement[];
  /**
   * For a method whose permission description states conditions: why none of them adds a
   * requirement for this call (when no `extra` quotes that description).
   */
  readonly descriptionReviewed?: string;
}

/** One privilege needed on one concrete ACL path, and who needs it. */
export interface Requirement {
  readonly aclPath: string;
  readonly privilege: string;
  readonly call: ApiCall;
  /** `check`: the schema's `permissions.check`; `extra`: one of the call's extra requirements. */
  readonly origin: "check" | "extra";
  readonly extra?: ExtraRequirement;
}

/** ACL path → sorted privileges; keys in sorted order. */
export type PrivilegeMap = Readonly<Record<string, readonly string[]>>;

/** Thrown when a call cannot be evaluated (unknown method, missing parameter, bad choice, bad quote). */
export class PermissionEvaluationError extends Error {
  constructor(call: Pick<ApiCall, "method" | "path" | "why">, message: string) {
    super(`${call.method} ${call.path} (${call.why}): ${message}`);
    this.name = "PermissionEvaluationError";
  }
}

/** Replaces `{name}` by the call's parameter; every placeholder must have a value. */
export function substituteParams(
  template: string,
  params: Readonly<Record<string, string | number>>,
  call: Pick<ApiCall, "method" | "path" | "why">,
): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined)
      throw new PermissionEvaluationError(call, `ACL path ${template} needs parameter '${name}'`);
    return String(value);
  });
}

interface EvalContext {
  readonly call: ApiCall;
  readonly schema: PveApiSchema;
  readonly choose: Choices | undefined;
  orIndex: number;
}

function permPaths(check: PermissionCheck): string[] {
  switch (check.kind) {
    case "perm":
      return [check.path];
    case "and":
    case "or":
      return check.checks.flatMap(permPaths);
    default:
      return [];
  }
}

/** A branch whose `require_param` parameters are missing from the call does not apply. */
function applicable(check: PermissionCheck, params: Readonly<Record<string, string | number>>): boolean {
  switch (check.kind) {
    case "perm":
      return check.requireParam === undefined || params[check.requireParam] !== undefined;
    case "and":
      return check.checks.every((c) => applicable(c, params));
    case "or":
      return check.checks.some((c) => applicable(c, params));
    default:
      return true;
  }
}

function chooseBranch(check: Extract<PermissionCheck, { kind: "or" }>, ctx: EvalContext): PermissionCheck {
  const { call } = ctx;
  const position = ctx.orIndex++;
  const preferred = ctx.choose?.orPath ?? [];
  for (const p of preferred) {
    const branch = check.checks.find((b) => permPaths(b).includes(p) && applicable(b, call.params));
    if (branch) return branch;
  }
  const wanted = ctx.choose?.or;
  const index = typeof wanted === "number" ? wanted : wanted?.[position];
  if (index !== undefined) {
    const branch = check.checks[index];
    if (!branch) throw new PermissionEvaluationError(call, `'or' #${position} has no branch ${index}`);
    if (!applicable(branch, call.params))
      throw new PermissionEvaluationError(
        call,
        `'or' #${position} branch ${index} needs a parameter the call does not pass`,
      );
    return branch;
  }
  const first = check.checks.find((b) => applicable(b, call.params));
  if (!first) throw new PermissionEvaluationError(call, `no branch of 'or' #${position} applies`);
  return first;
}

function evaluate(
  check: PermissionCheck,
  ctx: EvalContext,
  origin: "check" | "extra",
  extra?: ExtraRequirement,
): Requirement[] {
  const { call, schema } = ctx;
  switch (check.kind) {
    case "and":
      return check.checks.flatMap((c) => evaluate(c, ctx, origin, extra));
    case "or":
      return evaluate(chooseBranch(check, ctx), ctx, origin, extra);
    case "perm": {
      if (check.requireParam !== undefined && call.params[check.requireParam] === undefined)
        throw new PermissionEvaluationError(call, `check on ${check.path} requires parameter '${check.requireParam}'`);
      for (const p of check.privileges)
        if (!schema.knownPrivileges.includes(p)) throw new PermissionEvaluationError(call, `unknown privilege '${p}'`);
      let privileges: readonly string[] = check.privileges;
      if (check.any) {
        const picked = check.privileges.filter((p) => ctx.choose?.any?.includes(p));
        privileges = picked.length > 0 ? picked : check.privileges.slice(0, 1);
      }
      const aclPath = substituteParams(check.path, call.params, call);
      return privileges.map((privilege) => ({ aclPath, privilege, call, origin, ...(extra ? { extra } : {}) }));
    }
    default:
      // userid-param, userid-group and perm-modify are about managing users and ACLs, which neither
      // token does (the ACLs are set up by root@pam): evaluating them would need the user database.
      throw new PermissionEvaluationError(call, `'${check.kind}' checks are not supported`);
  }
}

function verifyQuote(
  schema: PveApiSchema,
  call: ApiCall,
  q: { method?: HttpMethod; path?: string; quote: string },
): void {
  const method = q.method ?? call.method;
  const pathTemplate = q.path ?? call.path;
  const description = schema.get(method, pathTemplate)?.permissions?.description;
  if (description === undefined)
    throw new PermissionEvaluationError(call, `${method} ${pathTemplate} has no permission description to quote`);
  if (q.quote.trim() === "" || !description.includes(q.quote))
    throw new PermissionEvaluationError(
      call,
      `the permission description of ${method} ${pathTemplate} does not say: ${JSON.stringify(q.quote)}`,
    );
}

/** The schema method a call refers to; unknown methods and root-only ones are errors. */
export function methodOf(call: ApiCall, schema: PveApiSchema): ApiMethod {
  const m = schema.get(call.method, call.path);
  if (!m) throw new PermissionEvaluationError(call, "not a method of the PVE API");
  if (!m.permissions)
    throw new PermissionEvaluationError(call, "the method declares no permissions: only root@pam may call it");
  return m;
}

/** Every privilege one call needs, each with its origin. */
export function callRequirements(call: ApiCall, schema: PveApiSchema): Requirement[] {
  const m = methodOf(call, schema);
  const out: Requirement[] = [];
  const check = m.permissions?.check;
  if (check) out.push(...evaluate(check, { call, schema, choose: call.choose, orIndex: 0 }, "check"));
  for (const extra of call.extra ?? []) {
    if (extra.source.kind === "schema-description") verifyQuote(schema, call, extra.source);
    for (const q of extra.alsoDocumented ?? []) verifyQuote(schema, call, q);
    const ctx: EvalContext = { call, schema, choose: extra.choose ?? call.choose, orIndex: 0 };
    out.push(
      ...evaluate(parsePermissionCheck(extra.check, `extra of ${call.method} ${call.path}`), ctx, "extra", extra),
    );
  }
  return out;
}

/** Folds requirements into ACL path → sorted privileges (keys sorted too). */
export function privilegeMapOf(requirements: Iterable<Requirement>): PrivilegeMap {
  const acc = new Map<string, Set<string>>();
  for (const r of requirements) {
    let set = acc.get(r.aclPath);
    if (!set) acc.set(r.aclPath, (set = new Set()));
    set.add(r.privilege);
  }
  const out: Record<string, readonly string[]> = {};
  for (const key of [...acc.keys()].sort()) out[key] = [...(acc.get(key) ?? [])].sort();
  return out;
}

/** Every requirement of every call. */
export function allRequirements(calls: readonly ApiCall[], schema: PveApiSchema): Requirement[] {
  return calls.flatMap((c) => callRequirements(c, schema));
}

/** ACL path → sorted privilege set that `calls` need together. */
export function requiredPrivileges(calls: readonly ApiCall[], schema: PveApiSchema): PrivilegeMap {
  return privilegeMapOf(allRequirements(calls, schema));
}

/** The calls (and reasons) that need `privilege` on `aclPath`. */
export function whoNeeds(
  calls: readonly ApiCall[],
  schema: PveApiSchema,
  aclPath: string,
  privilege: string,
): Requirement[] {
  return allRequirements(calls, schema).filter((r) => r.aclPath === aclPath && r.privilege === privilege);
}
