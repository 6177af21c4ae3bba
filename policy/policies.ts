/**
 * The nodepoint policies, one export each, so that they can be unit-tested without starting the
 * policy pack's gRPC server (`new PolicyPack(...)` in index.ts starts it as a side effect).
 *
 * Every policy is a thin `validateResource` around a pure check (`props`/options in, messages
 * out). The checks read the resource's *inputs* as the engine hands them to the policy pack.
 *
 * Imports come from `@pulumi/policy/policy`, not the package root: the root typings of
 * @pulumi/policy 1.21 re-export two names its stripped `proxy.d.ts` no longer declares, which
 * fails `tsc` under `skipLibCheck: false`. `policy.js` is the module the root re-exports, and the
 * one the SDK's own server and deserializer use, so `Secret` below is the very class the SDK
 * wraps secret values in.
 */
import { Secret } from "@pulumi/policy/policy";
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy/policy";
import { COMPONENT_TYPES } from "../lib/componentTypes";
import { FACTS, TYPES as ALL_TYPES } from "../lib/providerFacts";
import { UNKNOWN_VALUE } from "../lib/pulumiWire";
import { REPLACEMENT_PENDING } from "../lib/replacementNote";
import {
  defaultPolicyConfig,
  POLICY_NAMES,
  type BoundsConfig,
  type HaLimitsConfig,
  type IsolationConfig,
  type RouterConfig,
} from "./config";

export type { BoundsConfig, HaLimitsConfig, IsolationConfig, RouterConfig };

/** Resource types the policies look at (their tokens: lib/providerFacts.ts). */
export const TYPES = {
  container: ALL_TYPES.container,
  vm: ALL_TYPES.vm,
  haResource: ALL_TYPES.haResource,
} as const;

const defaultConfig = defaultPolicyConfig();

/**
 * Policy configuration defaults: the prod stack's policy config (policy/config.prod.json, derived
 * from Pulumi.prod.yaml by `npm run generate`, see ./config.ts). Each stack's own file is passed with
 * `--policy-pack-config policy/config.<stack>.json`.
 */
export const DEFAULTS = {
  storage: defaultConfig[POLICY_NAMES.isolation].storage,
  bounds: defaultConfig[POLICY_NAMES.planBounds],
  ha: defaultConfig[POLICY_NAMES.haLimits],
  routerTag: defaultConfig[POLICY_NAMES.onlyRouterPrivileged].routerTag,
} as const;

const containerDefault = (path: string): unknown => FACTS.container.defaults?.[path]?.value;

/** ContainerLegacy defaults of the bpg provider, used when an input is left unset (lib/providerFacts.ts). */
export const PROVIDER_DEFAULTS = {
  cores: containerDefault("cpu.cores") as number,
  memoryMiB: containerDefault("memory.dedicated") as number,
  diskGiB: containerDefault("disk.size") as number,
  datastoreId: containerDefault("disk.datastoreId") as string,
  unprivileged: containerDefault("unprivileged") as boolean,
} as const;

type Props = Record<string, unknown>;
/** What the checks need of `ResourceValidationArgs`. */
export type ResourceView = Pick<ResourceValidationArgs, "type" | "props" | "opts">;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

function record(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

/** The string tags of a resource (`tags` input). */
export function tagsOf(props: Props): string[] {
  const tags = props["tags"];
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
}

/** The type token of a URN (`urn:pulumi:stack::project::parent$type::name`): the last `$` segment. */
export function urnType(urn: string | undefined): string | undefined {
  const qualified = urn?.split("::")[2];
  return qualified?.split("$").pop();
}

/**
 * A customer container: a ContainerLegacy whose parent is a WordPressSite component. (Customer
 * containers carry no tags: PVE checks tags where the customer token's grant does not reach.)
 */
export function isCustomerContainer(r: ResourceView): boolean {
  return r.type === TYPES.container && urnType(r.opts?.parent) === COMPONENT_TYPES.wordPressSite;
}

/**
 * A customer container being decommissioned (customer `state: decommissioned`): WordPressSite then
 * stops it and lifts Proxmox's protection flag, so that removing the customer file can delete it.
 * Both inputs must be set explicitly.
 */
export function isDecommissioned(r: ResourceView): boolean {
  return isCustomerContainer(r) && r.props["protection"] === false && r.props["started"] === false;
}

/**
 * A customer container prepared for a confirmed replacement (`confirmReplace` merged): WordPressSite
 * lifts Proxmox's protection flag too and says so in its description (lib/replacementNote.ts).
 */
export function isPreparedForReplacement(r: ResourceView): boolean {
  const description: unknown = r.props["description"];
  return (
    isCustomerContainer(r) &&
    r.props["protection"] === false &&
    typeof description === "string" &&
    description.includes(REPLACEMENT_PENDING)
  );
}

/** `args.getConfig()` over the defaults; unset (undefined) values keep their default. */
export function configOf<T extends object>(args: Pick<ResourceValidationArgs, "getConfig">, defaults: T): T {
  const given = args.getConfig<Partial<T>>() ?? {};
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given))
    if (v !== undefined && k !== "enforcementLevel") (out as Record<string, unknown>)[k] = v;
  return out;
}

