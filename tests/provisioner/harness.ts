/**
 * What the provisioner's tests run against: a copy of this project as a git repository (customer
 * fixtures, desired state regenerated for them), served as a bare repository on disk; the real
 * service (`scripts/provisioner.ts`) started as its own process on loopback; Paymenter's calls.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { inject } from "vitest";
import { parse } from "yaml";
import { copyProjectRepo } from "../../lib/bench/projectRepo";
import { spawnProvisioner } from "../../lib/bench/provisionerProcess";
import { FIXTURE_CUSTOMERS, ROOT } from "../helpers/offlinePlan";

export const TOKEN = "paymenter-api-key-5e1f0c7d9a2b";
export const PUBLIC_IP = "203.0.113.10";

/** Runs a command, throwing with its output on failure. */
export function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
export const git = (cwd: string, ...args: string[]): string =>
  sh("git", ["-c", "user.name=test", "-c", "user.email=test@example.org", ...args], cwd).trim();

/**
 * A temporary directory inside the test run's scratch directory (tests/provisioner/globalSetup.ts),
 * which is removed when the run ends: nothing is left in the system's temporary directory.
 */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(inject("provisionerScratch"), prefix));
}

let template: string | undefined;

/**
 * The project as a fresh repository (one commit): every tracked file from this working tree, the
 * customer fixtures instead of customers/*.yaml, and a desired state regenerated for them, so the
 * copy passes its own stale check. Built once per test run (the first test file to ask builds it
 * under a lock in the run's scratch directory; the others wait for it).
 */
export function templateRepo(): string {
  if (template) return template;
  const scratchRoot = inject("provisionerScratch");
  const dir = join(scratchRoot, "template");
  const lock = join(scratchRoot, "template.lock");
  const ready = join(scratchRoot, "template.ready");
  const failed = join(scratchRoot, "template.failed");
  let builder = false;
  try {
    mkdirSync(lock);
    builder = true;
  } catch {
    while (!existsSync(ready) && !existsSync(failed)) spawnSync("sleep", ["0.2"]);
    if (existsSync(failed)) throw new Error(`building the project template failed: ${readFileSync(failed, "utf8")}`);
  }
  if (builder) {
    try {
      buildTemplate(dir);
    } catch (err) {
      writeFileSync(failed, (err as Error).message);
      throw err;
    }
    writeFileSync(ready, "");
  }
  template = dir;
  return dir;
}

function buildTemplate(dir: string): void {
  copyProjectRepo(ROOT, dir, {
    prodCustomers: Object.fromEntries(
      ["acme-bakery.yaml", "nordlicht.yaml", "studio-kern.yaml"].map((f) => [f, join(FIXTURE_CUSTOMERS, f)]),
    ),
    regenerate: true,
  });
}

/** A bare repository holding the template (the remote the service pushes to). */
export function freshRemote(): string {
  const remote = join(tempDir("provisioner-remote-"), "platform.git");
  sh("git", ["clone", "--quiet", "--bare", templateRepo(), remote], tmpdir());
  return remote;
}

/** A working clone of a remote, for changes made "by a person" and for reading what was pushed. */
export function cloneOf(remote: string, branch = "main"): string {
  const dir = join(tempDir("provisioner-clone-"), "work");
  sh("git", ["clone", "--quiet", "--branch", branch, remote, dir], tmpdir());
  return dir;
}

/** A file's text at the head of a branch of the remote, or undefined. */
export function remoteFile(remote: string, path: string, branch = "main"): string | undefined {
  const r = spawnSync("git", ["show", `${branch}:${path}`], { cwd: remote, encoding: "utf8" });
  return r.status === 0 ? r.stdout : undefined;
}

/** A customer file's fields at the head of a branch. */
export function remoteCustomer(remote: string, slug: string, branch = "main"): Record<string, unknown> | undefined {
  const text = remoteFile(remote, `customers/${slug}.yaml`, branch);
  return text === undefined ? undefined : (parse(text) as Record<string, unknown>);
}

/** Customer files at the head of a branch: slug -> fields. */
export function remoteCustomers(
  remote: string,
  dir = "customers",
  branch = "main",
): Map<string, Record<string, unknown>> {
  const names = git(remote, "ls-tree", "--name-only", `${branch}:${dir}`)
    .split("\n")
    .filter((n) => n.endsWith(".yaml"));
  return new Map(
    names.map((n) => [
      n.replace(/\.yaml$/, ""),
      parse(remoteFile(remote, `${dir}/${n}`, branch)!) as Record<string, unknown>,
    ]),
  );
}

/** Commits on a branch of the remote, newest first: hash and full message. */
export function remoteCommits(remote: string, branch = "main"): Array<{ hash: string; message: string }> {
  return git(remote, "log", "--format=%H%x1f%B%x1e", branch)
    .split("\x1e")
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => {
      const [hash = "", message = ""] = e.split("\x1f");
      return { hash, message };
    });
}

