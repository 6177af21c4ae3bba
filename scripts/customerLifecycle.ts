/**
 * `npm run customer -- suspend|unsuspend|decommission|remove|set-plan <slug>`: the lifecycle
 * changes of one customer file, decided by lib/customers/customerChanges.ts (the same functions the
 * provisioner applies for Paymenter's events). Each writes at most that one file, or nothing.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { StackConfig } from "../lib/config/schema";
import { topologyOf } from "../lib/config/topology";
import {
  changeCustomerPlan,
  decommissionCustomer,
  editCustomerText,
  removeCustomer,
  suspendCustomer,
  unsuspendCustomer,
  type FileChange,
} from "../lib/customers/customerChanges";
import { loadCustomerFiles } from "../lib/customers/loadCustomers";
import { retireInStackText } from "../lib/customers/retired";
import { stackFileName } from "../lib/config/stackFile";
import { formatProblems } from "../lib/errors";

export const LIFECYCLE_COMMANDS = ["suspend", "unsuspend", "decommission", "remove", "set-plan"] as const;
export type LifecycleCommand = (typeof LIFECYCLE_COMMANDS)[number];

export const LIFECYCLE_USAGE = `  npm run customer -- suspend|unsuspend|decommission|remove <slug> [--stack NAME] [--customers DIR]
  npm run customer -- set-plan <slug> --plan PLAN [--stack NAME] [--customers DIR]`;

export function isLifecycleCommand(command: string | undefined): command is LifecycleCommand {
  return (LIFECYCLE_COMMANDS as readonly string[]).includes(command ?? "");
}

/** Runs one lifecycle command; returns the exit code. */
export function runLifecycleCommand(
  command: LifecycleCommand,
  slug: string,
  options: { config: StackConfig; stack: string; root: string; customersDir?: string; plan?: string },
): number {
  const { config, root } = options;
  const dir = resolve(root, options.customersDir ?? config.customersDir);
  const path = join(dir, `${slug}.yaml`);
  const file = relative(root, path);
  if (!existsSync(path)) {
    console.error(`${file}: (file name): no customer "${slug}"; nothing written`);
    return 1;
  }
  const loaded = loadCustomerFiles(dir, root);
  if (loaded.problems.length > 0) {
    console.error(`customer files have problems; fix them first, nothing written:\n${formatProblems(loaded.problems)}`);
    return 1;
  }
  const customer = loaded.files.find((f) => f.slug === slug)!;

  if (command === "remove") {
    const r = removeCustomer(customer);
    if (!r.ok) {
      console.error(`${formatProblems(r.problems)}\nnothing written`);
      return 1;
    }
    // The VMID and IP are retired in the same change (lib/customers/retired.ts): never handed out again.
    const stackPath = resolve(root, stackFileName(options.stack));
    writeFileSync(stackPath, retireInStackText(readFileSync(stackPath, "utf8"), r.retire));
    unlinkSync(path);
    console.log(
      `removed ${file} and retired VMID ${r.retire.vmid} and IP ${r.retire.ip} in ${stackFileName(options.stack)} (merge this only once its decommission is deployed)`,
    );
    return 0;
  }

  let change: FileChange;
  if (command === "set-plan") {
    if (!options.plan) {
      console.error(`${file}: plan: --plan is required\n${LIFECYCLE_USAGE}`);
      return 2;
    }
    change = changeCustomerPlan({ config, topology: topologyOf(config), files: loaded.files }, customer, options.plan);
  } else {
    change = { suspend: suspendCustomer, unsuspend: unsuspendCustomer, decommission: decommissionCustomer }[command](
      customer,
    );
  }
  if (!change.ok) {
    console.error(`${formatProblems(change.problems)}\nnothing written`);
    return 1;
  }
  if (!change.data) {
    console.log(
      `${file}: nothing to change (${customer.data.state}, plan ${customer.data.plan ?? config.defaultPlan})`,
    );
    return 0;
  }
  writeFileSync(path, editCustomerText(readFileSync(path, "utf8"), change.data));
  console.log(`wrote ${file}: state ${change.data.state}, plan ${change.data.plan ?? config.defaultPlan}`);
  return 0;
}
