/**
 * An in-memory Proxmox VE API (`/api2/json`) on 127.0.0.1 for the calls the program makes itself:
 * storage definitions (`GET /storage`) and backup jobs (`/cluster/backup`). It answers as PVE's code
 * does, failures included (../shared/reality/proxmox-permissions.md and the handlers: pve-storage
 * API2/Storage/Config.pm, pve-manager API2/Backup.pm, pve-http-server's JSON formatter):
 *
 * - API tokens (`Authorization: PVEAPIToken=user@realm!name=secret`); a wrong one is a 401;
 * - every request checked against the PVE API schema (unknown method, unknown or malformed
 *   parameter: 400 "Parameter verification failed." with `errors` per parameter), every success
 *   answer against its `returns`;
 * - the handlers' real privilege checks, run through PVE's permission rules
 *   (tests/pve/permissionModel.ts) on the access data it is given; a refusal is a 403 "Permission
 *   check failed (<path>, <privilege>)"; `GET /storage` lists only what the token may audit;
 * - the handlers' answers: a job created twice is a 500 "Job 'x' already exists", reading or deleting
 *   a missing job a 400 with `errors.id` "No such job 'x'", updating one a 500 "no such vzdump job";
 *   root-only backup options (tmpdir, dumpdir, script) are a 400 for a token; a job's guest selection
 *   as PVE/VZDump.pm verify_vzdump_parameters and API2/Backup.pm update_job handle it (all, vmid and
 *   pool exclusive; a new pool or vmid replaces the old selection), and a pool selection needs the
 *   pool to exist and VM.Backup on it;
 * - containers (pve-container API2/LXC/Status.pm, API2/LXC/Snapshot.pm): status, start, stop,
 *   shutdown, reboot, snapshots (list, create, delete, rollback), each a worker task whose status
 *   (`/nodes/{node}/tasks/{upid}/status`) its owner reads; PVE's refusals with PVE's words, answered
 *   at once where the handler checks before forking ("CT 1001 already running", the reserved names)
 *   and as the task's exit status where the worker does ("CT is locked (backup)", "snapshot 'x' does
 *   not exist", "snapshot name 'x' already used");
 *   a call sent to a node the container is not on fails as PVE's does (its config is not there); an
 *   HA-managed container's start and stop only ask the HA manager (`hastart`/`hastop` tasks), and the
 *   container changes state a moment later; rollback stops a running container itself;
 * - guests (`GET /cluster/resources`, filtered by VM.Audit, the `pool` field only with Pool.Audit on
 *   it) and pools (`GET /pools?poolid=`: its members; pve-manager API2/Pool.pm drops the result of
 *   its Pool.Audit check there, this fake enforces it, so a grant the documentation asks for stays
 *   needed should PVE fix that);
 * - the shapes PVE returns: storage entries with `content` and `nodes` as comma lists (no `nodes` for a
 *   storage on every node), `digest`; jobs with `type: vzdump`, `prune-backups` as an object,
 *   `next-run`.
 *
 * It serves HTTPS with a self-signed certificate made with openssl for the run, as PVE's nodes do
 * (the program connects with `insecure: true`). Every exchange is recorded, with any schema problem,
 * so tests can assert that none arose.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { HttpMethod } from "../../lib/permissions/pveApiSchema";
import { check, type AccessState } from "./permissionModel";
import { loadPveContract, type PveContract } from "./pveContract";

/** A storage.cfg entry as the API returns it (PVE's field names, values as PVE encodes them). */
export type StorageEntry = Record<string, string | number>;
/** A jobs.cfg vzdump entry, as stored (property strings as PVE keeps them). */
export type JobEntry = Record<string, string | number>;

/** A snapshot in a guest's config. */
export interface FakeSnapshot {
  description: string;
  snaptime: number;
  parent?: string;
}

/** A guest of the cluster (the vmlist entry and what its config says). */
export interface FakeGuest {
  vmid: number;
  type: "lxc" | "qemu";
  node: string;
  /** Host name (lxc) or VM name. */
  name: string;
  status: "running" | "stopped";
  template?: boolean;
  /** An HA resource: start and stop only request a state from the HA manager, which acts later. */
  ha?: boolean;
  /** Config lock (e.g. `backup`, `snapshot`), refusing most operations. */
  lock?: string;
  snapshots: Map<string, FakeSnapshot>;
  /** The snapshot the current state descends from. */
  parent?: string;
}

