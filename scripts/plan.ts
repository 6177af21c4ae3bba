/**
 * The offline plan: runs the real program (index.ts) under Pulumi's mock runtime with a stack's
 * config and prints every resource it declares plus a capacity table, or writes the plan JSON.
 *
 *   npm run plan [-- --stack NAME] [--customers DIR] [--json FILE] [--debug]
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { InvalidInputError } from "../lib/errors";
import { planDocument, serializePlan } from "../lib/plan/planJson";
import { renderCapacity, renderTree } from "../lib/plan/render";
import { runPlan } from "../lib/plan/runPlan";
import type { CapacityReport } from "../lib/planning/capacity";

const USAGE = "usage: npm run plan -- [--stack NAME] [--customers DIR] [--json FILE] [--debug]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "prod" },
      customers: { type: "string" },
      json: { type: "string" },
      debug: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = process.cwd();
  const started = performance.now();
  const result = await runPlan({ stack: values.stack, root, ...(values.customers ? { customersDir: values.customers } : {}) });
  const elapsed = performance.now() - started;
  if (values.json) {
    writeFileSync(resolve(root, values.json), serializePlan(planDocument(values.stack, result.resources)));
    console.log(`wrote ${values.json}: ${result.resources.length} resources (stack ${values.stack}, ${elapsed.toFixed(0)} ms)`);
    return 0;
  }
  console.log(`Stack ${values.stack}: ${result.resources.length} resources, ${result.invokes} provider invokes, planned offline in ${elapsed.toFixed(0)} ms\n`);
  console.log(renderTree(result.resources));
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
