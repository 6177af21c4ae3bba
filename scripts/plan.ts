/**
 * The offline plan: runs the real program (index.ts) under Pulumi's mock runtime with a stack's
 * config and prints every resource it declares plus a capacity table, or writes the plan JSON.
 *
 *   npm run plan [-- --stack NAME] [--customers DIR] [--json FILE] [--debug]
 *   npm run plan -- --diff [REF] [--fail-on replace,delete]   compare with desired-state/<stack>.json (or that file at a git ref)
 *   npm run plan -- --import-file FILE  write the file `pulumi import --file` reads
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { diffPlans } from "../lib/plan/diff";
import { gateFindings, GATE_KIND_MEANING, GATE_KINDS, parseGateKinds, renderDiff } from "../lib/plan/diffReport";
import { importFile } from "../lib/plan/importFile";
import { planDocument, serializePlan, type PlanDocument } from "../lib/plan/planJson";
import { renderCapacity, renderSteps, renderTree } from "../lib/plan/render";
import type { CapacityReport } from "../lib/planning/capacity";
import { parsePlanDocument } from "../lib/customers/baseline";
import { desiredStateFile } from "../lib/config/stackFile";
import { InvalidInputError } from "../lib/errors";
import { EXIT, parseCommandLine, runCli, UsageError } from "./cli";

/** `--fail-on` matched: the diff holds a change of a refused kind. */
const EXIT_GATE = 3;

const USAGE = `usage: npm run plan -- [--stack NAME] [--customers DIR] [--debug] [MODE]
  (no mode)                 print every resource, the first up's steps and the capacity tables
  --json FILE               write the whole desired state (plan JSON) to FILE
  --diff [REF|FILE.json]    markdown diff against desired-state/<stack>.json, that file at git REF,
                            or a plan JSON written by --json
    --fail-on KINDS         with --diff: exit ${EXIT_GATE} when it holds a change of these kinds
                            (comma-separated: ${GATE_KINDS.map((k) => `${k} = ${GATE_KIND_MEANING[k]}`).join("; ")})
  --import-file FILE        write the file \`pulumi import --file\` reads
exit: 0 done, 1 input problems or failure, 2 usage error, ${EXIT_GATE} --fail-on matched`;

/** A plan document's text, or an error naming where it came from when it is not one (never "no changes"). */
function planText(text: string, file: string): PlanDocument {
  const parsed = parsePlanDocument(text, file);
  if (!parsed.doc) throw new InvalidInputError(parsed.problems);
  return parsed.doc as unknown as PlanDocument;
}

/** The desired state to compare with: the committed file, that file at a git ref, or a saved plan JSON file. */
function committedPlan(root: string, stack: string, ref: string | undefined): PlanDocument {
  const path = desiredStateFile(stack);
  if (ref?.endsWith(".json") && existsSync(resolve(root, ref)))
    return planText(readFileSync(resolve(root, ref), "utf8"), ref);
  if (ref) {
    const git = (args: string[]) =>
      execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    try {
      git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch {
      throw new UsageError(`--diff ${ref}: not a commit, branch or tag of this repository (git fetch it first?)`);
    }
    let text: string;
    try {
      text = git(["show", `${ref}:${path}`]);
    } catch {
      // A stack that is new at this ref: everything in it is added.
      console.error(`note: ${path} does not exist at ${ref}; everything shows as added`);
      return { stack, resources: [] };
    }
    return planText(text, `${ref}:${path}`);
  }
  if (!existsSync(resolve(root, path)))
    throw new Error(`${path} does not exist: write it with npm run plan -- --stack ${stack} --json ${path}`);
  return planText(readFileSync(resolve(root, path), "utf8"), path);
}

function gateKinds(text: string) {
  try {
    return parseGateKinds(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine({
    options: {
      stack: { type: "string", default: "prod" },
      customers: { type: "string" },
      json: { type: "string" },
      diff: { type: "boolean", default: false },
      "fail-on": { type: "string" },
      "import-file": { type: "string" },
      debug: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  const modes = (["json", "diff", "import-file"] as const).filter((m) => values[m]);
  if (modes.length > 1) throw new UsageError(`choose one of ${modes.map((m) => `--${m}`).join(", ")}`);
  if (values["fail-on"] !== undefined && !values.diff) throw new UsageError("--fail-on needs --diff");
  const gate = values["fail-on"] === undefined ? [] : gateKinds(values["fail-on"]);
  if (positionals.length > (values.diff ? 1 : 0))
    throw new UsageError(`unexpected argument ${positionals.slice(values.diff ? 1 : 0).join(" ")}`);
  const root = process.cwd();
  const ref = values.diff ? positionals[0] : undefined;
  // Resolve the ref before planning: a wrong ref fails in a moment, not after the plan.
  const committed = values.diff ? committedPlan(root, values.stack, ref) : undefined;

  // Loaded only now: the Pulumi SDK takes a moment to load, and help or a usage error needs none of it.
  const { runPlan } = await import("../lib/plan/runPlan.js");
  const started = performance.now();
  const result = await runPlan({
    stack: values.stack,
    root,
    debugStacks: values.debug,
    ...(values.customers ? { customersDir: values.customers } : {}),
  });
  const elapsed = performance.now() - started;
  const doc = planDocument(values.stack, result.resources);
  if (committed) {
    const before = planDocument(values.stack, committed.resources);
    const diff = diffPlans(before, doc);
    const title = `Desired state of ${values.stack} vs ${ref ?? "the committed desired-state file"}`;
    console.log(renderDiff(diff, title, { before, after: doc }));
    const findings = gateFindings(diff, gate);
    if (findings.length === 0) return EXIT.ok;
    console.log(
      [
        `**Refused by \`--fail-on ${gate.join(",")}\`** (${findings.length}): a person must confirm these changes.`,
        "",
        ...findings.map((f) => `- ${f}`),
        "",
      ].join("\n"),
    );
    console.error(
      `plan: --fail-on ${gate.join(",")}: ${findings.length} refused change(s):\n  ${findings.join("\n  ")}`,
    );
    return EXIT_GATE;
  }
  if (values["import-file"]) {
    const file = importFile(result.resources);
    writeFileSync(resolve(root, values["import-file"]), `${JSON.stringify(file, null, 2)}\n`);
    console.log(
      `wrote ${values["import-file"]}: ${file.resources.length} resources to adopt (pulumi import --file ${values["import-file"]})`,
    );
    return EXIT.ok;
  }
  if (values.json) {
    writeFileSync(resolve(root, values.json), serializePlan(doc));
    console.log(
      `wrote ${values.json}: ${result.resources.length} resources (stack ${values.stack}, ${elapsed.toFixed(0)} ms)`,
    );
    return EXIT.ok;
  }
  console.log(
    `Stack ${values.stack}: ${result.resources.length} resources, ${result.invokes} provider invokes, planned offline in ${elapsed.toFixed(0)} ms\n`,
  );
  console.log(renderTree(result.resources));
  console.log("");
  console.log(renderSteps(result.resources));
  console.log("");
  console.log(renderCapacity(result.outputs["capacity"] as CapacityReport));
  return EXIT.ok;
}

runCli("plan", USAGE, main);
