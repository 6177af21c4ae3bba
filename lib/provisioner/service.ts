/**
 * Wires the provisioner: the state directory (lock, journal, working copy), the ledger restored
 * from the journal, the applier and the HTTP server. `startProvisioner` returns once the server
 * listens; `close` stops taking requests, lets the applier finish its cycle, and closes the journal.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { randomSuffix } from "../customers/subdomain";
import { Applier } from "./applier";
import { DeployedOutputsReader } from "./deployedOutputs";
import type { BillingEvent } from "./events";
import { gitEnv } from "./git";
import { PullRequests } from "./github";
import { Journal, journalPath, readJournal, rewriteJournal } from "./journal";
import { Ledger } from "./ledger";
import { LiveState } from "./liveState";
import { buildServer } from "./server";
import { childEnv, type ProvisionerSettings } from "./settings";
import { siteStatus } from "./status";
import { WorkingCopy } from "./workingCopy";

export interface StartOptions {
  /** The process environment (secrets are removed before it reaches any child process). */
  env: NodeJS.ProcessEnv;
  /** The provisioner's own project root (its node_modules can serve the working copy). */
  ownRoot: string;
  logLevel?: string;
  logStream?: NodeJS.WritableStream;
  /** Called when the journal cannot be written: nothing more may be acknowledged. */
  onFatal: (err: Error) => void;
}

export interface RunningProvisioner {
  app: FastifyInstance;
  applier: Applier;
  ledger: Ledger;
  /** The address the server listens on. */
  url: string;
  close(): Promise<void>;
}

/** Takes the state directory for this process; refuses when a live process holds it. */
function lockStateDir(stateDir: string): () => void {
  const path = join(stateDir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (existsSync(path) && readFileSync(path, "utf8") === String(process.pid)) unlinkSync(path);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(path, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new Error(`another provisioner (pid ${pid}) uses ${stateDir}; one process per state directory`, {
          cause: err,
        });
      unlinkSync(path); // left by a process that died
    }
  }
  throw new Error(`cannot lock ${stateDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process whose parent died too can linger as a zombie until it is reaped: not alive.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

export async function startProvisioner(
  settings: ProvisionerSettings,
  options: StartOptions,
): Promise<RunningProvisioner> {
  mkdirSync(settings.stateDir, { recursive: true, mode: 0o700 });
  const unlock = lockStateDir(settings.stateDir);
  try {
    return await start(settings, options, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function start(
  settings: ProvisionerSettings,
  options: StartOptions,
  unlock: () => void,
): Promise<RunningProvisioner> {
  const env = childEnv(options.env);
  const logLevel = options.logLevel ?? "info";
  let fatal: (err: Error) => void = options.onFatal;

  // The server's logger is the one logger; the applier writes through it once the server exists.
  const pending: Array<[string, string]> = [];
  const sink: { logger?: FastifyInstance["log"] } = {};
  const log = (level: "info" | "warn" | "error", msg: string) =>
    sink.logger ? sink.logger[level](msg) : pending.push([level, msg]);

  const wc = new WorkingCopy({
    dir: join(settings.stateDir, "repo"),
    remote: settings.repo,
    stack: settings.stack,
    ...(settings.zone ? { zone: settings.zone } : {}),
    ownRoot: options.ownRoot,
    gitEnv: gitEnv(env, settings.githubToken),
    childEnv: env,
    author: settings.author,
    log: (m) => log("info", m),
  });
  await wc.ensure();
  // A crash can leave git's index lock behind; this process holds the state directory now.
  rmSync(join(wc.dir, ".git", "index.lock"), { force: true });
  const branches = settings.mode === "pull-request" ? [settings.branch, settings.proposalBranch] : [settings.branch];
  await wc.fetch(branches);
  const head = await wc.remoteHead(settings.branch);
  if (!head) throw new Error(`${settings.repo} has no branch ${settings.branch}`);
  await wc.checkout(head);
  const ledger = new Ledger(await wc.loadBase(head), randomSuffix);

  const path = journalPath(settings.stateDir);
  const { records, dropped } = readJournal(path);
  for (const d of dropped) log("warn", `journal line ${d.line} was cut short by a crash (never acknowledged); dropped`);
  ledger.restore(records);
  rewriteJournal(path, ledger.openRecords());
  const journal = await Journal.open(path);

  const deployed = new DeployedOutputsReader({
    pulumi: settings.pulumi,
    stack: settings.stack,
    cwd: wc.dir,
    env,
    maxAgeMs: Math.max(5000, settings.pollSeconds * 1000),
    log: (level, msg) => log(level, msg),
  });
  const config = ledger.baseState.config;
  const live = settings.proxmox
    ? new LiveState({
        endpoint: settings.proxmox.endpoint ?? config.proxmox.endpoint,
        token: settings.proxmox.token,
        insecure: config.proxmox.insecure,
        maxAgeMs: 5000,
      })
    : undefined;
  const pulls =
    settings.mode === "pull-request"
      ? new PullRequests({
          token: settings.githubToken!,
          apiUrl: settings.githubApiUrl,
          repository: settings.githubRepository!,
          base: settings.branch,
          head: settings.proposalBranch,
          log: (level, msg) => log(level, msg),
        })
      : undefined;
  const applier = new Applier(ledger, journal, wc, deployed, {
    branch: settings.branch,
    mode: settings.mode,
    proposalBranch: settings.proposalBranch,
    ...(pulls ? { pulls } : {}),
    pollMs: settings.pollSeconds * 1000,
    log: { info: (m) => log("info", m), warn: (m) => log("warn", m), error: (m) => log("error", m) },
  });

  const accept = async (event: BillingEvent): Promise<void> => {
    const record = ledger.record(event);
    ledger.accept(record);
    try {
      await journal.append(record);
    } catch (err) {
      fatal(err as Error);
      throw err;
    }
    applier.kick();
  };

  const app = buildServer({
    token: settings.token,
    ledger,
    accept,
    status: (serviceId) => siteStatus(serviceId, { ledger, deployed, ...(live ? { live } : {}) }),
    health: () => ({
      mode: settings.mode,
      branch: settings.branch,
      base: ledger.baseCommit,
      pending_events: ledger.pendingEvents.length,
      ...(applier.lastSuccess ? { last_cycle: applier.lastSuccess.toISOString() } : {}),
      ...(applier.lastError
        ? { last_error: { at: applier.lastError.at.toISOString(), message: applier.lastError.message } }
        : {}),
    }),
    logLevel,
    ...(options.logStream ? { logStream: options.logStream } : {}),
  });
  sink.logger = app.log;
  for (const [level, msg] of pending.splice(0)) log(level as "info", msg);

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await applier.stop();
    await journal.close();
    unlock();
  };
  fatal = (err) => {
    app.log.fatal(`the journal cannot be written (${err.message}): stopping; nothing more is acknowledged`);
    options.onFatal(err);
  };

  const url = await app.listen({ port: settings.port, host: settings.host });
  app.log.info(
    `provisioner for stack ${settings.stack} (${settings.mode} mode, branch ${settings.branch}) at ${head.slice(0, 12)}, ${ledger.pendingEvents.length} open event(s)`,
  );
  applier.start();
  return { app, applier, ledger, url, close };
}
