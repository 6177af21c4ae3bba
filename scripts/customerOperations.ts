/**
 * `npm run customer -- start|stop|restart|snapshot|restore|delete-snapshot|snapshots <slug> ...`:
 * operations on one customer's container, now, through the PVE API with the customer token
 * (lib/operations/customerOperations.ts decides and acts; this reads the customer file, the token and
 * the stack, prints, and appends every record to the operations log). Nothing here is desired state:
 * the customer file is read, never written.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { userInfo } from "node:os";
import { stackConfigOf } from "../lib/config/stacks";
import { loadCustomerFiles } from "../lib/customers/loadCustomers";
import { formatProblems } from "../lib/errors";
import {
  CUSTOMER_OPERATIONS,
  runCustomerOperation,
  type CustomerOperation,
  type OperationRecord,
  type OperationRequest,
  type OperationTarget,
} from "../lib/operations/customerOperations";
import { createPveClient } from "../lib/pve/client";
import { EXIT, parseCommandLine, UsageError } from "./cli";

/** The environment variable that holds the customer token (`pulumi-customers@pve!iac=<secret>`). */
export const CUSTOMER_TOKEN_ENV = "NODEPOINT_CUSTOMER_TOKEN";
/** Where records go unless `--log` says otherwise (relative to the project). */
export const DEFAULT_OPERATIONS_LOG = join("logs", "customer-operations.jsonl");

export const OPERATION_USAGE = `  npm run customer -- start|stop|restart|snapshots <slug> [--stack NAME] [--customers DIR]
  npm run customer -- snapshot <slug> [--name NAME] [--description TEXT]
  npm run customer -- restore|delete-snapshot <slug> <snapshot>
    these act now on the customer's container with the customer token (${CUSTOMER_TOKEN_ENV}, else
    pulumi stack output customerOperationsApi --show-secrets); options: --actor NAME (default: your
    login), --log FILE (default: ${DEFAULT_OPERATIONS_LOG}), --endpoint URL (another node's API)`;

export function isOperationCommand(command: string | undefined): command is CustomerOperation {
  return (CUSTOMER_OPERATIONS as readonly string[]).includes(command ?? "");
}

/** The customer token: from the environment, else from the stack's outputs through the Pulumi CLI. */
function customerToken(stack: string): string {
  const fromEnv = process.env[CUSTOMER_TOKEN_ENV];
  if (fromEnv) return fromEnv;
  let output: string;
  try {
    output = execFileSync(
      "pulumi",
      ["stack", "output", "customerOperationsApi", "--show-secrets", "--json", "--stack", stack],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
  } catch {
    throw new Error(
      `no customer token: set ${CUSTOMER_TOKEN_ENV} (pulumi-customers@pve!iac=<secret>), or run where the Pulumi CLI can read stack ${stack} (pulumi stack output customerOperationsApi --show-secrets)`,
    );
  }
  const token = (JSON.parse(output) as { apiToken?: unknown }).apiToken;
  if (typeof token !== "string" || !token.includes("="))
    throw new Error(`the stack output customerOperationsApi of ${stack} holds no token`);
  return token;
}

/** One record as a line on the terminal. */
function show(r: OperationRecord): string {
  return `${r.time} ${r.outcome.padEnd(7)} ${r.action} ${r.customer} (CT ${r.vmid}${r.node ? ` on ${r.node}` : ""}): ${r.message}`;
}

/** Runs one operation command; returns the exit code. */
export async function runOperationCommand(args: string[], root: string = process.cwd()): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      allowPositionals: true,
      options: {
        stack: { type: "string", default: "prod" },
        customers: { type: "string" },
        name: { type: "string" },
        description: { type: "string" },
        actor: { type: "string" },
        log: { type: "string" },
        endpoint: { type: "string" },
      },
    },
    args,
  );
  const [command, slug, snapshot, ...extra] = positionals;
  if (!isOperationCommand(command)) throw new UsageError(`unknown command "${command}"`);
  if (!slug) throw new UsageError(`${command} needs the customer's slug`);
  const needsSnapshot = command === "restore" || command === "delete-snapshot";
  if (needsSnapshot && !snapshot) throw new UsageError(`${command} needs the restore point's name`);
  if ((!needsSnapshot && snapshot) || extra.length > 0)
    throw new UsageError(`unexpected argument ${[...(needsSnapshot ? [] : [snapshot]), ...extra].join(" ")}`);
  if ((values.name || values.description) && command !== "snapshot")
    throw new UsageError("--name and --description go with snapshot");

  const config = stackConfigOf(values.stack, root);
  const dir = resolve(root, values.customers ?? config.customersDir);
  const loaded = loadCustomerFiles(dir, root);
  const file = relative(root, join(dir, `${slug}.yaml`));
  const customer = loaded.files.find((f) => f.slug === slug);
  const ownProblems = loaded.problems.filter((p) => p.file === file);
  if (!customer || ownProblems.length > 0) {
    console.error(ownProblems.length > 0 ? formatProblems(ownProblems) : `${file}: (file name): no customer "${slug}"`);
    return EXIT.failed;
  }
  const planName = customer.data.plan ?? config.defaultPlan;
  const plan = config.plans[planName];
  if (!plan) {
    console.error(`${file}: plan: "${planName}" is not a plan of stack ${values.stack}`);
    return EXIT.failed;
  }
  const target: OperationTarget = {
    slug,
    file: customer.file,
    vmid: customer.data.vmid,
    state: customer.data.state,
    plan: planName,
    quotas: { backups: plan.backups },
  };
  const request: OperationRequest =
    command === "snapshot"
      ? {
          action: "snapshot",
          ...(values.name ? { name: values.name } : {}),
          ...(values.description ? { description: values.description } : {}),
        }
      : needsSnapshot
        ? { action: command, snapshot: snapshot! }
        : { action: command };

  const logPath = resolve(root, values.log ?? DEFAULT_OPERATIONS_LOG);
  mkdirSync(dirname(logPath), { recursive: true });
  const client = createPveClient({
    endpoint: values.endpoint ?? config.proxmox.endpoint,
    insecure: config.proxmox.insecure,
    apiToken: customerToken(values.stack),
  });
  const result = await runCustomerOperation(target, request, {
    client,
    actor: values.actor ?? process.env["USER"] ?? userInfo().username,
    record: (r) => {
      appendFileSync(logPath, `${JSON.stringify(r)}\n`, { mode: 0o640 });
      (r.outcome === "refused" || r.outcome === "failed" ? console.error : console.log)(show(r));
    },
  });
  for (const p of result.restorePoints ?? [])
    console.log(
      `  ${p.name.padEnd(24)} ${p.snaptime ? new Date(p.snaptime * 1000).toISOString() : "".padEnd(24)}  ${p.description}`,
    );
  return result.outcome === "done" ? EXIT.ok : EXIT.failed;
}