function report(messages: readonly string[], reportViolation: ReportViolation): void {
  for (const m of messages) reportViolation(m);
}

// ---------------------------------------------------------------------------------------------
// 1. Customer containers: unprivileged, root disk on the DRBD pool
// ---------------------------------------------------------------------------------------------

export function checkCustomerIsolation(r: ResourceView, config: IsolationConfig): string[] {
  if (!isCustomerContainer(r)) return [];
  const out: string[] = [];
  if (r.props["unprivileged"] !== true) {
    out.push(
      r.props["unprivileged"] === undefined
        ? "unprivileged is not set (the provider's default is a privileged container): set unprivileged: true"
        : `unprivileged is ${String(r.props["unprivileged"])}: customer containers must be unprivileged`,
    );
  }
  const datastore = record(r.props["disk"])?.["datastoreId"] ?? PROVIDER_DEFAULTS.datastoreId;
  if (datastore !== config.storage) {
    out.push(
      `root disk is on ${JSON.stringify(datastore)}: customer containers' root disks must be on the DRBD pool ${JSON.stringify(config.storage)}`,
    );
  }
  return out;
}

export const customerContainerIsolation: ResourceValidationPolicy = {
  name: POLICY_NAMES.isolation,
  description: "Customer containers are unprivileged and their root disk is on the DRBD pool.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      storage: {
        type: "string",
        default: DEFAULTS.storage,
        description: "Storage ID of the DRBD pool customer root disks must use.",
      },
    },
  },
  validateResource: (args, reportViolation) =>
    report(checkCustomerIsolation(args, configOf(args, { storage: DEFAULTS.storage })), reportViolation),
};

// ---------------------------------------------------------------------------------------------
// 2. Customer containers within the plan bounds
// ---------------------------------------------------------------------------------------------

function checkRange(label: string, value: unknown, fallback: number, min: number, max: number): string | undefined {
  const v = value === undefined ? fallback : value;
  const shown = value === undefined ? `${String(v)} (unset, provider default)` : String(v);
  if (typeof v !== "number" || !Number.isFinite(v))
    return `${label} is ${JSON.stringify(v)}: expected a number in ${min}-${max}`;
  if (v < min || v > max) return `${label} is ${shown}: customer containers must stay within ${min}-${max}`;
  return undefined;
}

export function checkPlanBounds(r: ResourceView, b: BoundsConfig): string[] {
  if (!isCustomerContainer(r)) return [];
  const p = r.props;
  return [
    checkRange("cpu.cores", record(p["cpu"])?.["cores"], PROVIDER_DEFAULTS.cores, b.minCores, b.maxCores),
    checkRange(
      "memory.dedicated (MiB)",
      record(p["memory"])?.["dedicated"],
      PROVIDER_DEFAULTS.memoryMiB,
      b.minMemoryMiB,
      b.maxMemoryMiB,
    ),
    checkRange("disk.size (GiB)", record(p["disk"])?.["size"], PROVIDER_DEFAULTS.diskGiB, b.minDiskGiB, b.maxDiskGiB),
  ].filter((m): m is string => m !== undefined);
}

const integer = (value: number, description: string) => ({
  type: "integer" as const,
  minimum: 0,
  default: value,
  description,
});

