import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { AutomationAccessPlan, Role, TokenAccess } from "../lib/permissions/access";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { formerlyNamed } from "./childNames";

export interface AutomationAccessArgs {
  /**
   * What to declare, as `automationAccess(config)` (lib/permissions/access.ts) gives it: per automation
   * token its user, token name and grants (role, path, propagate), and the pools guests are granted through.
   */
  access: AutomationAccessPlan;
  /**
   * Tokens whose user and token already exist, created by hand to bootstrap (the infrastructure token
   * must work before the first `pulumi up`), and are adopted with `import`. Their token value cannot be
   * read back: the provider using it takes it from config.
   */
  adopt: readonly TokenAccess["name"][];
}

/** What one token is, and what must exist before a provider may use it. */
export interface TokenResources {
  /** The automation user (`pulumi-infra@pve`), API tokens only: no password. */
  readonly user: proxmoxve.UserLegacy;
  /** Its privilege-separated token (`iac`). */
  readonly token: proxmoxve.user.Token;
  /** `user@realm!name`, as ACL entries and API tokens name it. */
  readonly tokenId: pulumi.Output<string>;
  /** Two per grant: one for the token, one for its user. */
  readonly acls: readonly proxmoxve.Acl[];
}

/**
 * The automation users, their privilege-separated API tokens, their roles, ACL entries, and the pools
 * guests are granted through (with the memberships of guests that already exist), all declared with
 * the administrator provider passed in the resource options (`proxmox-access`): a token that may
 * edit ACLs, roles, users or pools can grant itself anything, so neither automation token may.
 *
 * A privilege-separated token gets the intersection of its own ACL entries and its user's, so every
 * grant is applied to both. Users, tokens and pools are protected; roles, ACL entries and memberships
 * are recreated from lib/permissions/access.ts at will. Bootstrap and token rotation: README,
 * "Running it for real".
 */
export class AutomationAccess extends pulumi.ComponentResource {
  private readonly tokens = new Map<TokenAccess["name"], TokenResources>();
  private readonly roles = new Map<string, proxmoxve.RoleLegacy>();
  private readonly poolResources = new Map<string, { pool: proxmoxve.PoolLegacy; members: pulumi.Resource[] }>();
  private readonly componentName: string;

