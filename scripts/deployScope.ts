/**
 * What a deploy of a push touches (lib/plan/deployTargets.ts): the changed customers' resources, or
 * the whole stack. Compares the stack's desired state at `--base` (the commit deployed before) with
 * the working tree's, and the files changed between them.
 *
 *   npm run --silent deploy-scope -- --stack prod --base <commit> [--github-output FILE]
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { desiredStateFile, stackFileName } from "../lib/config/stackFile";
import { parsePlanDocument } from "../lib/customers/baseline";
import { deployScope, type DeployScope, type PlannedResource } from "../lib/plan/deployTargets";
import { EXIT, parseCommandLine, runCli, UsageError } from "./cli";

const USAGE = `usage: npm run --silent deploy-scope -- --stack NAME [--base COMMIT] [--github-output FILE]
  prints the deploy's scope as JSON: {"mode":"targeted","customers":[...],"targets":[URN...]} when the
  push since COMMIT changes only customers (their files and desired state), else {"mode":"full","reason"}
  (also without --base, or when COMMIT is unknown, e.g. a first push)
  --github-output FILE   also append mode= and targets= (one URN per line) for a GitHub Actions step
exit: 0 done, 1 failed, 2 usage error`;

const git = (args: string[]): string =>
  execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The resources of a desired-state text, or an error naming where it came from. */
function resourcesOf(text: string, where: string): PlannedResource[] {
  const { doc, problems } = parsePlanDocument(text, where);
  if (!doc) throw new Error(problems.map((p) => `${p.file}: ${p.field} ${p.message}`).join("\n"));
  return doc.resources;
}

function scopeOf(stack: string, base: string | undefined): DeployScope {
  const file = desiredStateFile(stack);
  const after = resourcesOf(readFileSync(file, "utf8"), file);
  if (!base) return { mode: "full", reason: "no base commit to compare with" };
  try {
    git(["cat-file", "-e", `${base}^{commit}`]);
  } catch {
    return { mode: "full", reason: `base ${base} is not a commit of this checkout` };
  }
  let beforeText: string | undefined;
  try {
    beforeText = git(["show", `${base}:${file}`]);
  } catch {
    beforeText = undefined; // the stack had no desired state then
  }
  const changed = git(["diff", "--name-only", base, "HEAD", "--"]).split("\n").filter(Boolean);
  return deployScope(beforeText === undefined ? undefined : resourcesOf(beforeText, `${base}:${file}`), after, changed);
}

function main(): number {
  const { values, positionals } = parseCommandLine({
    options: {
      stack: { type: "string" },
      base: { type: "string" },
      "github-output": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals.join(" ")}`);
  if (!values.stack) throw new UsageError("--stack is required");
  readFileSync(stackFileName(values.stack)); // an unknown stack fails here, naming its file
  const base = values.base && !/^0+$/.test(values.base) ? values.base : undefined;
  const scope = scopeOf(values.stack, base);
  console.log(JSON.stringify(scope));
  if (values["github-output"]) {
    const targets = scope.mode === "targeted" ? scope.targets.join("\n") : "";
    appendFileSync(
      values["github-output"],
      `mode=${scope.mode}\ntargets<<NODEPOINT_TARGETS\n${targets}\nNODEPOINT_TARGETS\n`,
    );
  }
  return EXIT.ok;
}

runCli("deploy-scope", USAGE, main);
