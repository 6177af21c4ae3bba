import { existsSync, readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config/loadStackConfig";
import { desiredStateFile, stackFileName } from "./config/stackFile";
import type { StackConfig } from "./config/schema";
import { INSTALLER_SSH_KEY, loadSecrets, type Secrets } from "./config/secrets";
import { topologyOf, type Topology } from "./config/topology";
import { InvalidInputError, type InputProblem } from "./errors";
import { loadCustomerFiles } from "./customers/loadCustomers";
import type { Customer } from "./customers/schema";
import type { CapacityReport } from "./planning/capacity";
import { validateCustomers } from "./customers/validateCustomers";
import { baselineOf, type Baseline } from "./customers/baseline";
import type { SiteReplacement } from "./customers/replacement";
import { offlineRun } from "./runContext";
import { realRunProblems } from "./config/realRun";
import { installerPublicKey, type InstallerPublicKey } from "./ssh/installerKey";
import { installerAgentProblem } from "./ssh/installerAgent";

/** Everything the program declares from, validated. */
export interface PlatformInputs {
  config: StackConfig;
  topology: Topology;
  secrets: Secrets;
  customers: Customer[];
  /** Allocated vs capacity per node and storage pool, customers included. */
  capacity: CapacityReport;
  /** Confirmed replacements of customers' containers, by slug. */
  replacements: Map<string, SiteReplacement>;
  /** The WordPress installer key's public half (derived from the secret `nodepoint:installerSshKey`). */
  installerKey: InstallerPublicKey;
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
  // Under the Pulumi engine (not the offline plan): no stand-in value reaches the real cluster.
  if (!offlineRun()) problems.push(...realRunProblems(config, stackFileName(stack)));
  const topology = topologyOf(config);
  const loaded = loadCustomerFiles(resolve(root, config.customersDir), root);
  problems.push(...loaded.problems);
  const committed = offlineRun()?.desiredState ?? resolve(root, desiredStateFile(stack));
  const read = committed === false ? { problems: [] } : readBaseline(committed, root);
  problems.push(...read.problems);
  const validated = validateCustomers(config, topology, loaded.files, read.baseline, stackFileName(stack));
  problems.push(...validated.problems);
  // Validated by loadSecrets when present. On `pulumi up` with sites to install, the installer's
  // ssh-agent is checked here, before anything is declared (lib/ssh/installerAgent.ts).
  const keyText = secrets[INSTALLER_SSH_KEY] ? pulumi.runtime.getConfig(INSTALLER_SSH_KEY) : undefined;
  const installerKey = keyText ? installerPublicKey(keyText) : undefined;
  if (installerKey && validated.customers.length > 0 && !offlineRun() && !pulumi.runtime.isDryRun()) {
    const problem = installerAgentProblem(installerKey);
    if (problem) problems.push({ file: stackFileName(stack), field: INSTALLER_SSH_KEY, message: problem });
  }
  if (problems.length > 0 || !installerKey) throw new InvalidInputError(problems);
  return {
    config,
    topology,
    secrets,
    customers: validated.customers,
    capacity: validated.capacity,
    replacements: validated.replacements,
    installerKey,
  };
}

/**
 * The committed desired state as customer validation's baseline. A missing file means a stack never
 * planned (no baseline); a file that cannot be read or is not a plan document is an error naming it
 * (fails closed: otherwise every replacing change would pass unconfirmed).
 */
export function readBaseline(path: string, root: string): { baseline?: Baseline; problems: InputProblem[] } {
  const file = relative(root, path) || path;
  if (!existsSync(path)) return { problems: [] };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      problems: [
        {
          file,
          field: "(file)",
          message: `cannot be read (${code}): it is the committed desired state customer changes are checked against`,
        },
      ],
    };
  }
  return baselineOf(text, file);
}