/** The seed's guests, as vmlist and their configs hold them. */
export const SEED_GUESTS: ReadonlyArray<Omit<FakeGuest, "snapshots">> = [
  { vmid: 100, type: "qemu", node: "node2", name: "ispconfig", status: "running" },
  { vmid: 107, type: "qemu", node: "node3", name: "paymenter", status: "running" },
  { vmid: 201, type: "qemu", node: "node3", name: "nginx-proxy-manager", status: "running" },
  { vmid: 8000, type: "qemu", node: "node2", name: "ubuntu-24-cloud", status: "stopped", template: true },
  { vmid: 9000, type: "qemu", node: "node3", name: "ubuntu-template", status: "stopped", template: true },
  { vmid: 10001, type: "lxc", node: "node3", name: "openwrt", status: "running" },
  { vmid: 102, type: "lxc", node: "node3", name: "website", status: "running" },
];

export interface RecordedPveExchange {
  method: string;
  path: string;
  params: Record<string, string>;
  token: string | undefined;
  status: number;
  body: unknown;
  /** Schema problems of the request or the answer. */
  contractProblems: string[];
}

export interface FakePveOptions {
  /** Token id → secret. */
  tokens: Record<string, string>;
  /** The access data (roles, ACL entries, pools) the permission checks run on; absent: every check passes. */
  access?: AccessState;
}

let certificate: { key: Buffer; cert: Buffer } | undefined;
/** A self-signed certificate for 127.0.0.1, made once per process. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  if (certificate) return certificate;
  const dir = mkdtempSync(join(tmpdir(), "fake-pve-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  if (!existsSync(cert)) throw new Error("openssl made no certificate for the fake PVE");
  certificate = { key: readFileSync(key), cert: readFileSync(cert) };
  return certificate;
}

const ROOT_ONLY_BACKUP_OPTIONS = ["tmpdir", "dumpdir", "script", "job-id"];

class PveAnswer {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly errors?: Record<string, string>,
  ) {}
}

const paramError = (errors: Record<string, string>) => new PveAnswer(400, "Parameter verification failed.", errors);
const permError = (path: string, priv: string) => new PveAnswer(403, `Permission check failed (${path}, ${priv})`);

/** `prune-backups=keep-daily=7,keep-weekly=4` → `{ "keep-daily": 7, "keep-weekly": 4 }` (as PVE returns it). */
function pruneObject(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split(",")
      .filter(Boolean)
      .map((kv) => kv.split("="))
      .map(([k, v]) => [k!, Number(v)]),
  );
}

/** A worker task: who started it, and how it ended. */
interface FakeTask {
  node: string;
  user: string;
  type: string;
  id: string;
  /** Status reads left before it reports stopped. */
  runningFor: number;
  exitstatus: string;
  /** What happens to the cluster when the task is seen to stop (an HA request carried out later). */
  then?: () => void;
}

export class FakePveServer {
  readonly storages = new Map<string, StorageEntry>();
  readonly tasks = new Map<string, FakeTask>();
  /** Fails the next task of this type (`vzsnapshot`, `vzrollback`, ...) with this exit status. */
  readonly failNextTask = new Map<string, string>();
  /** HA requests not carried out yet: the state, and status reads until it is. */
  private readonly haPending = new Map<number, { to: "running" | "stopped"; reads: number }>();
  private taskCounter = 0;
  readonly jobs = new Map<string, JobEntry>();
  readonly guests = new Map<number, FakeGuest>();
  /** Pools (user.cfg) when no access data is given; with access data, its pools are the cluster's. */
  private readonly ownPools = new Map<string, { vms: Set<number>; storage: Set<string> }>();
  readonly exchanges: RecordedPveExchange[] = [];
  private server: Server | undefined;
  private port = 0;
  private readonly contract: PveContract = loadPveContract();

  constructor(readonly options: FakePveOptions) {}