export const customerContainerPlanBounds: ResourceValidationPolicy = {
  name: POLICY_NAMES.planBounds,
  description:
    "Customer containers' cores, memory and disk stay within the plan bounds (Pulumi.prod.yaml customerPools.bounds).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minCores: integer(DEFAULTS.bounds.minCores, "Fewest cores a customer container may have."),
      maxCores: integer(DEFAULTS.bounds.maxCores, "Most cores a customer container may have."),
      minMemoryMiB: integer(DEFAULTS.bounds.minMemoryMiB, "Least dedicated memory (MiB)."),
      maxMemoryMiB: integer(DEFAULTS.bounds.maxMemoryMiB, "Most dedicated memory (MiB)."),
      minDiskGiB: integer(DEFAULTS.bounds.minDiskGiB, "Smallest root disk (GiB)."),
      maxDiskGiB: integer(DEFAULTS.bounds.maxDiskGiB, "Largest root disk (GiB)."),
    },
  },
  validateResource: (args, reportViolation) =>
    report(checkPlanBounds(args, configOf<BoundsConfig>(args, { ...DEFAULTS.bounds })), reportViolation),
};

// ---------------------------------------------------------------------------------------------
// 3. HA resources: restart and relocate limits
// ---------------------------------------------------------------------------------------------

export function checkHaLimits(r: ResourceView, config: HaLimitsConfig): string[] {
  if (r.type !== TYPES.haResource) return [];
  const out: string[] = [];
  for (const key of ["maxRestart", "maxRelocate"] as const) {
    const v: unknown = r.props[key];
    if (v !== config[key])
      out.push(
        `${key} is ${v === undefined ? "unset (PVE's default applies)" : JSON.stringify(v)}: it must be ${config[key]}`,
      );
  }
  return out;
}

export const haResourceLimits: ResourceValidationPolicy = {
  name: POLICY_NAMES.haLimits,
  description:
    "HA resources restart a failed guest maxRestart times on its node, then relocate it at most maxRelocate times.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxRestart: integer(DEFAULTS.ha.maxRestart, "Required max_restart of every HA resource."),
      maxRelocate: integer(DEFAULTS.ha.maxRelocate, "Required max_relocate of every HA resource."),
    },
  },
  validateResource: (args, reportViolation) =>
    report(checkHaLimits(args, configOf<HaLimitsConfig>(args, { ...DEFAULTS.ha })), reportViolation),
};

// ---------------------------------------------------------------------------------------------
// 4. Guests are protected unless decommissioned
// ---------------------------------------------------------------------------------------------

export function checkGuestProtected(r: ResourceView): string[] {
  if (r.type !== TYPES.vm && r.type !== TYPES.container) return [];
  if (r.opts?.protect === true || isDecommissioned(r) || isPreparedForReplacement(r)) return [];
  return [
    "the resource option protect is not set: every VM and container is protected (`protect: true`), " +
      "except a customer container being decommissioned (inputs protection: false and started: false) " +
      `or prepared for a confirmed replacement (protection: false, description noting "${REPLACEMENT_PENDING}")`,
  ];
}

export const guestsProtected: ResourceValidationPolicy = {
  name: "guests-protected",
  description:
    "Every VM and container is declared with `protect: true`, unless it is a customer container being decommissioned or prepared for a confirmed replacement.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => report(checkGuestProtected(args), reportViolation),
};

// ---------------------------------------------------------------------------------------------
// 5. Only the router container may be privileged
// ---------------------------------------------------------------------------------------------

export function checkOnlyRouterPrivileged(r: ResourceView, config: RouterConfig): string[] {
  if (r.type !== TYPES.container) return [];
  const unprivileged: unknown = r.props["unprivileged"];
  if (unprivileged === true || tagsOf(r.props).includes(config.routerTag)) return [];
  if (urnType(r.opts?.parent) === COMPONENT_TYPES.openWrtRouter) return [];
  // An adopted container whose privilege the program leaves as it is (not declared, ignored): the
  // program neither makes nor changes it, so there is nothing of the program's to judge.
  if (unprivileged === undefined && (r.opts?.ignoreChanges ?? []).includes("unprivileged")) return [];
  return [
    unprivileged === undefined
      ? `unprivileged is not set, so the container is privileged (provider default): only the router (tag ${JSON.stringify(config.routerTag)}) may be privileged`
      : `unprivileged is ${JSON.stringify(unprivileged)}: only the router (tag ${JSON.stringify(config.routerTag)}) may be privileged`,
  ];
}

