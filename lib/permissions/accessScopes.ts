/**
 * The automation tokens' roles and ACL entries as the program reads them:
 * `lib/permissions/roles.<stack>.generated.json`, one build-time artefact per stack (each stack is
 * one cluster, with its own nodes, VMIDs, storages and bridges).
 *
 * The derivation (`deriveScopes` in scopes.ts) needs the PVE API schema, which lives outside this
 * project (`../shared/contracts/proxmox-ve/api-schema.json`) and may be absent where `pulumi up`
 * runs. So the program never derives anything: `scripts/generate-roles.ts` writes the derived scopes
 * of every `Pulumi.<stack>.yaml` to that stack's JSON file, which is committed, and a test
 * (tests/access.test.ts) fails when a file differs from a fresh derivation. This module imports
 * nothing that reads the schema.
 *
 * The file records the fingerprint of the cluster facts it was derived from (`clusterFactsHash`,
 * computed without the schema). The program recomputes it from the stack's config and refuses a file
 * generated for other facts: a guest added to Pulumi.<stack>.yaml without `npm run roles` would
 * otherwise get no ACL entry, and the first `pulumi up` would fail half-way on a 403.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { StackConfig } from "../config/schema";
import { readGeneratedJson } from "../generatedFile";
import { clusterFactsHash, clusterFactsOf, type ClusterFacts } from "./clusterFacts";
import type { DerivedScope } from "./scopes";

/** The generated file of `stack`, next to this module. */
export function accessScopesFile(stack: string): string {
  return path.join(__dirname, `roles.${stack}.generated.json`);
}

/** The command that regenerates the file (package.json: `"roles": "tsx scripts/generate-roles.ts"`). */
export const GENERATE_COMMAND = "npm run roles";

const privilege = z.string().regex(/^[A-Z][A-Za-z]*(\.[A-Za-z]+)+$/, "must be a PVE privilege such as VM.Audit");
const roleId = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "must be a PVE role id");

const accessRoleSchema = z.strictObject({
  /** Role id (`NodepointCustomerGuests`). */
  name: roleId,
  /** Exactly the derived privileges, sorted, no duplicates. */
  privileges: z
    .array(privilege)
    .min(1)
    .refine((p) => p.every((x, i) => i === 0 || p[i - 1]! < x), "must be sorted and without duplicates"),
});

const accessAclEntrySchema = z.strictObject({
  /** ACL path (`/pool/customers`, `/vms/100`, `/`). */
  path: z.string().regex(/^\/[^\s]*$/, "must be an ACL path"),
  /** One of the scope's roles. */
  role: roleId,
  /** Whether the entry applies below `path` too (and to a pool's members). */
  propagate: z.boolean(),
  /** Why the token needs it. */
  why: z.string().min(1),
});

const accessScopeSchema = z
  .strictObject({
    /** `infrastructure` or `customer`. */
    name: z.enum(["infrastructure", "customer"]),
    /** The automation user, `pulumi-infra@pve`. */
    userId: z.string().regex(/^[^@\s!]+@[^@\s!]+$/, "must be user@realm"),
    /** The token's name under that user (`iac`): the token id is `<userId>!<tokenName>`. */
    tokenName: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]+$/, "must be a PVE token name"),
    roles: z.array(accessRoleSchema).min(1),
    acl: z.array(accessAclEntrySchema).min(1),
  })
  .superRefine((scope, ctx) => {
    const roles = new Set(scope.roles.map((r) => r.name));
    for (const [i, entry] of scope.acl.entries()) {
      if (!roles.has(entry.role))
        ctx.addIssue({
          code: "custom",
          path: ["acl", i, "role"],
          message: `role ${entry.role} is not one of the scope's roles`,
        });
    }
    const paths = scope.acl.map((e) => e.path);
    if (new Set(paths).size !== paths.length)
      ctx.addIssue({ code: "custom", path: ["acl"], message: "an ACL path appears twice" });
  });

