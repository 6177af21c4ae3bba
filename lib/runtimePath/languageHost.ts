/**
 * Runs a Pulumi program the way the Node.js language host (`pulumi-language-nodejs`) does for
 * `pulumi preview` and `pulumi up`: `node node_modules/@pulumi/pulumi/cmd/run` with the host's
 * arguments, the stack's config in `PULUMI_CONFIG` (keys rewritten to `namespace:config:key`,
 * structured values as JSON text), the secret keys in `PULUMI_CONFIG_SECRET_KEYS`, and
 * `PULUMI_NODEJS_TYPESCRIPT=true` when `Pulumi.yaml` asks for TypeScript (the SDK then registers its
 * TypeScript loader, with type checking). The program talks gRPC to the engine at `engineAddress`.
 *
 * `runStack` wires this to a fake engine: the stack file's config, a preview or an update, and what
 * the program registered. It is the unit a benchmark through `cmd/run` repeats.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { INSTALLER_SSH_KEY } from "../config/secrets";
import { readStackFile, stackFileName } from "../config/stackFile";
import { startSshAgent, type SshAgent } from "../ssh/sshAgent";
import { startFakeEngine, type FakeEngine, type ResourceHandler } from "./fakeEngine";

export interface ProgramRunOptions {
  /** Project root: where `Pulumi.yaml`, `package.json` and `node_modules` are. */
  root: string;
  project: string;
  stack: string;
  /** Flat config (`namespace:key` to string), as `Pulumi.<stack>.yaml` holds it. */
  config: Record<string, string>;
  /** Keys of `config` (`namespace:key`) that are secrets. */
  secretKeys: readonly string[];
  /** Preview (`--dry-run`) or update. */
  dryRun: boolean;
  /** Address of the ResourceMonitor and Engine services. */
  engineAddress: string;
  /** `Pulumi.yaml`'s `runtime.options.typescript` (default: read from `Pulumi.yaml`). */
  typescript?: boolean;
  /** `--parallel`: how many resource operations the program may have in flight (the CLI passes its own). */
  parallel?: number;
  /** Extra environment (e.g. `PULUMI_NODEJS_TRANSPILE_ONLY`). */
  env?: Record<string, string>;
  /** Arguments for node itself (`--cpu-prof`, `--max-old-space-size=...`). */
  nodeArgs?: readonly string[];
}

export interface ProgramRunResult {
  /** The program's exit code: 0, or 32 when it reported its error itself (the CLI then adds nothing). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Wall time of the program process, ms. */
  elapsedMs: number;
}

/** `PULUMI_CONFIG` as the language host writes it: keys `namespace:config:key`. */
export function pulumiConfigEnv(config: Record<string, string>): string {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const cut = key.indexOf(":");
    if (cut < 0) throw new Error(`config key ${key} has no namespace`);
    out[`${key.slice(0, cut)}:config:${key.slice(cut + 1)}`] = value;
  }
  return JSON.stringify(out);
}

/** Whether `Pulumi.yaml` asks for TypeScript (`runtime.options.typescript`, default true for nodejs). */
export function projectUsesTypeScript(root: string): boolean {
  const doc = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as {
    runtime?: string | { options?: { typescript?: boolean } };
  };
  const runtime = doc.runtime;
  return typeof runtime === "object" ? (runtime.options?.typescript ?? true) : true;
}

