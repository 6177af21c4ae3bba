/**
 * The provisioner's settings, from its environment only (never from its command line, where secrets
 * would be visible to every user of the machine in `ps`). Every problem names the variable; no
 * message ever contains a secret's value.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

/** How accepted events reach the branch the deploy workflow applies. */
export const DELIVERY_MODES = ["commit", "pull-request"] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export interface ProvisionerSettings {
  /** Bearer token Paymenter's extension sends (its "Backend API Key"). */
  token: string;
  /** Path or URL of the git repository holding this project. */
  repo: string;
  /** Branch the deploy workflow applies (commit mode pushes to it; pull requests target it). */
  branch: string;
  port: number;
  /** Address to listen on: the host's LAN address in production. */
  host: string;
  mode: DeliveryMode;
  /** The stack (cluster) whose customers this service manages. */
  stack: string;
  /** Journal, lock and working copy live here. */
  stateDir: string;
  /** DNS zone new sites are made in; default: the stack's only Cloudflare zone. */
  zone?: string;
  /** Seconds between looks at the remote (merged pull requests, deployed outputs, moved branches). */
  pollSeconds: number;
  /** Author of the provisioner's commits. */
  author: { name: string; email: string };
  /** Token for pushes over HTTPS and for the GitHub API (pull-request mode). */
  githubToken?: string;
  githubApiUrl: string;
  /** `owner/name` on GitHub; default: derived from `repo`. */
  githubRepository?: string;
  /** Branch pull requests are opened from (pull-request mode). */
  proposalBranch: string;
  /** The Pulumi CLI, to read the last deployed outputs; `off` disables it. */
  pulumi: string;
  /** Proxmox VE API for live state, when both are given. */
  proxmox?: { endpoint?: string; token: string };
}

/** The names of the variables, each in one place. */
export const ENV = {
  token: "PROVISIONER_TOKEN",
  repo: "PROVISIONER_REPO",
  branch: "PROVISIONER_BRANCH",
  port: "PROVISIONER_PORT",
  host: "PROVISIONER_HOST",
  mode: "PROVISIONER_MODE",
  stack: "PROVISIONER_STACK",
  stateDir: "PROVISIONER_STATE_DIR",
  zone: "PROVISIONER_ZONE",
  pollSeconds: "PROVISIONER_POLL_SECONDS",
  author: "PROVISIONER_GIT_AUTHOR",
  githubToken: "PROVISIONER_GITHUB_TOKEN",
  githubApiUrl: "PROVISIONER_GITHUB_API_URL",
  githubRepository: "PROVISIONER_GITHUB_REPOSITORY",
  proposalBranch: "PROVISIONER_PR_BRANCH",
  pulumi: "PROVISIONER_PULUMI",
  proxmoxEndpoint: "PROVISIONER_PROXMOX_ENDPOINT",
  proxmoxToken: "PROVISIONER_PROXMOX_TOKEN",
} as const;

