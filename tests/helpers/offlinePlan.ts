import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { vi } from "vitest";
import { runOffline, type OfflineRunResult, type RecordedResource } from "../../lib/plan/offlineRuntime";
import { readStackFile, stackFileName } from "../../lib/config/stackFile";
import { INSTALLER_SSH_KEY, placeholderOf, REQUIRED_SECRETS } from "../../lib/config/secrets";
import { installerPublicKey } from "../../lib/ssh/installerKey";

export const ROOT = resolve(__dirname, "../..");
/**
 * The customers tests plan with: fixtures of their own, never the project's `customers/`, so that
 * adding or removing a real customer (a pull request) never breaks a test.
 */
export const FIXTURE_CUSTOMERS = join(ROOT, "tests", "fixtures", "customers");
/**
 * What a run under the Pulumi engine needs besides the stack file: real values for its stand-ins
 * (lib/config/realRun.ts refuses the documentation IP and the made-up zone ID). Stand-ins of their
 * own here: a public unicast address and a random-looking zone ID, never contacted. As `set` for
 * offlinePlan, and as config entries (`namespace:key` to text) for the runtime-path harness.
 */
export const REAL_RUN_VALUES = {
  ingress: { publicIp: "203.0.114.10" },
  cloudflare: { zones: { "nodepoint.eu": "5f2c8e1a9b7d4c3e6a0f1b2d8c9e7a4b" }, proxied: false },
};
export const REAL_RUN_CONFIG: Record<string, string> = Object.fromEntries(
  Object.entries(REAL_RUN_VALUES).map(([k, v]) => [`nodepoint:${k}`, JSON.stringify(v)]),
);
/** The public half of the installer key's stand-in (lib/config/secrets.ts), as the containers get it. */
export const INSTALLER_PUBLIC_KEY = installerPublicKey(
  placeholderOf(REQUIRED_SECRETS.find((s) => s.key === INSTALLER_SSH_KEY)!),
).openssh;
/** The real program, by path: imported fresh for every plan. */
const PROGRAM = join(ROOT, "index.ts");

export interface TestPlanOptions {
  stack?: string;
  /** Replace `nodepoint:<key>` values (objects are JSON-encoded). */
  set?: Record<string, unknown>;
  /** Drop these full keys from the config. */
  omit?: string[];
  /** Keys to store as plain (not secret) values. */
  plain?: string[];
  /** Customer directory; default: the fixtures for prod, the stack's own directory otherwise. */
  customersDir?: string;
  /**
   * The committed desired state customer changes are checked against (a plan JSON file); default:
   * none for fixtures, `desired-state/<stack>.json` for the project's own customers.
   */
  desiredState?: string | false;
}

/** Runs the real index.ts under mocks, freshly evaluated, with a stack's config varied as asked. */
export async function offlinePlan(options: TestPlanOptions = {}): Promise<OfflineRunResult> {
  const stack = options.stack ?? "prod";
  const flat = readStackFile(join(ROOT, stackFileName(stack)), stackFileName(stack));
  for (const [key, value] of Object.entries(options.set ?? {})) {
    flat.config[key.includes(":") ? key : `nodepoint:${key}`] =
      typeof value === "string" ? value : JSON.stringify(value);
  }
  for (const key of options.omit ?? []) delete flat.config[key];
  const stackDir = resolve(ROOT, flat.config["nodepoint:customersDir"] ?? "customers");
  const customersDir = options.customersDir ?? (stack === "prod" ? FIXTURE_CUSTOMERS : undefined);
  if (customersDir) flat.config["nodepoint:customersDir"] = customersDir;
  // Fixtures are compared with no committed desired state (it holds the real customers'
  // placements); only a plan of the stack's own customer directory is checked against it.
  const realCustomers = customersDir === undefined || resolve(ROOT, customersDir) === stackDir;
  const secretKeys = flat.secretKeys.filter((k) => !(options.plain ?? []).includes(k) && k in flat.config);
  vi.resetModules();
  return runOffline({
    project: "nodepoint",
    stack,
    config: flat.config,
    secretKeys,
    loadProgram: () => import(PROGRAM),
    offline:
      options.desiredState !== undefined
        ? { desiredState: options.desiredState }
        : realCustomers
          ? {}
          : { desiredState: false },
  });
}

/** The stack's config value under `nodepoint:<key>`, parsed. */
export function stackValue<T = unknown>(key: string, stack = "prod"): T {
  const flat = readStackFile(join(ROOT, stackFileName(stack)));
  return JSON.parse(flat.config[`nodepoint:${key}`] ?? "null") as T;
}

export function byName(resources: readonly RecordedResource[], name: string, type?: string): RecordedResource {
  const found = resources.filter((r) => r.name === name && (!type || r.type.endsWith(type)));
  if (found.length !== 1)
    throw new Error(`expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${found.length}`);
  return found[0]!;
}

/** A scratch copy of the fixture customers (or of the given files), removed by the returned cleanup. */
export function scratchCustomers(files: Record<string, string> | "copy" = "copy"): {
  dir: string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), "customers-"));
  if (files === "copy") {
    for (const f of readdirSync(FIXTURE_CUSTOMERS).filter((n) => n.endsWith(".yaml")))
      cpSync(join(FIXTURE_CUSTOMERS, f), join(dir, f));
  } else {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
