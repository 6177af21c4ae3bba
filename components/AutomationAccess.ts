import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { AccessScope, AccessScopeName } from "../lib/permissions/accessScopes";

export interface AutomationAccessArgs {
  /**
   * The automation tokens to declare, as `loadAccessScopes(config)` reads them from the stack's
   * lib/permissions/roles.<stack>.generated.json: per scope its user, token name, roles (privileges
   * exactly as derived from the PVE API schema for that stack's cluster) and ACL entries.
   */
  scopes: readonly AccessScope[];
  /**
   * The `proxmox-access` provider: the administrator token `nodepoint:proxmoxAccessApiToken`. Never
   * one of the automation tokens declared here (see the class comment).
   */
  provider: pulumi.ProviderResource;
  /**
   * Scopes whose user and token already exist, created by hand to bootstrap (the infrastructure
   * scope: its token must work before the first `pulumi up`), and are adopted with `import`. Their
   * token value cannot be read back: the provider using it takes it from config.
   */
  adopt: readonly AccessScopeName[];
}

/** What one scope's token is, and what must exist before a provider may use it. */
export interface ScopeAccess {
  /** The automation user (`pulumi-infra@pve`), API tokens only: no password. */
  readonly user: proxmoxve.UserLegacy;
  /** Its privilege-separated token (`iac`). */
  readonly token: proxmoxve.user.Token;
  /** `user@realm!name`, as ACL entries and API tokens name it. */
  readonly tokenId: pulumi.Output<string>;
  /** One role per derived role, privileges exactly the derived ones. */
  readonly roles: readonly proxmoxve.RoleLegacy[];
  /** Two per ACL entry: one for the token, one for its user. */
  readonly acls: readonly proxmoxve.Acl[];
  /** Whether the user and token were adopted (`import`) rather than created. */
  readonly adopted: boolean;
}

/**
 * The automation users, their privilege-separated API tokens, their roles and ACL entries, as code.
 *
 * Why a third provider: a token that may edit ACLs (Permissions.Modify) can grant itself anything,
 * and one that may edit roles or users can widen its own role or its user. So neither automation
 * token (`pulumi-infra@pve!iac`, `pulumi-customers@pve!iac`) holds any privilege on `/access`, and
 * neither manages access: everything here is declared with `proxmox-access`, an administrator token.
 *
 * Privilege separation: a privsep token gets the intersection of its own ACL entries and its
 * user's, so every derived entry is applied to both, with the same role and `propagate`.
 *
 * Protection: users and tokens are protected (deleting `pulumi-infra@pve` or its token breaks every
 * deploy; deleting the customer token invalidates the secret the customer provider uses). Roles and
 * ACL entries are not: they are recreated from the generated file at will.
 *
 * Bootstrap (first `pulumi up` on a cluster), see also lib/providers.ts:
 *   1. root@pam creates the administrator token and stores it:
 *      `pveum user add pulumi-access@pve && pveum acl modify / --users pulumi-access@pve --roles Administrator`,
 *      `pveum user token add pulumi-access@pve iac --privsep 0`,
 *      `pulumi config set --secret nodepoint:proxmoxAccessApiToken 'pulumi-access@pve!iac=<secret>'`.
 *   2. root@pam creates the infrastructure user and token, without any ACL:
 *      `pveum user add pulumi-infra@pve && pveum user token add pulumi-infra@pve iac --privsep 1`,
 *      `pulumi config set --secret proxmoxve:apiToken 'pulumi-infra@pve!iac=<secret>'`.
 *   3. `pulumi up`: adopts that user and token (`import`), creates the roles, the ACL entries of both
 *      tokens and the customer user and token. The infrastructure provider waits for its grants, the
 *      customer provider for its grants and for the new token's value (kept as a secret in state).
 * Rotating the customer token. It is protected, and Pulumi refuses to replace a resource that is
 * protected in the state; the engine checks the state's flag, which `pulumi state unprotect`
 * clears. Tokens are declared `deleteBeforeReplace` (PVE refuses a second token with the same id,
 * so create-first replacement would fail):
 *   1. `pulumi stack --show-urns`: the URN of `pulumi-customers-iac` (`proxmoxve:user/token:Token`).
 *   2. `pulumi state unprotect '<URN>'`.
 *   3. `pulumi preview --replace '<URN>'`: it must show the token and its ACL entries replaced and
 *      nothing else (PVE drops a deleted token's entries; their `tokenId` depends on the token and
 *      forces their replacement). Then `pulumi up --replace '<URN>'`: the customer provider takes
 *      the new secret, kept in state, and the token is recorded as protected again.
 *   Customer operations fail between the delete and the new grants: rotate outside deploys.
 * The infrastructure token (adopted, its secret in config): by hand, `pveum user token remove`/`add`
 * with the same name; PVE drops the old token's ACL entries, so re-add each infrastructure entry of
 * roles.<stack>.generated.json for the token (`pveum acl modify <path> --tokens 'pulumi-infra@pve!iac'
 * --roles <role> --propagate <0|1>`), then `pulumi config set --secret proxmoxve:apiToken`.
 */
