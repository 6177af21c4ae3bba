import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { runOffline, type OfflineRunResult } from "./offlineRuntime";
import { readStackFile, stackFileName } from "../config/stackFile";

export interface PlanOptions {
  /** Stack name; its config is read from `Pulumi.<stack>.yaml`. */
  stack: string;
  /** Project root (where Pulumi.yaml and index.ts are). */
  root: string;
  /**
   * Customer directory overriding the stack's `customersDir`. Another directory than the stack's
   * is planned without the committed desired state as baseline (it describes the stack's own).
   */
  customersDir?: string;
  /** Extra config entries (tests use it to vary one value). */
  configOverrides?: Record<string, string>;
  /** Keep full, source-mapped stack traces (slower; for --debug). */
  debugStacks?: boolean;
}

/** Runs the project's real program (`index.ts`) offline with a stack's config. */
export async function runPlan(options: PlanOptions): Promise<OfflineRunResult> {
  const project = (parse(readFileSync(resolve(options.root, "Pulumi.yaml"), "utf8")) as { name: string }).name;
  const stackFile = stackFileName(options.stack);
  const flat = readStackFile(resolve(options.root, stackFile), stackFile);
  const stackDir = resolve(options.root, flat.config[`${project}:customersDir`] ?? "customers");
  if (options.customersDir) flat.config[`${project}:customersDir`] = options.customersDir;
  Object.assign(flat.config, options.configOverrides ?? {});
  // The committed desired state records the stack's own customers: customers read from another
  // directory (a what-if, test fixtures, generated ones) are not judged against it.
  const elsewhere = options.customersDir !== undefined && resolve(options.root, options.customersDir) !== stackDir;
  return runOffline({
    project,
    stack: options.stack,
    config: flat.config,
    secretKeys: flat.secretKeys,
    loadProgram: () => import(resolve(options.root, "index.ts")),
    debugStacks: options.debugStacks ?? false,
    ...(elsewhere ? { offline: { desiredState: false } } : {}),
  });
}
