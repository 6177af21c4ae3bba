/**
 * Writes lib/permissions/roles.<stack>.generated.json for every Pulumi.<stack>.yaml in the project:
 * the automation tokens' roles and ACL entries for that stack's cluster, derived from the Proxmox VE
 * API schema (../shared/contracts/proxmox-ve/api-schema.json) and the stack's config by
 * lib/permissions/scopes.ts, with the fingerprint of the stack's cluster facts (the program refuses a
 * file whose fingerprint differs from its stack file's). Run it after changing a scope, the schema or
 * a stack file, and commit the files.
 *
 *   npm run roles             (re)write the files
 *   npm run roles -- --check  exit 1 when a file is missing or out of date, or a file has no stack (CI)
 *   npm run roles -- --schema PATH   derive from another copy of the schema
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { parseArgs } from "node:util";
import { formatProblems, InvalidInputError } from "../lib/errors";
import { accessScopesFile, accessScopesFileOf, renderAccessScopesFile } from "../lib/permissions/accessScopes";
import { DEFAULT_SCHEMA_PATH, loadPveApiSchema } from "../lib/permissions/pveApiSchema";
import { deriveScopes } from "../lib/permissions/scopes";
import { projectStacks, stackClusterFacts } from "../lib/permissions/stackFacts";

/** Generated files whose stack file is gone (a removed stack, or the pre-per-stack roles.generated.json). */
function orphans(stacks: readonly string[]): string[] {
  const dir = dirname(accessScopesFile("x"));
  const wanted = new Set(stacks.map((s) => accessScopesFile(s)));
  return readdirSync(dir)
    .filter((f) => /^roles\.(.+\.)?generated\.json$/.test(f))
    .map((f) => `${dir}/${f}`)
    .filter((f) => !wanted.has(f));
}

function main(): number {
  const { values } = parseArgs({
    options: { check: { type: "boolean", default: false }, schema: { type: "string", default: DEFAULT_SCHEMA_PATH } },
  });
  const schema = loadPveApiSchema(values.schema);
  const stacks = projectStacks();
  if (stacks.length === 0) {
    console.error("no Pulumi.<stack>.yaml in the project root");
    return 1;
  }
  let stale = 0;
  for (const stack of stacks) {
    let text: string;
    try {
      const facts = stackClusterFacts(stack);
      text = renderAccessScopesFile(accessScopesFileOf(deriveScopes(schema, facts), facts));
    } catch (err) {
      console.error(
        err instanceof InvalidInputError
          ? formatProblems(err.problems)
          : `Pulumi.${stack}.yaml: ${(err as Error).message}`,
      );
      stale++;
      continue;
    }
    const file = accessScopesFile(stack);
    const shown = relative(process.cwd(), file);
    const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    if (current === text) {
      if (!values.check) console.log(`${shown} is up to date`);
    } else if (values.check) {
      console.error(
        `${shown} is ${current === undefined ? "missing" : "out of date"}: run npm run roles and commit it`,
      );
      stale++;
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${shown}`);
    }
  }
  for (const file of orphans(stacks)) {
    const shown = relative(process.cwd(), file);
    if (values.check) {
      console.error(`${shown} belongs to no Pulumi.<stack>.yaml: run npm run roles (it removes it) and commit`);
      stale++;
    } else {
      rmSync(file);
      console.log(`removed ${shown} (no stack file)`);
    }
  }
  return stale === 0 ? 0 : 1;
}

process.exitCode = main();