export const onlyRouterPrivileged: ResourceValidationPolicy = {
  name: POLICY_NAMES.onlyRouterPrivileged,
  description:
    "Only the router container (tagged `router`, or declared by the OpenWrtRouter component) may be a privileged container; an adopted container whose privilege is left as it is is not judged.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      routerTag: {
        type: "string",
        default: DEFAULTS.routerTag,
        description: "Tag of the one container allowed to be privileged.",
      },
    },
  },
  validateResource: (args, reportViolation) =>
    report(checkOnlyRouterPrivileged(args, configOf(args, { routerTag: DEFAULTS.routerTag })), reportViolation),
};

// ---------------------------------------------------------------------------------------------
// 6. No credential in plain inputs
// ---------------------------------------------------------------------------------------------
//
// How secrets are detected
// ------------------------
// The engine sends a policy pack every input with its secret marker (Analyze and Remediate are both
// marshalled with KeepSecrets). What @pulumi/policy (1.x, up to its current sources) makes of it:
//
//  - validateResource / validateStack: the SDK deserializes with `proxySecrets = false`, which
//    *drops* the marker; a secret arrives as its plain value (its own integration test asserts
//    `props.secret === "a secret value"`). `ResourceValidationArgs` has no `isSecret`, and
//    `opts.additionalSecretOutputs` is about outputs. A validation alone cannot tell a secret from
//    a plain string.
//  - remediateResource: the SDK deserializes with `proxySecrets = true`: every secret becomes a
//    `Secret` instance (exported by the SDK), behind a proxy whose `get` unwraps it again. Reading
//    a property through its *descriptor* (`Reflect.getOwnPropertyDescriptor`) bypasses the `get`
//    traps (the SDK's proxies define only `get`/`set`), so the `Secret` wrapper is visible.
//
// So this policy runs at enforcement level "remediate": for each resource the engine first calls
// Remediate on every policy pack, then Analyze (pkg/resource/deploy/step_generator.go). The
// remediation step records, per URN, the credential-named inputs that are not `Secret`s and changes
// nothing (returns undefined); the validation step of the same resource reports them. The SDK (and
// the engine) report a violation of a "remediate" policy as *mandatory*, so the deployment stops.
//
// If the policy is reconfigured to "mandatory"/"advisory", the SDK no longer calls the remediation,
// secretness is invisible, and the validation fails closed: every credential-named input with a
// value is reported as unverifiable.
//
// Values still unknown during preview (e.g. a RandomPassword's result) carry no marker on the wire
// and are skipped; they are checked at `pulumi up`, where the engine analyzes the resolved inputs.

/** Last words that make a property name a credential (camelCase, snake_case and kebab-case are split into words). */
const CREDENTIAL_WORDS = new Set([
  "password",
  "passwords",
  "passwd",
  "passphrase",
  "secret",
  "secrets",
  "token",
  "tokens",
  "credential",
  "credentials",
  "psk",
  "privatekey",
  "apikey",
  "apitoken",
  "accesskey",
  "secretkey",
]);
/** A trailing `key` is a credential after these words (privateKey, apiKey, accessKey, presharedKey…), not after public/ssh/partition… */
const KEY_QUALIFIERS = new Set([
  "private",
  "api",
  "access",
  "secret",
  "signing",
  "encryption",
  "shared",
  "preshared",
  "master",
  "auth",
  "client",
  "account",
  "service",
  "license",
  "webhook",
  "hmac",
  "session",
  "root",
  "storage",
]);
/** Trailing words that only describe the credential's encoding (`privateKeyPem`, `tokenValue`, `password_wo`). */
const ENCODING_WORDS = new Set([
  "wo",
  "value",
  "pem",
  "b64",
  "base64",
  "data",
  "string",
  "plain",
  "plaintext",
  "text",
  "content",
  "raw",
]);

/** `apiToken` → [api, token]; `APIKey` → [api, key]; `secret_access_key` → [secret, access, key]. */
export function splitWords(name: string): string[] {
  return (name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? []).map((w) => w.toLowerCase());
}

/**
 * Whether a property name denotes a credential: its last word (ignoring encoding suffixes) is a
 * credential noun, or `key` qualified as a secret one. `tokenId`, `passwordLength`, `secretName`,
 * `publicKey`, `keys` (SSH public keys), `keyctl` are not; neither is a bare `key` (list it in
 * `extraNames` if a resource uses one for a credential).
 */
