import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, stackFileName } from "./config/loadStackConfig";
import type { StackConfig } from "./config/schema";
import { loadSecrets, type Secrets } from "./config/secrets";
import { topologyOf, type Topology } from "./config/topology";
import { InvalidInputError } from "./errors";
import { loadCustomerFiles } from "./customers/loadCustomers";
import type { Customer } from "./customers/schema";
import type { CapacityReport } from "./planning/capacity";
import { validateCustomers, type PreviousPlacement } from "./customers/validateCustomers";
import { previousPlacements } from "./customers/previousPlacements";
import { offlineRun } from "./runContext";

/** Everything the program declares from, validated. */
export interface PlatformInputs {
  config: StackConfig;
  topology: Topology;
  secrets: Secrets;
  customers: Customer[];
  /** Allocated vs capacity per node and storage pool, customers included. */
  capacity: CapacityReport;
}

/** Where the committed desired state of a stack lives (written by `npm run plan -- --json`). */
export function desiredStatePath(stack: string, root: string = process.cwd()): string {
  return resolve(root, "desired-state", `${stack}.json`);
}

/**
 * Loads and validates the stack config, the credentials and every customer file. Nothing is
 * declared before this returns; any problem anywhere throws one `InvalidInputError` listing all.
 */
export function loadPlatformInputs(root: string = process.cwd()): PlatformInputs {
  const stack = pulumi.getStack();
  const config = loadStackConfig();
  const problems = [];
  let secrets: Secrets = {};
  try {
    secrets = loadSecrets(stackFileName(stack));
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    problems.push(...err.problems);
  }
  const topology = topologyOf(config);
  const loaded = loadCustomerFiles(resolve(root, config.customersDir), root);
  problems.push(...loaded.problems);
  const committed = offlineRun()?.desiredState ?? desiredStatePath(stack, root);
  const previous = committed === false ? new Map<string, PreviousPlacement>() : readPrevious(committed);
  const validated = validateCustomers(config, topology, loaded.files, previous, stackFileName(stack));
  problems.push(...validated.problems);
  if (problems.length > 0) throw new InvalidInputError(problems);
  return { config, topology, secrets, customers: validated.customers, capacity: validated.capacity };
}

function readPrevious(path: string): Map<string, PreviousPlacement> {
  if (!existsSync(path)) return new Map();
  try {
    return previousPlacements(JSON.parse(readFileSync(path, "utf8")) as Parameters<typeof previousPlacements>[0]);
  } catch {
    return new Map();
  }
}
