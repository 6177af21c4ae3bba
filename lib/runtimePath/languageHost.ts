/**
 * Runs a Pulumi program the way the Node.js language host (`pulumi-language-nodejs`) does for
 * `pulumi preview` and `pulumi up`: `node node_modules/@pulumi/pulumi/cmd/run` with the host's
 * arguments, the stack's config in `PULUMI_CONFIG` (keys rewritten to `namespace:config:key`,
 * structured values as JSON text), the secret keys in `PULUMI_CONFIG_SECRET_KEYS`, and the
 * project's runtime options (`Pulumi.yaml` `runtime.options`, read as pulumi/pulumi
 * `sdk/nodejs/cmd/pulumi-language-nodejs/main.go` `parseOptions` and `Run` do): `typescript` (default
 * true) sets `PULUMI_NODEJS_TYPESCRIPT=true` (the SDK then registers its TypeScript loader),
 * `tsconfig` sets `PULUMI_NODEJS_TSCONFIG_PATH`, `nodeargs` go to node before `cmd/run`. The program
 * talks gRPC to the engine at `engineAddress`.
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
  /** `Pulumi.yaml`'s `runtime.options` (default: read from `Pulumi.yaml` in `root`). */
  runtimeOptions?: NodeRuntimeOptions;
  /** `--parallel`: how many resource operations the program may have in flight (the CLI passes its own). */
  parallel?: number;
  /** Extra environment (e.g. `PULUMI_NODEJS_TRANSPILE_ONLY`). */
  env?: Record<string, string>;
  /** Arguments for node itself (`--cpu-prof`, `--max-old-space-size=...`). */
  nodeArgs?: readonly string[];
  /** The program's entry file, as `Pulumi.yaml`'s `main` names one (default: `root`, its package's `main`). */
  program?: string;
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

/** The Node.js runtime options of `Pulumi.yaml` that shape how the language host starts the program. */
export interface NodeRuntimeOptions {
  /** `typescript` (default true): the SDK loads the program through its TypeScript loader (ts-node). */
  typescript: boolean;
  /** `tsconfig`: the TypeScript config ts-node reads (its `noCheck` turns type checking off). */
  tsconfig?: string;
  /** `nodeargs`, split into arguments: given to node before `cmd/run`. */
  nodeArgs: string[];
}

/**
 * `runtime.options` of a `Pulumi.yaml` text, as the language host reads them. The host splits
 * `nodeargs` with shlex; this harness takes plain whitespace-separated arguments and refuses quotes
 * rather than split them differently.
 */
export function nodeRuntimeOptions(pulumiYaml: string): NodeRuntimeOptions {
  const doc = parse(pulumiYaml) as { runtime?: string | { options?: Record<string, unknown> } };
  const options = typeof doc.runtime === "object" ? (doc.runtime.options ?? {}) : {};
  const { typescript = true, tsconfig, nodeargs = "" } = options;
  if (typeof typescript !== "boolean") throw new Error("Pulumi.yaml: runtime.options.typescript must be a boolean");
  if (tsconfig !== undefined && typeof tsconfig !== "string")
    throw new Error("Pulumi.yaml: runtime.options.tsconfig must be a string");
  if (typeof nodeargs !== "string") throw new Error("Pulumi.yaml: runtime.options.nodeargs must be a string");
  if (/["'\\]/.test(nodeargs))
    throw new Error("Pulumi.yaml: runtime.options.nodeargs with quotes or escapes is not supported here");
  return {
    typescript,
    ...(tsconfig !== undefined ? { tsconfig } : {}),
    nodeArgs: nodeargs.split(/\s+/).filter((a) => a !== ""),
  };
}

/** The runtime options of the project at `root` (its `Pulumi.yaml`). */
export function projectRuntimeOptions(root: string): NodeRuntimeOptions {
  return nodeRuntimeOptions(readFileSync(join(root, "Pulumi.yaml"), "utf8"));
}

/** Runs the program once through `cmd/run`. Resolves with its exit code and output, whatever they are. */
export async function runProgram(options: ProgramRunOptions): Promise<ProgramRunResult> {
  const root = resolve(options.root);
  const sync = mkdtempSync(join(tmpdir(), "pulumi-sync-"));
  const runtime = options.runtimeOptions ?? projectRuntimeOptions(root);
  const args = [
    ...runtime.nodeArgs,
    ...(options.nodeArgs ?? []),
    join(root, "node_modules/@pulumi/pulumi/cmd/run"),
    ...["--monitor", options.engineAddress, "--engine", options.engineAddress, "--sync", sync],
    ...["--organization", "organization", "--project", options.project, "--root-directory", root],
    ...["--stack", options.stack, "--pwd", root],
    ...(options.dryRun ? ["--dry-run"] : []),
    ...["--parallel", String(options.parallel ?? 48)],
    options.program !== undefined ? resolve(root, options.program) : root,
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
    ...(runtime.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
    ...(runtime.tsconfig !== undefined ? { PULUMI_NODEJS_TSCONFIG_PATH: runtime.tsconfig } : {}),
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
  /** The program's entry file (default: the project's). */
  program?: string;
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
      ...(options.program !== undefined ? { program: options.program } : {}),
    });
    return { ...result, engine };
  } finally {
    await engine.close();
    await agent?.stop();
  }
}