const accessScopesFileSchema = z.strictObject({
  $comment: z.string(),
  /** `clusterFactsHash` of the facts the scopes were derived from: sha256 of their stable JSON. */
  clusterFactsSha256: z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in hex"),
  scopes: z
    .array(accessScopeSchema)
    .length(2)
    .refine(
      (s) => s[0]?.name === "infrastructure" && s[1]?.name === "customer",
      "must list the infrastructure scope, then the customer scope",
    )
    .refine(
      (s) => new Set(s.flatMap((x) => x.roles.map((r) => r.name))).size === s.reduce((n, x) => n + x.roles.length, 0),
      "a role name is used by both scopes",
    ),
});

/** One automation token: its user, the roles it needs and where they are granted. */
export type AccessScope = z.infer<typeof accessScopeSchema>;
export type AccessScopeName = AccessScope["name"];
export type AccessScopesFile = z.infer<typeof accessScopesFileSchema>;

function splitTokenId(tokenId: string): { userId: string; tokenName: string } {
  const m = /^([^!]+)!([^!]+)$/.exec(tokenId);
  if (!m) throw new Error(`not a token id (user@realm!name): ${tokenId}`);
  return { userId: m[1]!, tokenName: m[2]! };
}

function accessScopeOf(d: DerivedScope): AccessScope {
  return {
    name: d.name,
    ...splitTokenId(d.tokenId),
    roles: d.roles.map((r) => ({ name: r.name, privileges: [...r.privileges] })),
    acl: d.acl.map((e) => ({ path: e.path, role: e.role, propagate: e.propagate, why: e.why })),
  };
}

/** The file's content for the scopes derived from `facts` (what `scripts/generate-roles.ts` writes). */
export function accessScopesFileOf(
  derived: { infra: DerivedScope; customer: DerivedScope },
  facts: ClusterFacts,
): AccessScopesFile {
  return {
    $comment: `Generated by \`${GENERATE_COMMAND}\` from contracts/proxmox-ve/api-schema.json and Pulumi.<stack>.yaml (lib/permissions/scopes.ts deriveScopes). Do not edit; tests/access.test.ts checks it is current, the program that it was generated for the stack's current cluster facts.`,
    clusterFactsSha256: clusterFactsHash(facts),
    scopes: [accessScopeOf(derived.infra), accessScopeOf(derived.customer)],
  };
}

/** The file's text: stable JSON, two-space indent, final newline. */
export function renderAccessScopesFile(file: AccessScopesFile): string {
  return `${JSON.stringify(accessScopesFileSchema.parse(file), null, 2)}\n`;
}

/**
 * Reads and validates the generated file of `stack` (the current Pulumi stack by default), whose
 * parsed config is `config`. A missing or malformed file, or one generated for other cluster facts
 * than `config` gives, is an error naming the file and the regeneration command.
 */
export function loadAccessScopes(
  config: StackConfig,
  stack: string = pulumi.getStack(),
  file: string = accessScopesFile(stack),
): AccessScope[] {
  const shown = path.relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    throw new Error(
      `${shown} is missing: stack ${stack} has no generated automation roles. Run ${GENERATE_COMMAND} (it writes one file per Pulumi.<stack>.yaml) and commit it`,
    );
  }
  const loaded = readGeneratedJson(file, accessScopesFileSchema, GENERATE_COMMAND);
  const current = clusterFactsHash(clusterFactsOf(config));
  if (loaded.clusterFactsSha256 !== current) {
    throw new Error(
      `${shown} is out of date: it was generated for other cluster facts than Pulumi.${stack}.yaml gives now (guests, nodes, storages, bridges, pool, LXC template, HA or backup jobs changed; facts sha256 ${loaded.clusterFactsSha256.slice(0, 12)}…, now ${current.slice(0, 12)}…), so its roles and ACL entries may miss what the change needs. Run ${GENERATE_COMMAND} and commit it`,
    );
  }
  return loaded.scopes;
}
