/**
 * The policy pack's configuration per stack, derived from the stack's config (one home:
 * `Pulumi.<stack>.yaml`) and written by `npm run generate` to `policy/config.<stack>.json`, the file
 * `pulumi preview|up --policy-pack policy --policy-pack-config policy/config.<stack>.json` reads (the
 * workflows pass it per stack). The pack's defaults are the prod stack's file.
 *
 * Pure, and importing nothing of the pack: the generator runs it even when a config file is missing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { StackConfig } from "../lib/config/schema";

/** Names of the policies that take configuration (policies.ts). */
export const POLICY_NAMES = {
  isolation: "customer-container-isolation",
  planBounds: "customer-container-plan-bounds",
  haLimits: "ha-resource-limits",
  onlyRouterPrivileged: "only-router-privileged",
} as const;

/** The tag of the one container allowed to be privileged: the seed's router carries it. */
export const ROUTER_TAG = "router";

/** Where a stack's policy config is written, relative to the project root. */
export function policyConfigFile(stack: string): string {
  return `policy/config.${stack}.json`;
}

/** The stack whose policy config is the pack's default (used without --policy-pack-config). */
export const DEFAULT_STACK = "prod";

/** customer-container-isolation: where customer root disks must live. */
export interface IsolationConfig {
  /** Storage customer root disks must live on (the customers' replicated pool). */
  storage: string;
}

/** customer-container-plan-bounds: the plan bounds of a customer container. */
export interface BoundsConfig {
  minCores: number;
  maxCores: number;
  minMemoryMiB: number;
  maxMemoryMiB: number;
  minDiskGiB: number;
  maxDiskGiB: number;
}

/** ha-resource-limits: what every HA resource must say. */
export interface HaLimitsConfig {
  maxRestart: number;
  maxRelocate: number;
}

/** only-router-privileged: how the router container is known. */
export interface RouterConfig {
  /** Tag that marks the router container. */
  routerTag: string;
}

/** Each configurable policy's config, as `--policy-pack-config` takes it (policy name to its settings). */
export interface PolicyPackConfig {
  [POLICY_NAMES.isolation]: IsolationConfig;
  [POLICY_NAMES.planBounds]: BoundsConfig;
  [POLICY_NAMES.haLimits]: HaLimitsConfig;
  [POLICY_NAMES.onlyRouterPrivileged]: RouterConfig;
}

/** A stack's policy config: its customer storage, plan bounds and HA limits. */
export function policyConfigOf(config: StackConfig): PolicyPackConfig {
  const { storage, bounds } = config.customerPools;
  return {
    [POLICY_NAMES.isolation]: { storage },
    [POLICY_NAMES.planBounds]: {
      minCores: bounds.cores.first,
      maxCores: bounds.cores.last,
      minMemoryMiB: bounds.memoryMiB.first,
      maxMemoryMiB: bounds.memoryMiB.last,
      minDiskGiB: bounds.diskGiB.first,
      maxDiskGiB: bounds.diskGiB.last,
    },
    [POLICY_NAMES.haLimits]: { maxRestart: config.ha.maxRestart, maxRelocate: config.ha.maxRelocate },
    [POLICY_NAMES.onlyRouterPrivileged]: { routerTag: ROUTER_TAG },
  };
}

/** The file's text (what `npm run generate` writes). */
export function renderPolicyConfig(config: StackConfig): string {
  return `${JSON.stringify(policyConfigOf(config), null, 2)}\n`;
}

/** The default stack's policy config, read from its generated file next to this module. */
export function defaultPolicyConfig(): PolicyPackConfig {
  const file = join(__dirname, `config.${DEFAULT_STACK}.json`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PolicyPackConfig;
  } catch (err) {
    throw new Error(`${file}: cannot be read (${(err as Error).message}); write it with npm run generate`, {
      cause: err,
    });
  }
}