export class AutomationAccess extends pulumi.ComponentResource {
  private readonly byScope = new Map<AccessScopeName, ScopeAccess>();

  constructor(name: string, args: AutomationAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nodepoint:access:AutomationAccess", name, {}, opts);
    for (const scope of args.scopes) {
      if (this.byScope.has(scope.name)) throw new pulumi.ResourceError(`scope ${scope.name} is listed twice`, this);
      this.byScope.set(scope.name, this.declareScope(scope, args));
    }
    this.registerOutputs({
      tokens: [...this.byScope.values()].map((s) => s.tokenId),
      roles: args.scopes.flatMap((s) => s.roles.map((r) => r.name)),
    });
  }

  /** The declared user, token, roles and ACL entries of a scope. */
  scope(name: AccessScopeName): ScopeAccess {
    const s = this.byScope.get(name);
    if (!s) throw new pulumi.ResourceError(`no ${name} scope was declared`, this);
    return s;
  }

  /** The roles and ACL entries a provider using the scope's token must wait for. */
  grants(name: AccessScopeName): pulumi.Resource[] {
    const s = this.scope(name);
    return [...s.roles, ...s.acls];
  }

  /**
   * The scope's API token, `user@realm!name=secret`, as a Pulumi secret. Only for a token this
   * program created: PVE shows the secret once, at creation, and the provider keeps it in state.
   */
  apiToken(name: AccessScopeName): pulumi.Output<string> {
    const s = this.scope(name);
    if (s.adopted)
      throw new pulumi.ResourceError(
        `the ${name} token was adopted: its value cannot be read back, take it from config`,
        this,
      );
    return pulumi.secret(s.token.value);
  }

  private declareScope(scope: AccessScope, args: AutomationAccessArgs): ScopeAccess {
    const adopted = args.adopt.includes(scope.name);
    const base = { parent: this, provider: args.provider };
    const who = scope.userId.split("@")[0]!;
    const adoptOpts = (importId: string): pulumi.CustomResourceOptions =>
      adopted ? { import: importId, ignoreChanges: ["comment"] } : {};

    const user = new proxmoxve.UserLegacy(
      who,
      {
        userId: scope.userId,
        enabled: true,
        comment: `nodepoint ${scope.name} automation (API token only; managed by Pulumi)`,
      },
      { ...base, protect: true, ...adoptOpts(scope.userId) },
    );
    const token = new proxmoxve.user.Token(
      `${who}-${scope.tokenName}`,
      {
        userId: user.userId,
        tokenName: scope.tokenName,
        privilegesSeparation: true,
        comment: `nodepoint ${scope.name} scope (managed by Pulumi)`,
      },
      // Replacing it (rotation) must delete first: see "Rotating the customer token" above.
      { ...base, protect: true, deleteBeforeReplace: true, ...adoptOpts(`${scope.userId}!${scope.tokenName}`) },
    );
    const tokenId = pulumi.interpolate`${token.userId}!${token.tokenName}`;

    const roles = new Map<string, proxmoxve.RoleLegacy>();
    for (const role of scope.roles) {
      roles.set(
        role.name,
        new proxmoxve.RoleLegacy(
          `role-${role.name}`,
          { roleId: role.name, privileges: [...role.privileges] },
          { ...base, protect: false },
        ),
      );
    }

    const acls: proxmoxve.Acl[] = [];
    for (const entry of scope.acl) {
      const role = roles.get(entry.role);
      if (!role)
        throw new pulumi.ResourceError(
          `${scope.name}: ACL entry on ${entry.path} names the unknown role ${entry.role}`,
          this,
        );
      const common = { path: entry.path, roleId: role.roleId, propagate: entry.propagate };
      const slug = aclSlug(entry.path);
      acls.push(
        new proxmoxve.Acl(`acl-${who}-${slug}`, { ...common, userId: user.userId }, { ...base, protect: false }),
        new proxmoxve.Acl(`acl-${who}-${scope.tokenName}-${slug}`, { ...common, tokenId }, { ...base, protect: false }),
      );
    }
    return { user, token, tokenId, roles: [...roles.values()], acls, adopted };
  }
}

/** `/` → `root`, `/pool/customers` → `pool-customers`, `/sdn/zones/localnetwork/vmbr2/1203` → `sdn-zones-localnetwork-vmbr2-1203`. */
export function aclSlug(aclPath: string): string {
  return aclPath === "/" ? "root" : aclPath.replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9.-]+/g, "-");
}
