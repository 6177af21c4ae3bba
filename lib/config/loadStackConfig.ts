import * as pulumi from "@pulumi/pulumi";
import { InvalidInputError, ProblemList } from "../errors";
import { stackConfigSchema, type StackConfig } from "./schema";
import { validateTopology } from "./validateTopology";
import { REQUIRED_SECRETS } from "./secrets";
import { stackFileName } from "./stackFile";
import { zodProblems } from "./zodProblems";

/** The config namespace of this project (the `name` in Pulumi.yaml). */
export const CONFIG_NAMESPACE = "nodepoint";

/**
 * Reads every `nodepoint:*` key of the current stack, parses it with the one schema and checks the
 * cross-field rules. Throws `InvalidInputError` listing every problem, each with the file and key.
 */
export function loadStackConfig(): StackConfig {
  return parseStackConfig(pulumi.runtime.allConfig(), stackFileName(pulumi.getStack()));
}

/** Parses a flat config map (`ns:key` to text, as Pulumi passes it); pure, for tools and tests. */
export function parseStackConfig(flat: Record<string, string>, file: string): StackConfig {
  const problems = new ProblemList();
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [fullKey, value] of Object.entries(flat)) {
    if (!fullKey.startsWith(prefix) || REQUIRED_SECRETS.some((s) => s.key === fullKey)) continue;
    const key = fullKey.slice(prefix.length);
    raw[key] = parseConfigValue(value);
  }
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) {
    problems.addAll(zodProblems(file, parsed.error, (path) => `${prefix}${path}`));
    throw new InvalidInputError(problems.items);
  }
  problems.addAll(validateTopology(parsed.data, file));
  problems.throwIfAny();
  return parsed.data;
}

/** Pulumi hands structured config values over as JSON text, scalars as plain text. */
function parseConfigValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
