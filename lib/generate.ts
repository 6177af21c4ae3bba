/**
 * Every file the repository commits that is derived from another of its files, and how each is
 * made. `npm run generate` rewrites the ones that are out of date; `npm run generate -- --check`
 * names them and fails (tests/generated.test.ts runs it, so CI fails on a stale one).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { desiredStateFile, stackFileName } from "./config/stackFile";
import { projectStacks, stackConfigOf } from "./config/stacks";
import { PVE_BOUNDS_FILE, renderPveBoundsFile } from "./config/pveBoundsFile";
import * as schemaBounds from "./permissions/pveBounds";
import { pveBoundsFileOf } from "./permissions/pveBoundsDerivation";
import { CUSTOMER_JSON_SCHEMA_PATH, customerJsonSchema } from "./customers/jsonSchema";
import { policyConfigFile, renderPolicyConfig } from "../policy/config";

export interface Artefact {
  /** Path relative to the project root. */
  file: string;
  /** What it is derived from. */
  from: string;
  /** Its text, derived afresh. */
  render(): string;
}

/** The stacks CI deploys (every stack file not marked `nodepoint:deploy: false`). */
export function deployedStacks(root: string): string[] {
  return projectStacks(root).filter((stack) => stackConfigOf(stack, root).deploy);
}

/** Every generated file of the project at `root`. */
export function artefacts(root: string): Artefact[] {
  return [
    {
      file: relative(root, PVE_BOUNDS_FILE),
      from: "contracts/proxmox-ve/api-schema.json (lib/permissions/pveBounds.ts)",
      render: () => renderPveBoundsFile(pveBoundsFileOf(schemaBounds)),
    },
    { file: CUSTOMER_JSON_SCHEMA_PATH, from: "lib/customers/schema.ts", render: customerJsonSchema },
    ...deployedStacks(root).flatMap((stack): Artefact[] => [
      {
        file: policyConfigFile(stack),
        from: stackFileName(stack),
        render: () => renderPolicyConfig(stackConfigOf(stack, root)),
      },
      {
        file: desiredStateFile(stack),
        from: `index.ts, ${stackFileName(stack)} and the stack's customer files`,
        render: () => planJson(root, stack),
      },
    ]),
  ];
}

/** The stack's desired state as `npm run plan -- --json` writes it (in a process of its own: one program run per process). */
function planJson(root: string, stack: string): string {
  const dir = mkdtempSync(join(tmpdir(), "generate-"));
  try {
    const out = join(dir, `${stack}.json`);
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", join(root, "scripts/plan.ts"), "--stack", stack, "--json", out],
      { cwd: root, encoding: "utf8" },
    );
    if (run.status !== 0)
      throw new Error(`npm run plan -- --stack ${stack} failed (exit ${run.status ?? run.signal}):\n${run.stderr}`);
    return readFileSync(out, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The current text of an artefact's file, or undefined when it is missing. */
export function currentText(root: string, artefact: Artefact): string | undefined {
  try {
    return readFileSync(join(root, artefact.file), "utf8");
  } catch {
    return undefined;
  }
}
