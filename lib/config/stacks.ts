/** The project's stacks (one per cluster), read offline from their `Pulumi.<stack>.yaml` files. */
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { readStackFile, stackFileName, stackOfFileName } from "./stackFile";
import { parseStackConfig } from "./loadStackConfig";
import type { StackConfig } from "./schema";

/** The project root: where Pulumi.yaml and the stack files are. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Every stack with a `Pulumi.<stack>.yaml` in `root`, sorted by name. */
export function projectStacks(root: string = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map(stackOfFileName)
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** One stack's config, from its stack file, parsed and validated as the program does (no secret is read). */
export function stackConfigOf(stack: string, root: string = PROJECT_ROOT): StackConfig {
  const file = stackFileName(stack);
  return parseStackConfig(readStackFile(path.join(root, file), file).config, file);
}