/** Event ids in the Provisioner-Event trailers of a branch (duplicates kept). */
export function eventTrailers(remote: string, branch = "main"): string[] {
  return git(remote, "log", "--format=%(trailers:key=Provisioner-Event,valueonly)", branch)
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

// ------------------------------------------------------------------------------------------------
// The fake Pulumi CLI: `pulumi stack output --json --stack S` answers what a deploy left.

/** Writes an executable that answers `stack output --json --stack <stack>` from `outputsFile`, as the real CLI prints it. */
export function fakePulumi(dir: string, outputsFile: string): string {
  const bin = join(dir, "pulumi");
  writeFileSync(
    bin,
    `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2).filter((a) => a !== "--non-interactive");
if (args[0] !== "stack" || args[1] !== "output" || !args.includes("--json") || args[args.indexOf("--stack") + 1] === undefined) {
  process.stderr.write("error: unexpected arguments: " + args.join(" ") + "\\n");
  process.exit(255);
}
if (!fs.existsSync("Pulumi.yaml")) { process.stderr.write("error: no Pulumi.yaml project file found\\n"); process.exit(255); }
const outputs = fs.existsSync(${JSON.stringify(outputsFile)}) ? fs.readFileSync(${JSON.stringify(outputsFile)}, "utf8") : "{}";
process.stdout.write(JSON.stringify(JSON.parse(outputs), null, "  ") + "\\n");
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

/**
 * What a successful `pulumi up` of the branch's head leaves as outputs (index.ts `sitesBySlug`, secrets
 * shown as "[secret]" the way `pulumi stack output` prints them), written where the fake CLI reads.
 */
export function deploy(remote: string, outputsFile: string, branch = "main"): void {
  const sites: Record<string, unknown> = {};
  for (const [slug, c] of remoteCustomers(remote, "customers", branch)) {
    sites[slug] = {
      url: `https://${String(c["domain"])}/`,
      adminUrl: `https://${String(c["domain"])}/wp-admin/`,
      ip: c["ip"],
      vmId: c["vmid"],
      node: c["node"],
      state: c["state"] ?? "active",
      adminUser: "admin",
      adminPassword: "[secret]",
    };
  }
  mkdirSync(dirname(outputsFile), { recursive: true });
  writeFileSync(outputsFile, JSON.stringify({ clusterInfo: { name: "cluster0" }, sitesBySlug: sites }));
}

// ------------------------------------------------------------------------------------------------
// The service

export interface Service {
  url: string;
  pid: number;
  stateDir: string;
  /** Everything it printed so far. */
  output(): string;
  /** Log records (pino JSON lines). */
  logs(): Array<Record<string, unknown>>;
  /** kill -9 of the service and every process it started (its process group). */
  crash(): Promise<void>;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface ServiceOptions {
  remote: string;
  stateDir?: string;
  env?: Record<string, string>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running)
    if (c.pid)
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        /* gone */
      }
});

/** Starts `scripts/provisioner.ts` as its own process (own process group) and waits until it listens. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const stateDir = options.stateDir ?? join(tempDir("provisioner-state-"), "state");
  const started = await spawnProvisioner(ROOT, {
    PROVISIONER_TOKEN: TOKEN,
    PROVISIONER_REPO: options.remote,
    PROVISIONER_PORT: "0",
    PROVISIONER_HOST: "127.0.0.1",
    PROVISIONER_STATE_DIR: stateDir,
    PROVISIONER_POLL_SECONDS: "0.2",
    PROVISIONER_PULUMI: "off",
    PROVISIONER_LOG_LEVEL: "info",
    ...options.env,
  });
  const { child, url, exited } = started;
  running.add(child);
  void exited.then(() => running.delete(child));
  const out = () => started.output();
  const logs = () =>
    out()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    url,
    pid: child.pid!,
    stateDir,
    output: out,
    logs,
    exited,
    crash: async () => {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    },
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Paymenter's calls (ProxmoxWP's ProxmoxWPApi: Bearer token, Accept JSON, POST asJson, GET query)

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export async function call(
  service: { url: string },
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  options: { token?: string | null; contentType?: string; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers["Authorization"] = `Bearer ${token}`;
  let payload: string | undefined;
  if (method === "POST") {
    payload = options.raw ?? JSON.stringify(body ?? {});
    headers["Content-Type"] = options.contentType ?? "application/json";
  }
  const url =
    method === "GET" && body ? `${path}?${new URLSearchParams(body as Record<string, string>).toString()}` : path;
  const res = await fetch(`${service.url}${url}`, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsed: text };
  }
  return { status: res.status, body: parsed };
}

/** Paymenter's hooks, as the extension calls them (service_id as a string). */
export const paymenter = (service: { url: string }) => ({
  createServer: (id: number, email: string, plan: string) =>
    call(service, "POST", "/create-site", { service_id: String(id), email, plan, public_ip: PUBLIC_IP }),
  suspendServer: (id: number) => call(service, "POST", "/suspend", { service_id: String(id) }),
  unsuspendServer: (id: number) => call(service, "POST", "/unsuspend", { service_id: String(id) }),
  terminateServer: (id: number) => call(service, "POST", "/delete-site", { service_id: String(id) }),
  upgradeServer: (id: number, plan: string) => call(service, "POST", "/wp/upgrade/", { service_id: String(id), plan }),
  status: (id: number) => call(service, "GET", "/status", { service_id: String(id) }),
});

/** Polls `check` until it returns a value (the test's own timeout bounds the wait). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, everyMs = 100): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Reads the journal file of a state directory (lines). */
export function journalLines(stateDir: string): string[] {
  try {
    return readFileSync(join(stateDir, "journal.jsonl"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** The events (not outcomes) recorded in a state directory's journal. */
export function journalEvents(stateDir: string): Array<Record<string, unknown>> {
  return journalLines(stateDir)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r["t"] === "event");
}
