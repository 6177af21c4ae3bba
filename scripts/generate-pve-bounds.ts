/**
 * Writes lib/config/pveBounds.generated.json: the Proxmox VE limits guest and customer values are
 * validated against (VMID range, host name and tag formats, container and VM cores and memory, HA
 * restart and relocation counts), read from the Proxmox VE API schema
 * (../shared/contracts/proxmox-ve/api-schema.json) by lib/permissions/pveBounds.ts. Run it after the
 * schema changes, and commit the file: the program reads only the file, never the schema.
 *
 *   npm run pve-bounds             (re)write the file
 *   npm run pve-bounds -- --check  exit 1 when the file is missing or out of date (CI)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import * as schemaBounds from "../lib/permissions/pveBounds";
import { GENERATE_COMMAND, PVE_BOUNDS_FILE, renderPveBoundsFile } from "../lib/config/pveBoundsFile";
import { pveBoundsFileOf } from "../lib/permissions/pveBoundsDerivation";

function main(): number {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
  const text = renderPveBoundsFile(pveBoundsFileOf(schemaBounds));
  const shown = relative(process.cwd(), PVE_BOUNDS_FILE);
  let current: string | undefined;
  try {
    current = readFileSync(PVE_BOUNDS_FILE, "utf8");
  } catch {
    current = undefined;
  }
  if (values.check) {
    if (current === text) return 0;
    console.error(
      `${shown} is ${current === undefined ? "missing" : "out of date"}: run ${GENERATE_COMMAND} and commit it`,
    );
    return 1;
  }
  if (current === text) {
    console.log(`${shown} is up to date`);
    return 0;
  }
  writeFileSync(PVE_BOUNDS_FILE, text);
  console.log(`wrote ${shown}`);
  return 0;
}

process.exitCode = main();