  /** The API endpoint, as `nodepoint:proxmox.endpoint` gives PVE's. */
  get endpoint(): string {
    return `https://127.0.0.1:${this.port}/`;
  }

  /** A fake already listening. */
  static async start(options: FakePveOptions): Promise<FakePveServer> {
    const fake = new FakePveServer(options);
    await fake.listen();
    return fake;
  }

  /**
   * The live cluster as far as this API goes: the seed's storage.cfg (a storage on every node has no
   * `nodes` line) and the backup jobs Pulumi.prod.yaml adopts, as jobs.cfg would hold them.
   */
  liveCluster(): this {
    this.storages.set("local", { type: "dir", path: "/var/lib/vz", content: "iso,vztmpl,backup,snippets" });
    this.storages.set("local-zfs", {
      type: "zfspool",
      pool: "rpool/data",
      content: "images,rootdir",
      nodes: "node1,node2",
      sparse: 1,
    });
    this.storages.set("local-lvm", {
      type: "lvmthin",
      vgname: "pve",
      thinpool: "data",
      content: "rootdir,images",
      nodes: "node3",
    });
    this.storages.set("backup", {
      type: "dir",
      path: "/backup/vzdump",
      content: "backup",
      "prune-backups": "keep-all=1",
    });
    this.storages.set("global-lvm", { type: "drbd", content: "images,rootdir", nodes: "node1,node2", shared: 1 });
    this.storages.set("node3-backup", {
      type: "nfs",
      server: "192.168.1.5",
      export: "/backup/customers",
      path: "/mnt/pve/node3-backup",
      content: "backup",
      nodes: "node1,node2",
    });
    for (const g of SEED_GUESTS) this.guests.set(g.vmid, { ...g, snapshots: new Map() });
    // The infrastructure pool once the access provider has run (its memberships); without access data, here.
    if (!this.options.access) {
      this.ownPools.set("infrastructure", { vms: new Set(SEED_GUESTS.map((g) => g.vmid)), storage: new Set() });
      this.ownPools.set("customers", { vms: new Set(), storage: new Set() });
    }
    const job = (node: string, schedule: string, prune: string): JobEntry => ({
      schedule,
      storage: "backup",
      node,
      all: 1,
      mode: "snapshot",
      compress: "zstd",
      "prune-backups": prune,
      enabled: 1,
    });
    this.jobs.set("nightly-node3", job("node3", "02:30", "keep-daily=7,keep-monthly=3,keep-weekly=4"));
    this.jobs.set("nightly-node1", job("node1", "01:30", "keep-daily=7,keep-weekly=4"));
    this.jobs.set("nightly-node2", job("node2", "03:30", "keep-daily=7,keep-weekly=4"));
    return this;
  }

