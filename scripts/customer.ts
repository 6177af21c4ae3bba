/**
 * Customer files, for support staff and the provisioning flow.
 *
 *   npm run customer -- add <slug> --domain <domain> [--plan PLAN] [--node nodeX] [--ha] [--stack prod] [--customers DIR]
 *   npm run customer -- show <slug> [--show-secrets] [--stack prod]
 *   npm run customer -- suspend|unsuspend|decommission|remove|set-plan <slug>   (scripts/customerLifecycle.ts)
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { formatProblems, InvalidInputError } from "../lib/errors";
import { planNewCustomer } from "../lib/customers/addCustomer";
import { CUSTOMER_JSON_SCHEMA_PATH } from "../lib/customers/jsonSchema";
import { customerDomainsOfAllStacks } from "../lib/customers/crossStack";
import { CUSTOMER_FILE, loadCustomerFiles } from "../lib/customers/loadCustomers";
import { customerFileText } from "../lib/customers/customerChanges";
import { parseCommandLine, runCli, UsageError } from "./cli";
import { isLifecycleCommand, LIFECYCLE_COMMANDS, LIFECYCLE_USAGE, runLifecycleCommand } from "./customerLifecycle";
import { DOMAIN_USAGE, isDomainCommand, runDomainCommand } from "./customerDomains";
import { isOperationCommand, OPERATION_USAGE, runOperationCommand } from "./customerOperations";

const USAGE = `usage:
  npm run customer -- add <slug> --domain <domain> [--plan PLAN] [--node NODE] [--ha] [--stack NAME] [--customers DIR]
  npm run customer -- show <slug> [--show-secrets] [--stack NAME] [--customers DIR]
${LIFECYCLE_USAGE}
${OPERATION_USAGE}
${DOMAIN_USAGE}
  npm run customer -- --help
add writes customers/<slug>.yaml (lowest free VMID and IP, the node with most room) after checking it
as the plan will; then run: npm run generate (the desired state), and npm test.
exit: 0 done, 1 refused (nothing written), 2 usage error`;

const COMMANDS = ["add", "show", ...LIFECYCLE_COMMANDS];

function main(): number | Promise<number> {
  // Operations on a customer's container (scripts/customerOperations.ts) and custom domains
  // (scripts/customerDomains.ts) take their own arguments.
  const args = process.argv.slice(2);
  if (isOperationCommand(args[0])) return runOperationCommand(args);
  if (isDomainCommand(args[0])) return runDomainCommand(args);
  const { values, positionals } = parseCommandLine({
    allowPositionals: true,
    options: {
      domain: { type: "string" },
      plan: { type: "string" },
      node: { type: "string" },
      ha: { type: "boolean" },
      stack: { type: "string", default: "prod" },
      customers: { type: "string" },
      "show-secrets": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, slug, ...extra] = positionals;
  if (!command) throw new UsageError("which command? (add, show, suspend, start, snapshot, ...)");
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (!slug) throw new UsageError(`${command} needs the customer's slug`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(" ")}`);
  const root = process.cwd();
  if (isLifecycleCommand(command) && slug) {
    const config = stackConfigOf(values.stack, root);
    return runLifecycleCommand(command, slug, {
      config,
      stack: values.stack,
      root,
      ...(values.customers !== undefined ? { customersDir: values.customers } : {}),
      ...(values.plan !== undefined ? { plan: values.plan } : {}),
    });
  }
  if ((command !== "add" && command !== "show") || !slug) throw new UsageError(`unknown command "${command}"`);
  const config = stackConfigOf(values.stack, root);
  const dir = resolve(root, values.customers ?? config.customersDir);
  const path = join(dir, `${slug}.yaml`);
  const file = relative(root, path);

  if (command === "show") return show(slug, file, dir, root, config.defaultPlan, values.stack, values["show-secrets"]);

  if (!values.domain) throw new UsageError("add needs --domain <domain>");
  if (values.plan !== undefined && !(values.plan in config.plans))
    throw new UsageError(
      `--plan ${values.plan}: not a plan of stack ${values.stack} (${Object.keys(config.plans).join(", ")})`,
    );
  if (existsSync(path)) {
    console.error(`${file}: (file name): customer "${slug}" already exists; nothing written`);
    return 1;
  }
  const elsewhere = customerDomainsOfAllStacks(root).get(values.domain.toLowerCase());
  if (elsewhere) {
    console.error(
      `${file}: domain: ${values.domain} is already used by ${elsewhere.map((o) => `${o.file} (stack ${o.stack})`).join(", ")}; nothing written`,
    );
    return 1;
  }
  const loaded = loadCustomerFiles(dir, root);
  if (loaded.problems.length > 0) {
    console.error(
      `existing customer files have problems; fix them first, nothing written:\n${formatProblems(loaded.problems)}`,
    );
    return 1;
  }
  const result = planNewCustomer(
    config,
    topologyOf(config),
    loaded.files,
    {
      slug,
      domain: values.domain,
      ...(values.plan !== undefined ? { plan: values.plan } : {}),
      ...(values.node ? { node: values.node } : {}),
      ...(values.ha !== undefined ? { ha: values.ha } : {}),
    },
    file,
  );
  if (!result.ok) {
    console.error(`${formatProblems(result.problems)}\nnothing written`);
    return 1;
  }
  const schemaRef = relative(dir, resolve(root, CUSTOMER_JSON_SCHEMA_PATH));
  writeFileSync(path, customerFileText(result.file, schemaRef), { flag: "wx" });
  console.log(
    `wrote ${file}: vmid ${result.file.vmid}, ip ${result.file.ip}, node ${result.file.node}, plan ${result.file.plan}`,
  );
  return 0;
}

/** Prints a customer's access details; outputs come from the Pulumi CLI when it is installed. */
function show(
  slug: string,
  file: string,
  dir: string,
  root: string,
  defaultPlan: string,
  stack: string,
  showSecrets: boolean,
): number {
  // Read as the plan reads it: `<slug>.yml` found too, a broken file named with its problems.
  const loaded = loadCustomerFiles(dir, root);
  const found = loaded.files.find((f) => f.slug === slug);
  if (!found) {
    const own = loaded.problems.filter((p) => CUSTOMER_FILE.exec(basename(p.file))?.[1]?.toLowerCase() === slug);
    if (own.length > 0) throw new InvalidInputError(own);
    console.error(`${file}: (file name): no customer "${slug}"`);
    return 1;
  }
  const c = found.data;
  let live: Record<string, unknown> | undefined;
  try {
    const args = [
      "stack",
      "output",
      "sitesBySlug",
      "--json",
      "--stack",
      stack,
      ...(showSecrets ? ["--show-secrets"] : []),
    ];
    live = (
      JSON.parse(execFileSync("pulumi", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as Record<
        string,
        Record<string, unknown>
      >
    )[slug];
  } catch {
    live = undefined;
  }
  const password = live?.["adminPassword"];
  const lines = [
    `customer:       ${slug} (${c.plan ?? defaultPlan}, ${c.state})`,
    `site URL:       https://${c.domain}/`,
    `admin URL:      https://${c.domain}/wp-admin/`,
    `admin user:     ${String(live?.["adminUser"] ?? "admin")}`,
    `admin password: ${showSecrets && typeof password === "string" ? password : live ? "[secret] (add --show-secrets)" : "[secret] (needs the Pulumi CLI and stack access)"}`,
    `container:      CT ${c.vmid} on ${c.node}, ${c.ip}`,
  ];
  console.log(lines.join("\n"));
  return 0;
}

runCli("customer", USAGE, main);
