/**
 * Writes lib/permissions/roles.generated.json: the automation tokens' roles and ACL entries, derived
 * from the Proxmox VE API schema (../shared/contracts/proxmox-ve/api-schema.json) by
 * lib/permissions/scopes.ts. Run it after changing a scope or the schema, and commit the file.
 *
 *   npm run roles             (re)write the file
 *   npm run roles -- --check  exit 1 when the file is missing or out of date (CI)
 *   npm run roles -- --schema PATH   derive from another copy of the schema
 */
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { ACCESS_SCOPES_FILE, accessScopesFileOf, renderAccessScopesFile } from "../lib/permissions/accessScopes";
import { DEFAULT_SCHEMA_PATH, loadPveApiSchema } from "../lib/permissions/pveApiSchema";
import { deriveScopes } from "../lib/permissions/scopes";

function main(): number {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false }, schema: { type: "string", default: DEFAULT_SCHEMA_PATH } } });
  const text = renderAccessScopesFile(accessScopesFileOf(deriveScopes(loadPveApiSchema(values.schema))));
  const shown = relative(process.cwd(), ACCESS_SCOPES_FILE);
  let current: string | undefined;
  try {
    current = readFileSync(ACCESS_SCOPES_FILE, "utf8");
  } catch {
    current = undefined;
  }
  if (values.check) {
    if (current === text) return 0;
    console.error(`${shown} is ${current === undefined ? "missing" : "out of date"}: run npm run roles and commit it`);
    return 1;
  }
  if (current === text) {
    console.log(`${shown} is up to date`);
    return 0;
  }
  writeFileSync(ACCESS_SCOPES_FILE, text);
  console.log(`wrote ${shown}`);
  return 0;
}

process.exitCode = main();