  constructor(name: string, args: AutomationAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.automationAccess, name, {}, opts);
    this.componentName = name;
    for (const p of args.access.pools) {
      const [poolName, poolOpts] = this.child(`pool-${p.id}`);
      const pool = new proxmoxve.PoolLegacy(
        poolName,
        { poolId: p.id, comment: p.comment },
        { ...poolOpts, protect: true },
      );
      // Guests that exist join by a membership: `poolId` on the guest would replace it (lib/providerFacts.ts).
      const members = p.members.map(
        (m) =>
          new proxmoxve.pool.Membership(
            ...this.child(`pool-${p.id}-${m.vmid}-${m.name}`, { poolId: pool.poolId, vmId: m.vmid }),
          ),
      );
      this.poolResources.set(p.id, { pool, members });
    }
    for (const token of args.access.tokens) {
      if (this.tokens.has(token.name)) throw new pulumi.ResourceError(`token ${token.name} is listed twice`, this);
      this.tokens.set(token.name, this.declareToken(token, args.adopt.includes(token.name)));
    }
    this.registerOutputs({
      tokens: [...this.tokens.values()].map((t) => t.tokenId),
      roles: [...this.roles.keys()],
      pools: [...this.poolResources.keys()],
    });
  }

  /** The declared user, token and ACL entries of a token. */
  token(name: TokenAccess["name"]): TokenResources {
    const t = this.tokens.get(name);
    if (!t) throw new pulumi.ResourceError(`no ${name} token was declared`, this);
    return t;
  }

  /**
   * What a provider using the token must wait for: the roles and ACL entries, and every pool with its
   * memberships (the grants reach guests only through them).
   */
  grants(name: TokenAccess["name"]): pulumi.Resource[] {
    const pools = [...this.poolResources.values()].flatMap((p) => [p.pool, ...p.members]);
    return [...this.roles.values(), ...this.token(name).acls, ...pools];
  }

  /** The pool resource of `id` (guests created in it depend on it). */
  pool(id: string): proxmoxve.PoolLegacy {
    const p = this.poolResources.get(id);
    if (!p) throw new pulumi.ResourceError(`no pool ${id} was declared`, this);
    return p.pool;
  }

  /**
   * A child's name from the component's (`<component>-<former>`) and its options: parented here,
   * with the alias of the name it had before, so its URN is kept. With `args`, the constructor's
   * three arguments.
   */
  private child(former: string): [string, { parent: pulumi.Resource } & ReturnType<typeof formerlyNamed>];
  private child<A>(
    former: string,
    args: A,
  ): [string, A, { parent: pulumi.Resource } & ReturnType<typeof formerlyNamed>];
  private child(former: string, ...args: unknown[]): unknown[] {
    return [`${this.componentName}-${former}`, ...args, { parent: this, ...formerlyNamed(former) }];
  }

  private role(role: Role): proxmoxve.RoleLegacy {
    const known = this.roles.get(role.id);
    if (known) return known;
    const created = new proxmoxve.RoleLegacy(
      ...this.child(`role-${role.id}`, { roleId: role.id, privileges: [...role.privileges].sort() }),
    );
    this.roles.set(role.id, created);
    return created;
  }

  private declareToken(access: TokenAccess, adopted: boolean): TokenResources {
    const who = access.userId.split("@")[0]!;
    const adoptOpts = (importId: string): pulumi.CustomResourceOptions =>
      adopted ? { import: importId, ignoreChanges: ["comment"] } : {};

    const [userName, userOpts] = this.child(who);
    const user = new proxmoxve.UserLegacy(
      userName,
      {
        userId: access.userId,
        enabled: true,
        comment: `nodepoint ${access.name} automation (API token only; managed by Pulumi)`,
      },
      { ...userOpts, protect: true, ...adoptOpts(access.userId) },
    );
    const [tokenName, tokenOpts] = this.child(`${who}-${access.tokenName}`);
    const token = new proxmoxve.user.Token(
      tokenName,
      {
        userId: user.userId,
        tokenName: access.tokenName,
        privilegesSeparation: true,
        comment: `nodepoint ${access.name} token (managed by Pulumi)`,
      },
      // Replacing it (rotation) must delete first: PVE refuses a second token with the same id.
      {
        ...tokenOpts,
        protect: true,
        deleteBeforeReplace: true,
        ...adoptOpts(`${access.userId}!${access.tokenName}`),
      },
    );
    const tokenId = pulumi.interpolate`${token.userId}!${token.tokenName}`;

    const paths = access.grants.map((g) => g.path);
    const acls = access.grants.flatMap((grant) => {
      const role = this.role(grant.role);
      const common = { path: grant.path, roleId: role.roleId, propagate: grant.propagate };
      // A path with several grants names the role too, so every entry has its own name.
      const slug = `${aclSlug(grant.path)}${paths.filter((p) => p === grant.path).length > 1 ? `-${grant.role.id}` : ""}`;
      return [
        new proxmoxve.Acl(...this.child(`acl-${who}-${slug}`, { ...common, userId: user.userId })),
        new proxmoxve.Acl(...this.child(`acl-${who}-${access.tokenName}-${slug}`, { ...common, tokenId })),
      ];
    });
    return { user, token, tokenId, acls };
  }
}

/** `/` → `root`, `/pool/customers` → `pool-customers`, `/sdn/zones/localnetwork/vmbr2/1203` → `sdn-zones-localnetwork-vmbr2-1203`. */
export function aclSlug(aclPath: string): string {
  return aclPath === "/" ? "root" : aclPath.replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9.-]+/g, "-");
}
