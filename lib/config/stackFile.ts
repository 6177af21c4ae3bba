import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { InvalidInputError } from "../errors";
import { placeholderOf, REQUIRED_SECRETS } from "./secrets";

/** The file a stack's config lives in (`Pulumi.<stack>.yaml`), relative to the project root. */
export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/** The stack a file name is the stack file of (`Pulumi.prod.yaml` → `prod`), or undefined. */
export function stackOfFileName(fileName: string): string | undefined {
  return /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(fileName)?.[1];
}

/**
 * Where a stack's committed desired state lives (the plan JSON `npm run generate` writes), relative
 * to the project root: the baseline customer changes are checked against, and what reviewers read.
 */
export function desiredStateFile(stack: string): string {
  return `desired-state/${stack}.json`;
}

/** Config as the Pulumi CLI hands it to a program: flat `ns:key` strings, plus which are secret. */
export interface FlatConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/**
 * Reads `Pulumi.<stack>.yaml` the way the CLI does, without decrypting anything: `secure:` values and
 * credentials the file does not hold get placeholders, marked secret. Objects become JSON text.
 */
export function readStackFile(path: string, displayName: string = path): FlatConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new InvalidInputError([
      { file: displayName, field: "(file)", message: "cannot be read (does the stack exist? use --stack NAME)" },
    ]);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new InvalidInputError([
      { file: displayName, field: "(yaml)", message: `is not valid YAML: ${(err as Error).message.split("\n")[0]}` },
    ]);
  }
  const raw = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (isSecure(value)) {
      config[key] = placeholderFor(key);
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  for (const secret of REQUIRED_SECRETS) {
    if (!(secret.key in config)) {
      config[secret.key] = placeholderOf(secret);
      secretKeys.push(secret.key);
    }
  }
  return { config, secretKeys };
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 1 && "secure" in value;
}

function placeholderFor(key: string): string {
  const secret = REQUIRED_SECRETS.find((s) => s.key === key);
  return secret ? placeholderOf(secret) : "offline-placeholder";
}