  async listen(): Promise<void> {
    this.server = createServer(selfSigned(), (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  reset(): void {
    this.storages.clear();
    this.jobs.clear();
    this.guests.clear();
    this.ownPools.clear();
    this.tasks.clear();
    this.failNextTask.clear();
    this.haPending.clear();
    this.exchanges.length = 0;
  }

  /** The cluster's pools (user.cfg). */
  get pools(): Map<string, { vms: Set<number>; storage: Set<string> }> {
    return this.options.access?.pools ?? this.ownPools;
  }

  /** Adds a guest (in `pool`, as a create with `pool` or a membership leaves it). */
  addGuest(guest: Omit<FakeGuest, "snapshots"> & { snapshots?: FakeGuest["snapshots"] }, pool?: string): FakeGuest {
    const g: FakeGuest = { ...guest, snapshots: guest.snapshots ?? new Map() };
    this.guests.set(g.vmid, g);
    if (pool) {
      if (!this.pools.has(pool)) this.pools.set(pool, { vms: new Set(), storage: new Set() });
      for (const members of this.pools.values()) members.vms.delete(g.vmid);
      this.pools.get(pool)!.vms.add(g.vmid);
    }
    return g;
  }

  /** The pool a guest is in (user.cfg `vms`). */
  poolOf(vmid: number): string | undefined {
    return [...this.pools.entries()].find(([, m]) => m.vms.has(vmid))?.[0];
  }

  /** Every schema problem of the recorded exchanges. */
  contractProblems(): string[] {
    return this.exchanges.flatMap((e) => e.contractProblems.map((p) => `${e.method} ${e.path}: ${p}`));
  }

  private tokenOf(req: IncomingMessage): string | PveAnswer {
    const header = req.headers.authorization ?? "";
    const m = /^PVEAPIToken=([^=]+)=(.+)$/.exec(header);
    if (!m || this.options.tokens[m[1]!] !== m[2]) return new PveAnswer(401, "invalid token value!");
    return m[1]!;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const url = new URL(req.url ?? "/", "http://fake");
    const method = (req.method ?? "GET") as HttpMethod;
    const path = url.pathname.replace(/^\/api2\/json/, "");
    const params = Object.fromEntries(new URLSearchParams(method === "GET" ? url.search : raw));
    const problems: string[] = [];
    const token = this.tokenOf(req);
    let answer: { status: number; body: unknown };
    const result = typeof token === "string" ? this.route(method, path, params, token, problems) : token;
    if (result instanceof PveAnswer) {
      answer = {
        status: result.status,
        body: { data: null, message: `${result.message}\n`, ...(result.errors ? { errors: result.errors } : {}) },
      };
      res.statusMessage = result.message;
    } else {
      problems.push(...this.contract.validateResponse(method, path, result));
      answer = { status: 200, body: { data: result } };
    }
    this.exchanges.push({
      method,
      path,
      params,
      token: typeof token === "string" ? token : undefined,
      status: answer.status,
      body: answer.body,
      contractProblems: problems,
    });
    res.writeHead(answer.status, { "Content-Type": "application/json;charset=UTF-8" });
    res.end(JSON.stringify(answer.body));
  }

  private can(token: string, path: string, privs: string[], any = false): boolean {
    return this.options.access ? check(this.options.access, token, path, privs, any) : true;
  }

  private route(
    method: HttpMethod,
    path: string,
    params: Record<string, string>,
    token: string,
    problems: string[],
  ): unknown {
    const job = /^\/cluster\/backup\/([^/]+)$/.exec(path);
    const all = job ? { ...params, id: decodeURIComponent(job[1]!) } : params;
    const invalid = this.contract.validateRequest(method, path, all);
    if (invalid === "unknown") {
      problems.push(`${method} ${path} is not a method of the PVE API`);
      return new PveAnswer(501, `Method '${method} /api2/json${path}' not implemented`);
    }
    if (Object.keys(invalid).length > 0) {
      problems.push(`request: ${JSON.stringify(invalid)}`);
      return paramError(invalid);
    }
    if (method === "GET" && path === "/storage") return this.listStorage(token, params["type"]);
    if (method === "GET" && path === "/pools") return this.listPools(token, params["poolid"]);
    if (method === "GET" && path === "/cluster/resources") return this.listResources(token, params["type"]);
    const task = /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/status$/.exec(path);
    if (task && method === "GET") return this.taskStatus(token, task[1]!, decodeURIComponent(task[2]!));
    const lxc = /^\/nodes\/([^/]+)\/lxc\/(\d+)\/(status\/[a-z]+|snapshot(?:\/([^/]+)(?:\/(rollback))?)?)$/.exec(path);
    if (lxc)
      return this.container(
        method,
        token,
        lxc[1]!,
        Number(lxc[2]),
        lxc[3]!,
        params,
        lxc[4] && decodeURIComponent(lxc[4]),
        lxc[5],
      );
    if (path === "/cluster/backup" && method === "GET")
      return this.can(token, "/", ["Sys.Audit"]) ? this.listJobs() : permError("/", "Sys.Audit");
    if (path === "/cluster/backup" && method === "POST") return this.createJob(token, params);
    if (job && method === "GET") return this.readJob(token, all.id!);
    if (job && method === "PUT") return this.updateJob(token, all.id!, params);
    if (job && method === "DELETE") return this.deleteJob(token, all.id!);
    return new PveAnswer(501, `fake PVE: ${method} ${path} is not implemented here`);
  }

  /** API2/Storage/Config.pm index: entries the token may audit, as $api_storage_config returns them. */
  private listStorage(token: string, type?: string): unknown {
    const digest = createHash("sha1")
      .update(JSON.stringify([...this.storages.entries()]))
      .digest("hex");
    return [...this.storages.entries()]
      .filter(([id]) => this.can(token, `/storage/${id}`, ["Datastore.Audit", "Datastore.AllocateSpace"], true))
      .filter(([, s]) => !type || s["type"] === type)
      .map(([id, s]) => ({ ...s, storage: id, digest }));
  }

  /**
   * Starts a worker task (RPCEnvironment fork_worker) and returns its UPID. `work` runs when the task
   * is seen to stop: what it throws is the task's exit status (PVE's `die` inside the worker), so
   * refusals raised there (a lock, a missing snapshot) reach the caller through the task, not the answer.
   */
  private startTask(node: string, type: string, id: string, user: string, work?: () => void): string {
    const n = ++this.taskCounter;
    const hex = (v: number) => v.toString(16).toUpperCase().padStart(8, "0");
    const upid = `UPID:${node}:${hex(40000 + n)}:${hex(9_000_000 + n)}:${hex(1_790_000_000 + n)}:${type}:${id}:${user}:`;
    const failure = this.failNextTask.get(type);
    if (failure) this.failNextTask.delete(type);
    this.tasks.set(upid, {
      node,
      user,
      type,
      id,
      runningFor: 1,
      exitstatus: failure ?? "OK",
      ...(work && !failure ? { then: work } : {}),
    });
    return upid;
  }

  /**
   * API2/Tasks.pm read_task_status: the owner reads it (a token its own tasks, a user its own and its
   * tokens'), others need Sys.Audit on the node; a token's task names the user and the token apart.
   */
  private taskStatus(token: string, node: string, upid: string): unknown {
    const t = this.tasks.get(upid);
    if (!t || t.node !== node) return paramError({ upid: "no such task" });
    const owner = token === t.user || token === t.user.split("!")[0];
    if (!owner && !this.can(token, `/nodes/${node}`, ["Sys.Audit"])) return permError(`/nodes/${node}`, "Sys.Audit");
    const running = t.runningFor > 0;
    if (running) t.runningFor--;
    else if (t.then) {
      const work = t.then;
      delete t.then;
      try {
        work();
      } catch (err) {
        t.exitstatus = (err as Error).message;
      }
    }
    return {
      upid,
      node,
      pid: 40000,
      pstart: 9_000_000,
      starttime: 1_790_000_000,
      type: t.type,
      id: t.id,
      user: t.user.split("!")[0],
      ...(t.user.includes("!") ? { tokenid: t.user.split("!")[1] } : {}),
      status: running ? "running" : "stopped",
      ...(running ? {} : { exitstatus: t.exitstatus }),
    };
  }

  /**
   * pve-container's status (API2/LXC/Status.pm) and snapshot (API2/LXC/Snapshot.pm) handlers, for one
   * container. What those handlers check before fork_worker is answered at once (permissions, "already
   * running", "not running", the reserved names); what the worker checks (pve-guest-common
   * AbstractConfig.pm: the config lock, a snapshot name already used or missing) ends the task with
   * PVE's words.
   */
  private container(
    method: HttpMethod,
    token: string,
    node: string,
    vmid: number,
    what: string,
    params: Record<string, string>,
    snapname: string | undefined,
    rollback: string | undefined,
  ): unknown {
    const g = this.guests.get(vmid);
    // load_config on the node the call was sent to (proxyto => 'node'): nothing there.
    if (!g || g.type !== "lxc" || g.node !== node)
      return new PveAnswer(500, `Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`);
    const need = (privs: string[], any = false): PveAnswer | undefined =>
      this.can(token, `/vms/${vmid}`, privs, any) ? undefined : permError(`/vms/${vmid}`, privs.join("|"));
    /** AbstractConfig check_lock, inside the worker. */
    const checkLock = () => {
      if (g.lock) throw new Error(`CT is locked (${g.lock})`);
    };
    const snapshotExists = (name: string) => {
      if (!g.snapshots.has(name)) throw new Error(`snapshot '${name}' does not exist`);
    };
    const truthy = (v: string | undefined) => /^(1|true|yes|on)$/i.test(v ?? "");
    const task = (type: string, work?: () => void) => this.startTask(node, type, String(vmid), token, work);

    if (what === "status/current" && method === "GET") {
      const refused = need(["VM.Audit"]);
      if (refused) return refused;
      // The HA manager carries out a requested state a little after the hastart/hastop task ended.
      const pending = this.haPending.get(vmid);
      if (pending && pending.reads-- <= 0) {
        g.status = pending.to;
        this.haPending.delete(vmid);
      }
      return { vmid, status: g.status, name: g.name, ha: { managed: g.ha ? 1 : 0 } };
    }
    if (what.startsWith("status/") && method === "POST") {
      const refused = need(["VM.PowerMgmt"]);
      if (refused) return refused;
      const action = what.slice("status/".length);
      // An HA-managed container's start and stop only ask the HA manager (ha-manager set / crm-command
      // stop), which acts later; no lock is checked on that path.
      const haRequest = (type: string, to: "running" | "stopped") =>
        task(type, () => void this.haPending.set(vmid, { to, reads: 1 }));
      if (action === "start") {
        if (g.status === "running") return new PveAnswer(500, `CT ${vmid} already running`);
        if (g.ha) return haRequest("hastart", "running");
        return task("vzstart", () => {
          checkLock();
          g.status = "running";
        });
      }
      if (action === "stop" || action === "shutdown") {
        if (g.status !== "running") return new PveAnswer(500, `CT ${vmid} not running`);
        if (g.ha) return haRequest("hastop", "stopped");
        return task(action === "stop" ? "vzstop" : "vzshutdown", () => {
          checkLock();
          g.status = "stopped";
        });
      }
      if (action === "reboot") {
        // Status.pm vm_reboot: not through HA, no lock checked.
        if (g.status !== "running") return new PveAnswer(500, `VM ${vmid} not running`);
        return task("vzreboot");
      }
      return new PveAnswer(501, `fake PVE: ${what} is not implemented here`);
    }
    if (what === "snapshot" && method === "GET") {
      const refused = need(["VM.Audit"]);
      if (refused) return refused;
      return [
        ...[...g.snapshots.entries()].map(([name, s]) => ({
          name,
          snaptime: s.snaptime,
          description: s.description,
          ...(s.parent ? { parent: s.parent } : {}),
        })),
        {
          name: "current",
          running: g.status === "running" ? 1 : 0,
          description: "You are here!",
          ...(g.parent ? { parent: g.parent } : {}),
        },
      ];
    }
    if (what === "snapshot" && method === "POST") {
      const refused = need(["VM.Snapshot"]);
      if (refused) return refused;
      const name = params["snapname"]!;
      if (name === "current") return new PveAnswer(500, "unable to use snapshot name 'current' (reserved name)");
      if (name === "vzdump") return new PveAnswer(500, "unable to use snapshot name 'vzdump' (reserved name)");
      // AbstractConfig __snapshot_prepare: template, lock, name already used.
      return task("vzsnapshot", () => {
        if (g.template) throw new Error("you can't take a snapshot if it's a template");
        checkLock();
        if (g.snapshots.has(name)) throw new Error(`snapshot name '${name}' already used`);
        g.snapshots.set(name, {
          description: params["description"] ?? "",
          snaptime: 1_790_000_000 + this.taskCounter,
          ...(g.parent ? { parent: g.parent } : {}),
        });
        g.parent = name;
      });
    }
    if (snapname && !rollback && method === "DELETE") {
      const refused = need(["VM.Snapshot"]);
      if (refused) return refused;
      // AbstractConfig snapshot_delete (in the worker): the snapshot must exist; its children and the
      // current state take its parent.
      return task("vzdelsnapshot", () => {
        snapshotExists(snapname);
        const gone = g.snapshots.get(snapname)!;
        g.snapshots.delete(snapname);
        const reparent = (o: { parent?: string }) => {
          if (o.parent !== snapname) return;
          if (gone.parent) o.parent = gone.parent;
          else delete o.parent;
        };
        for (const s of g.snapshots.values()) reparent(s);
        reparent(g);
      });
    }
    if (snapname && rollback && method === "POST") {
      const refused = need(["VM.Snapshot", "VM.Snapshot.Rollback"], true);
      if (refused) return refused;
      // AbstractConfig snapshot_rollback (in the worker): the snapshot must exist, the config unlocked;
      // a running container is stopped by the worker itself (vm_stop, not through HA); `start` starts
      // it again afterwards.
      return task("vzrollback", () => {
        snapshotExists(snapname);
        checkLock();
        g.status = truthy(params["start"]) ? "running" : "stopped";
        g.parent = snapname;
      });
    }
    return new PveAnswer(501, `fake PVE: ${method} ${what} is not implemented here`);
  }

  /** API2/Pool.pm index: with `poolid`, the pool and its members (guests in vmlist); without, the pools the token may audit. */
  private listPools(token: string, poolid?: string): unknown {
    if (poolid) {
      if (!this.can(token, `/pool/${poolid}`, ["Pool.Audit"])) return permError(`/pool/${poolid}`, "Pool.Audit");
      const pool = this.pools.get(poolid);
      if (!pool) return new PveAnswer(500, `pool '${poolid}' does not exist`);
      const members = [...pool.vms]
        .sort((a, b) => a - b)
        .flatMap((vmid) => {
          const g = this.guests.get(vmid);
          return g ? [this.resourceOf(g)] : [];
        });
      return [{ poolid, members }];
    }
    return [...this.pools.keys()]
      .filter((p) => this.can(token, `/pool/${p}`, ["Pool.Audit"]))
      .map((p) => ({ poolid: p }));
  }

  /** A guest as /cluster/resources and pool member lists show it (API2Tools extract_vm_stats). */
  private resourceOf(g: FakeGuest): Record<string, unknown> {
    return {
      id: `${g.type}/${g.vmid}`,
      type: g.type,
      vmid: g.vmid,
      node: g.node,
      name: g.name,
      status: g.status,
      template: g.template ? 1 : 0,
      maxcpu: 2,
      maxmem: 2147483648,
      uptime: g.status === "running" ? 3600 : 0,
    };
  }

  /** API2/Cluster.pm resources (type vm): guests with VM.Audit; `pool` only with Pool.Audit on it; `hastate`, `lock`. */
  private listResources(token: string, type?: string): unknown {
    if (type && type !== "vm") return [];
    return [...this.guests.values()]
      .sort((a, b) => a.vmid - b.vmid)
      .filter((g) => this.can(token, `/vms/${g.vmid}`, ["VM.Audit"]))
      .map((g) => {
        const pool = this.poolOf(g.vmid);
        return {
          ...this.resourceOf(g),
          ...(pool && this.can(token, `/pool/${pool}`, ["Pool.Audit"]) ? { pool } : {}),
          ...(g.ha ? { hastate: g.status === "running" ? "started" : "stopped" } : {}),
          ...(g.lock ? { lock: g.lock } : {}),
        };
      });
  }

  private listJobs(): unknown {
    return [...this.jobs.entries()].map(([id, j]) => this.jobView(id, j));
  }

  private jobView(id: string, j: JobEntry): Record<string, unknown> {
    const { "prune-backups": prune, ...rest } = j;
    return {
      ...rest,
      id,
      type: "vzdump",
      ...(prune !== undefined ? { "prune-backups": pruneObject(String(prune)) } : {}),
      "next-run": 1_900_000_000,
    };
  }

  /** assert_param_permission_common + create/update checks of API2/Backup.pm. */
  private backupPermissions(token: string, params: Record<string, string>): PveAnswer | undefined {
    if (!this.can(token, "/", ["Sys.Modify"])) return permError("/", "Sys.Modify");
    for (const key of ROOT_ONLY_BACKUP_OPTIONS)
      if (params[key] !== undefined) return paramError({ [key]: "Only root may set this option." });
    const storage = params["storage"];
    if (storage && !this.can(token, `/storage/${storage}`, ["Datastore.Allocate"]))
      return permError(`/storage/${storage}`, "Datastore.Allocate");
    const pool = params["pool"];
    if (pool) {
      if (!this.pools.has(pool)) return new PveAnswer(403, `Permission check failed (pool '${pool}' does not exist)`);
      if (!this.can(token, `/pool/${pool}`, ["VM.Backup"])) return permError(`/pool/${pool}`, "VM.Backup");
    }
    return undefined;
  }

  /** PVE/VZDump.pm verify_vzdump_parameters: the selection options exclude each other; one is needed. */
  private static selectionProblem(job: Record<string, string | number>, checkMissing: boolean): PveAnswer | undefined {
    const on = (k: string) => job[k] !== undefined && job[k] !== "" && !/^(0|false|no|off)$/i.test(String(job[k]));
    if (on("all") && on("vmid")) return paramError({ all: "option conflicts with option 'vmid'" });
    if (on("exclude") && on("vmid")) return paramError({ exclude: "option conflicts with option 'vmid'" });
    if (on("pool") && on("vmid")) return paramError({ pool: "option conflicts with option 'vmid'" });
    if (checkMissing && !(on("all") || on("stop") || on("pool")) && !on("vmid"))
      return paramError({ vmid: "property is missing" });
    return undefined;
  }

  private createJob(token: string, params: Record<string, string>): unknown {
    const refused = this.backupPermissions(token, params);
    if (refused) return refused;
    if (!params["schedule"]) return paramError({ schedule: "neither 'starttime' nor 'schedule' were set" });
    const id = params["id"] ?? `backup-${createHash("sha1").update(String(Date.now())).digest("hex").slice(0, 12)}`;
    if (this.jobs.has(id)) return new PveAnswer(500, `Job '${id}' already exists`);
    const { id: _id, ...rest } = params;
    const invalid = FakePveServer.selectionProblem(rest, true);
    if (invalid) return invalid;
    this.jobs.set(id, { enabled: 1, ...rest });
    return null;
  }

  private readJob(token: string, id: string): unknown {
    if (!this.can(token, "/", ["Sys.Audit"])) return permError("/", "Sys.Audit");
    const j = this.jobs.get(id);
    return j ? this.jobView(id, j) : paramError({ id: `No such job '${id}'` });
  }

  private updateJob(token: string, id: string, params: Record<string, string>): unknown {
    const { delete: del, id: _id, ...update } = params;
    const refused = this.backupPermissions(token, update);
    if (refused) return refused;
    const j = this.jobs.get(id);
    if (!j) return new PveAnswer(500, "no such vzdump job");
    const current = j["storage"];
    if (current && !this.can(token, `/storage/${String(current)}`, ["Datastore.Allocate"]))
      return permError(`/storage/${String(current)}`, "Datastore.Allocate");
    if (Object.keys(update).length === 0 && !del) return new PveAnswer(500, "no options specified");
    const invalid = FakePveServer.selectionProblem(update, false);
    if (invalid) return invalid;
    const next: JobEntry = { ...j };
    for (const key of (del ?? "").split(",").filter(Boolean)) delete next[key];
    Object.assign(next, update);
    // API2/Backup.pm update_job: a vmid replaces all and pool; all replaces vmid and pool; a pool replaces vmid and all.
    if (next["exclude"] !== undefined && next["pool"] === undefined) next["all"] = 1;
    if (update["vmid"] !== undefined) {
      delete next["all"];
      delete next["exclude"];
      delete next["pool"];
    } else if (/^(1|true|yes|on)$/i.test(update["all"] ?? "")) {
      delete next["vmid"];
      delete next["pool"];
    } else if (next["pool"] !== undefined) {
      delete next["vmid"];
      delete next["all"];
      delete next["exclude"];
    }
    const incomplete = FakePveServer.selectionProblem(next, true);
    if (incomplete) return incomplete;
    for (const key of Object.keys(j)) delete j[key];
    Object.assign(j, next);
    return null;
  }

  private deleteJob(token: string, id: string): unknown {
    if (!this.can(token, "/", ["Sys.Modify"])) return permError("/", "Sys.Modify");
    if (!this.jobs.delete(id)) return paramError({ id: `No such job '${id}'` });
    return null;
  }
}

/** A fake PVE for a test file: listening from `beforeAll`, emptied before each test, stopped in `afterAll`. */
export function useFakePve(options: FakePveOptions): FakePveServer {
  const fake = new FakePveServer(options);
  beforeAll(() => fake.listen());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());
  return fake;
}
