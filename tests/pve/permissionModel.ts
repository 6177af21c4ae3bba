/**
 * PVE's permission evaluation, as its code does it (pve-access-control 9.1): the test oracle for the
 * automation tokens' grants. Every rule here is one recorded in ../shared/reality/proxmox-permissions.md,
 * with the source line that decides:
 *
 * - roles along a path (AccessControl.pm `roles`): walking from `/` to the path, the entries of the
 *   user (or token) at a level replace what the levels above gave; an entry applies at its own path,
 *   and below it only with `propagate`;
 * - pools (RPCEnvironment.pm `compile_acl_path`): the roles a user has on `/pool/<pool>` itself
 *   (whatever their `propagate`) apply to `/vms/<member>` and `/storage/<member>`, unless the path's own
 *   ACL already sets that role;
 * - privilege-separated tokens (`compile_acl_path`): the token's privileges intersected with its user's;
 * - `check_vm_perm(vmid, pool)`: `/pool/<pool>` when a pool is passed, else `/vms/<vmid>`;
 * - destroying a guest (AccessControl.pm `remove_vm_access`) deletes every ACL entry on
 *   `/vms/<vmid>` and its pool membership.
 */

export interface AclEntry {
  readonly path: string;
  /** `user@realm` or a token `user@realm!name`. */
  readonly ugid: string;
  readonly role: string;
  readonly propagate: boolean;
}

/** The access configuration of a cluster (user.cfg), as far as these checks need it. */
export interface AccessState {
  roles: Map<string, ReadonlySet<string>>;
  acl: AclEntry[];
  /** Privilege-separated tokens. */
  privsepTokens: Set<string>;
  pools: Map<string, { vms: Set<number>; storage: Set<string> }>;
}

export function emptyAccessState(): AccessState {
  return { roles: new Map(), acl: [], privsepTokens: new Set(), pools: new Map() };
}

const levels = (path: string): string[] => {
  const parts = path.split("/").filter(Boolean);
  return ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
};

/** Roles of `ugid` on `path` from the ACL alone (no pools), each with its propagate flag. */
export function aclRoles(state: AccessState, ugid: string, path: string): Map<string, boolean> {
  let roles = new Map<string, boolean>();
  const walk = levels(path);
  walk.forEach((level, i) => {
    const final = i === walk.length - 1;
    const entries = state.acl.filter((e) => e.ugid === ugid && e.path === level && (final || e.propagate));
    if (entries.length > 0) roles = new Map(entries.map((e) => [e.role, e.propagate]));
  });
  return roles;
}

function privilegesOf(state: AccessState, roles: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const r of roles) for (const p of state.roles.get(r) ?? []) out.add(p);
  return out;
}

/** Roles of `ugid` on `path`, pools included. */
function rolesWithPools(state: AccessState, ugid: string, path: string): Set<string> {
  const roles = new Set(aclRoles(state, ugid, path).keys());
  const vm = /^\/vms\/(\d+)$/.exec(path);
  const storage = /^\/storage\/([^/]+)$/.exec(path);
  for (const [pool, members] of state.pools) {
    const member = vm ? members.vms.has(Number(vm[1])) : storage ? members.storage.has(storage[1]!) : false;
    if (!member) continue;
    for (const r of aclRoles(state, ugid, `/pool/${pool}`).keys()) roles.add(r);
  }
  return roles;
}

/** The privileges `ugid` (a user or a token) holds on `path`. */
export function privileges(state: AccessState, ugid: string, path: string): Set<string> {
  const own = privilegesOf(state, rolesWithPools(state, ugid, path));
  const token = /^([^!]+)!/.exec(ugid);
  if (!token || !state.privsepTokens.has(ugid)) return token ? privileges(state, token[1]!, path) : own;
  const user = privileges(state, token[1]!, path);
  return new Set([...own].filter((p) => user.has(p)));
}

/** `$rpcenv->check` (all privileges) or `check_any` (`any`). */
export function check(state: AccessState, ugid: string, path: string, privs: readonly string[], any = false): boolean {
  const held = privileges(state, ugid, path);
  return any ? privs.some((p) => held.has(p)) : privs.every((p) => held.has(p));
}

/** `$rpcenv->check_vm_perm`: the pool when one is passed, else the guest's own path. */
export function checkVmPerm(
  state: AccessState,
  ugid: string,
  vmid: number,
  pool: string | undefined,
  privs: readonly string[],
): boolean {
  if (pool && check(state, ugid, `/pool/${pool}`, privs)) return true;
  return check(state, ugid, `/vms/${vmid}`, privs);
}

/** What PVE does to access data when a guest is destroyed. */
export function destroyGuest(state: AccessState, vmid: number): void {
  state.acl = state.acl.filter((e) => e.path !== `/vms/${vmid}` && !e.path.startsWith(`/vms/${vmid}/`));
  for (const members of state.pools.values()) members.vms.delete(vmid);
}

/** `add_vm_to_pool`, at the end of a create with `pool`, or a pool membership. */
export function addToPool(state: AccessState, pool: string, vmid: number): void {
  const members = state.pools.get(pool);
  if (!members) throw new Error(`pool ${pool} does not exist`);
  for (const m of state.pools.values()) m.vms.delete(vmid);
  members.vms.add(vmid);
}