/** Runs the program once through `cmd/run`. Resolves with its exit code and output, whatever they are. */
export async function runProgram(options: ProgramRunOptions): Promise<ProgramRunResult> {
  const root = resolve(options.root);
  const sync = mkdtempSync(join(tmpdir(), "pulumi-sync-"));
  const args = [
    ...(options.nodeArgs ?? []),
    join(root, "node_modules/@pulumi/pulumi/cmd/run"),
    ...["--monitor", options.engineAddress, "--engine", options.engineAddress, "--sync", sync],
    ...["--organization", "organization", "--project", options.project, "--root-directory", root],
    ...["--stack", options.stack, "--pwd", root],
    ...(options.dryRun ? ["--dry-run"] : []),
    ...["--parallel", String(options.parallel ?? 48)],
    root,
  ];
  // The host passes its own environment on; nothing of the test runner's loader hooks, no stale Pulumi settings.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("PULUMI_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS",
    ),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PULUMI_CONFIG: pulumiConfigEnv(options.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify([...options.secretKeys]),
    ...((options.typescript ?? projectUsesTypeScript(root)) ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
    ...options.env,
  };
  const started = performance.now();
  try {
    return await new Promise<ProgramRunResult>((resolvePromise, reject) => {
      const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code, signal) =>
        resolvePromise({
          exitCode: code ?? (signal ? 128 : 1),
          stdout,
          stderr,
          elapsedMs: performance.now() - started,
        }),
      );
    });
  } finally {
    rmSync(sync, { recursive: true, force: true });
  }
}

export interface StackRunOptions {
  root: string;
  stack: string;
  dryRun: boolean;
  /** Config entries replacing the stack file's (`namespace:key`). */
  configOverrides?: Record<string, string>;
  /** Update mode: how custom resources are created (default: outputs = inputs). */
  create?: ResourceHandler;
  /**
   * Extra environment. An update without SSH_AUTH_SOCK here gets a private ssh-agent holding the
   * stack config's installer key, as the deploy runner has one (lib/ssh/installerAgent.ts); give
   * SSH_AUTH_SOCK (empty for none) to run with another agent.
   */
  env?: Record<string, string>;
  nodeArgs?: readonly string[];
}

export interface StackRunResult extends ProgramRunResult {
  /** The fake engine after the run (closed): registrations, logs, stack outputs. */
  engine: Omit<FakeEngine, "close" | "address">;
}

/**
 * A stack's config as the CLI hands it over: `Pulumi.<stack>.yaml` flattened (`namespace:key` to
 * text; secrets as the placeholders the offline plan uses), with `overrides` replacing entries.
 */
export function stackConfig(
  root: string,
  stack: string,
  overrides: Record<string, string> = {},
): { config: Record<string, string>; secretKeys: string[] } {
  const stackFile = stackFileName(stack);
  const flat = readStackFile(join(resolve(root), stackFile), stackFile);
  Object.assign(flat.config, overrides);
  return flat;
}

/**
 * One `pulumi preview` (dryRun) or `pulumi up` of a stack of the project, as far as the program
 * is concerned: the stack file's config (secrets as placeholders, as in the offline plan) handed
 * over the way the CLI does, a fake engine recording what the program declares.
 */
export async function runStack(options: StackRunOptions): Promise<StackRunResult> {
  const root = resolve(options.root);
  const project = (parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name: string }).name;
  const flat = stackConfig(root, options.stack, options.configOverrides);
  const installerKey = flat.config[INSTALLER_SSH_KEY];
  const agent: SshAgent | undefined =
    !options.dryRun && !(options.env && "SSH_AUTH_SOCK" in options.env) && installerKey
      ? await startSshAgent([installerKey])
      : undefined;
  const env = { ...options.env, ...(agent ? { SSH_AUTH_SOCK: agent.socket } : {}) };
  const engine = await startFakeEngine({
    project,
    stack: options.stack,
    dryRun: options.dryRun,
    ...(options.create ? { create: options.create } : {}),
  }).catch(async (err: unknown) => {
    await agent?.stop();
    throw err;
  });
  try {
    const result = await runProgram({
      root,
      project,
      stack: options.stack,
      config: flat.config,
      secretKeys: flat.secretKeys,
      dryRun: options.dryRun,
      engineAddress: engine.address,
      env,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
    return { ...result, engine };
  } finally {
    await engine.close();
    await agent?.stop();
  }
}