/** Variables holding secrets: kept out of every child process's environment and every message. */
export const SECRET_ENV = [ENV.token, ENV.githubToken, ENV.proxmoxToken] as const;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`provisioner settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

const AUTHOR = /^\s*([^<>]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/;
const BRANCH = /^(?!\/|.*\/\/|.*\.\.|.*\/$|.*\.lock$)[A-Za-z0-9._/-]{1,200}$/;

/** Reads and checks the settings from `env`; relative paths resolve against `cwd`. */
export function settingsFromEnv(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ProvisionerSettings {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const token = env[ENV.token] ?? "";
  if (token.length === 0) problems.push(`${ENV.token}: is required (the bearer token Paymenter's extension sends)`);
  else if (token.length < 16 || /\s/.test(token))
    problems.push(`${ENV.token}: must be at least 16 characters without spaces (its value is not shown)`);

  const repo = get(ENV.repo);
  if (!repo) problems.push(`${ENV.repo}: is required (path or URL of this project's git repository)`);

  const branch = get(ENV.branch) ?? "main";
  if (!BRANCH.test(branch)) problems.push(`${ENV.branch}: "${branch}" is not a branch name`);

  const port = Number(get(ENV.port) ?? "8080");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`${ENV.port}: "${get(ENV.port)}" is not a TCP port (1-65535, or 0 for any free port)`);

  const host = get(ENV.host) ?? "127.0.0.1";
  if (!z.union([z.ipv4(), z.ipv6(), z.literal("localhost")]).safeParse(host).success)
    problems.push(`${ENV.host}: "${host}" is not an IP address to listen on`);

  const mode = (get(ENV.mode) ?? "commit") as DeliveryMode;
  if (!DELIVERY_MODES.includes(mode))
    problems.push(`${ENV.mode}: "${String(mode)}" must be one of ${DELIVERY_MODES.join(", ")}`);

  const stack = get(ENV.stack) ?? "prod";
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) problems.push(`${ENV.stack}: "${stack}" is not a stack name`);

  const stateDirRaw = get(ENV.stateDir) ?? ".provisioner";
  const stateDir = isAbsolute(stateDirRaw) ? stateDirRaw : resolve(cwd, stateDirRaw);

  const pollSeconds = Number(get(ENV.pollSeconds) ?? "60");
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0.05 || pollSeconds > 3600)
    problems.push(`${ENV.pollSeconds}: "${get(ENV.pollSeconds)}" must be a number of seconds, 0.05-3600`);

  const authorRaw = get(ENV.author) ?? "nodepoint provisioner <provisioner@nodepoint.invalid>";
  const author = AUTHOR.exec(authorRaw);
  if (!author) problems.push(`${ENV.author}: "${authorRaw}" must look like "Name <email@host>"`);

  const githubToken = get(ENV.githubToken);
  const githubApiUrl = get(ENV.githubApiUrl) ?? "https://api.github.com";
  if (!z.url({ protocol: /^https?$/ }).safeParse(githubApiUrl).success)
    problems.push(`${ENV.githubApiUrl}: "${githubApiUrl}" is not an http(s) URL`);
  const githubRepository = get(ENV.githubRepository) ?? (repo ? githubRepositoryOf(repo) : undefined);
  if (mode === "pull-request") {
    if (!githubToken) problems.push(`${ENV.githubToken}: is required in pull-request mode (pull requests: write)`);
    if (!githubRepository)
      problems.push(
        `${ENV.githubRepository}: is required in pull-request mode when ${ENV.repo} is not a github.com URL (owner/name)`,
      );
    else if (!/^[\w.-]+\/[\w.-]+$/.test(githubRepository))
      problems.push(`${ENV.githubRepository}: "${githubRepository}" must be owner/name`);
  }
  const proposalBranch = get(ENV.proposalBranch) ?? `provisioner/${stack}`;
  if (!BRANCH.test(proposalBranch) || proposalBranch === branch)
    problems.push(`${ENV.proposalBranch}: "${proposalBranch}" must be a branch name other than ${branch}`);

  const proxmoxToken = get(ENV.proxmoxToken);
  const proxmoxEndpoint = get(ENV.proxmoxEndpoint);
  if (proxmoxToken && !/^[^@\s]+@[^!\s]+![A-Za-z][\w.-]*=[0-9a-f-]{36}$/.test(proxmoxToken))
    problems.push(`${ENV.proxmoxToken}: must look like user@realm!tokenid=<uuid> (its value is not shown)`);
  if (proxmoxEndpoint && !z.url({ protocol: /^https?$/ }).safeParse(proxmoxEndpoint).success)
    problems.push(`${ENV.proxmoxEndpoint}: "${proxmoxEndpoint}" is not an http(s) URL`);

  if (problems.length > 0) throw new SettingsError(problems);
  return {
    token,
    repo: repo!,
    branch,
    port,
    host,
    mode,
    stack,
    stateDir,
    ...(get(ENV.zone) ? { zone: get(ENV.zone)! } : {}),
    pollSeconds,
    author: { name: author![1]!, email: author![2]! },
    ...(githubToken ? { githubToken } : {}),
    githubApiUrl,
    ...(githubRepository ? { githubRepository } : {}),
    proposalBranch,
    pulumi: get(ENV.pulumi) ?? "pulumi",
    ...(proxmoxToken
      ? { proxmox: { token: proxmoxToken, ...(proxmoxEndpoint ? { endpoint: proxmoxEndpoint } : {}) } }
      : {}),
  };
}

/** `owner/name` of a github.com remote (`https://github.com/o/n(.git)`, `git@github.com:o/n(.git)`). */
export function githubRepositoryOf(repo: string): string | undefined {
  const m =
    /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(
      repo,
    );
  return m?.[1];
}

/** The environment for child processes (git, npm, pulumi): the parent's minus every secret. */
export function childEnv(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of SECRET_ENV) delete out[name];
  return { ...out, ...extra };
}