export function isCredentialName(name: string, extraNames: readonly string[] = []): boolean {
  if (extraNames.some((n) => n.toLowerCase() === name.toLowerCase())) return true;
  const words = splitWords(name);
  while (words.length > 1 && ENCODING_WORDS.has(words[words.length - 1]!)) words.pop();
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (CREDENTIAL_WORDS.has(last)) return true;
  return last === "key" && words.length > 1 && KEY_QUALIFIERS.has(words[words.length - 2]!);
}

/** The SDK's sentinels for values unknown during preview (@pulumi/policy proxy.js). */
const UNKNOWN_SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  UNKNOWN_VALUE, // unknownStringValue
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** A value the SDK marked secret: its `Secret` class (or, should two copies of the SDK be loaded, one of that shape). */
export function isSecretValue(value: unknown): boolean {
  if (value instanceof Secret) return true;
  return (
    value !== null &&
    typeof value === "object" &&
    value.constructor?.name === "Secret" &&
    Object.keys(value).join() === "value"
  );
}

/** Reads an own property without running proxy `get` traps (the SDK's secret proxy unwraps `Secret`s in `get`). */
function rawProperty(obj: object, key: string): unknown {
  return Reflect.getOwnPropertyDescriptor(obj, key)?.value;
}

/**
 * Paths of credential-named inputs holding a known, non-empty string that is not marked secret.
 * Anything inside a secret is fine; nested objects are judged by their own property names; keys
 * starting with `__` (engine/dynamic-provider internals) are skipped.
 *
 * `props` must come from a remediation's `args.props` (or be built the same way) for secret
 * markers to be visible: with a validation's props every value looks plain.
 */
export function findPlaintextCredentials(props: unknown, extraNames: readonly string[] = []): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string, credential: boolean): void => {
    if (isSecretValue(value)) return;
    if (typeof value === "string") {
      if (credential && value !== "" && !UNKNOWN_SENTINELS.has(value)) found.push(path);
      return;
    }
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) walk(rawProperty(value, String(i)), `${path}[${i}]`, credential);
      return;
    }
    for (const key of Object.keys(value)) {
      if (key.startsWith("__")) continue;
      walk(rawProperty(value, key), path ? `${path}.${key}` : key, isCredentialName(key, extraNames));
    }
  };
  walk(props, "", false);
  return found;
}

export interface CredentialsConfig {
  /** Further property names (exact, case-insensitive) that hold credentials. */
  extraNames: string[];
}

/** Findings of the remediation step, per URN, waiting for the same resource's validation. */
const observed = new Map<string, string[]>();

export const noPlaintextCredentials: ResourceValidationPolicy = {
  name: "no-plaintext-credentials",
  description:
    "Inputs named like credentials (password, apiToken, token, secret, privateKey, apiKey…) are Pulumi secrets, on every resource including providers.",
  // "remediate" is what makes the SDK show secret markers (see above); violations are reported as mandatory.
  enforcementLevel: "remediate",
  configSchema: {
    properties: {
      extraNames: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "Further property names (exact) that hold credentials.",
      },
    },
  },
  remediateResource: (args) => {
    const { extraNames } = configOf<CredentialsConfig>(args, { extraNames: [] });
    observed.set(args.urn, findPlaintextCredentials(args.props, extraNames));
    return undefined; // observe only: the inputs are not changed
  },
  validateResource: (args, reportViolation) => {
    const { extraNames } = configOf<CredentialsConfig>(args, { extraNames: [] });
    const plaintext = observed.get(args.urn);
    observed.delete(args.urn);
    if (plaintext === undefined) {
      // The remediation step did not run (policy not at "remediate"): secretness cannot be seen here.
      for (const path of findPlaintextCredentials(args.props, extraNames)) {
        reportViolation(
          `${path}: cannot verify that this credential is a secret; keep this policy at enforcementLevel "remediate" (the policy SDK shows secret markers only to remediations)`,
        );
      }
      return;
    }
    for (const path of plaintext) {
      reportViolation(
        `${path} holds a credential in plain text: pass it as a secret (pulumi.secret(...), a secret config value or a secret output)`,
      );
    }
  },
};

/** Every policy of the pack, in the order index.ts registers them. */
export const policies: ResourceValidationPolicy[] = [
  customerContainerIsolation,
  customerContainerPlanBounds,
  haResourceLimits,
  guestsProtected,
  onlyRouterPrivileged,
  noPlaintextCredentials,
];
