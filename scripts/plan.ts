/**
 * The offline plan: runs the real program (index.ts) under Pulumi's mock runtime with a stack's
 * config and prints every resource it declares plus a capacity table, or writes the plan JSON.
 *
 *   npm run plan [-- --stack NAME] [--customers DIR] [--json FILE] [--debug]
 *   npm run plan -- --diff [REF]        compare with desired-state/<stack>.json (or that file at a git ref)
 *   npm run plan -- --import-file FILE  write the file `pulumi import --file` reads
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { InvalidInputError } from "../lib/errors";
import { diffPlans, renderDiff } from "../lib/plan/diff";
import { importFile } from "../lib/plan/importFile";
import { planDocument, serializePlan, type PlanDocument } from "../lib/plan/planJson";
import { renderCapacity, renderSteps, renderTree } from "../lib/plan/render";
import { runPlan } from "../lib/plan/runPlan";
import type { CapacityReport } from "../lib/planning/capacity";

const USAGE =
  "usage: npm run plan -- [--stack NAME] [--customers DIR] [--json FILE | --diff [REF] | --import-file FILE] [--debug]";

/** The committed desired state of a stack: the working-tree file, or the file at a git ref. */
function committedPlan(root: string, stack: string, ref: string | undefined): PlanDocument {
  const path = `desired-state/${stack}.json`;
  if (ref) {
    try {
      return JSON.parse(
        execFileSync("git", ["show", `${ref}:${path}`], {
          cwd: root,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        }),
      ) as PlanDocument;
    } catch {
      console.error(`note: ${path} does not exist at ${ref}; everything shows as added`);
      return { stack, resources: [] };
    }
  }
  if (!existsSync(resolve(root, path)))
    throw new Error(`${path} does not exist: write it with npm run plan -- --stack ${stack} --json ${path}`);
  return JSON.parse(readFileSync(resolve(root, path), "utf8")) as PlanDocument;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      stack: { type: "string", default: "prod" },
      customers: { type: "string" },
      json: { type: "string" },
      diff: { type: "boolean", default: false },
      "import-file": { type: "string" },
      debug: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = process.cwd();
  const started = performance.now();
  const result = await runPlan({
    stack: values.stack,
    root,
    debugStacks: values.debug,
    ...(values.customers ? { customersDir: values.customers } : {}),
  });
  const elapsed = performance.now() - started;
  const doc = planDocument(values.stack, result.resources);
  if (values.diff) {
    const ref = positionals[0];
    const before = committedPlan(root, values.stack, ref);
    const diff = diffPlans(planDocument(values.stack, before.resources), doc);
    console.log(renderDiff(diff, `Desired state of ${values.stack} vs ${ref ?? "the committed desired-state file"}`));
    return 0;
  }
  if (values["import-file"]) {
    const file = importFile(result.resources);
    writeFileSync(resolve(root, values["import-file"]), `${JSON.stringify(file, null, 2)}\n`);
    console.log(
      `wrote ${values["import-file"]}: ${file.resources.length} resources to adopt (pulumi import --file ${values["import-file"]})`,
    );
    return 0;
  }
  if (values.json) {
    writeFileSync(resolve(root, values.json), serializePlan(doc));
    console.log(
      `wrote ${values.json}: ${result.resources.length} resources (stack ${values.stack}, ${elapsed.toFixed(0)} ms)`,
    );
    return 0;
  }
  console.log(
    `Stack ${values.stack}: ${result.resources.length} resources, ${result.invokes} provider invokes, planned offline in ${elapsed.toFixed(0)} ms\n`,
  );
  console.log(renderTree(result.resources));
  console.log("");
  console.log(renderSteps(result.resources));
  console.log("");
  console.log(renderCapacity(result.outputs["capacity"] as CapacityReport));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const debug = process.argv.includes("--debug");
    if (err instanceof InvalidInputError) console.error(err.message);
    else console.error(`plan failed: ${err instanceof Error ? err.message : String(err)}`);
    if (debug && err instanceof Error && err.stack) console.error(err.stack);
    else if (!(err instanceof InvalidInputError)) console.error("(run with --debug for the stack trace)");
    process.exit(1);
  },
);
