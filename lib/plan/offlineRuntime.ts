/**
 * Runs the real Pulumi program in-process under Pulumi's mock runtime and records every resource
 * registration with its inputs *and* its resource options, which the stock mocks do not expose.
 *
 * Only the monitor is replaced: the program, its components and the providers' resource classes
 * are exactly what `pulumi preview` runs.
 */
import * as pulumi from "@pulumi/pulumi";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { markOfflineRun, type OfflineRun } from "../runContext";
import { restoreSdkDebugLogs } from "../sdkDebugLogs";
import {
  ARCHIVE_SIG,
  ASSET_SIG,
  OUTPUT_VALUE_SIG,
  RESOURCE_REF_SIG,
  SECRET_SIG,
  SIG_KEY,
  UNKNOWN_VALUE,
} from "../pulumiWire";

/** Resource options as the engine receives them. */
export interface RecordedOptions {
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  dependsOn: string[];
  import: string | null;
  deleteBeforeReplace: boolean;
  /** Input paths whose change replaces the resource, whatever its provider says. */
  replaceOnChanges: string[];
  /** Resources whose replacement replaces this one too (URNs). */
  replaceWith: string[];
  /** The resource whose deletion takes this one with it (its own delete is skipped then), or null. */
  deletedWith: string | null;
  /**
   * URNs the resource had before a rename (its `aliases`): the engine takes a resource of the state
   * under one of them for this one, so nothing is replaced. Recorded only when there are any.
   */
  aliases?: string[];
}

/** One registered resource. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
  provider: string;
  custom: boolean;
  /** Inputs as the provider receives them, secrets replaced by "[secret]". */
  inputs: Record<string, unknown>;
  options: RecordedOptions;
}

export interface OfflineRunResult {
  resources: RecordedResource[];
  /** Stack outputs (the program's exports), secrets replaced by "[secret]". */
  outputs: Record<string, unknown>;
  /** Provider function calls (data sources) the program made. */
  invokes: number;
}

export interface OfflineRunOptions {
  project: string;
  stack: string;
  /** Flat config map (`ns:key` to string), as Pulumi passes it to a program. */
  config: Record<string, string>;
  /** Keys of `config` that are secrets. */
  secretKeys: string[];
  /** Loads (imports) the program; called inside the root stack, like the Pulumi language host does. */
  loadProgram: () => Promise<unknown>;
  /**
   * Keep full, source-mapped stack traces while the program runs (for --debug). Off by default:
   * the SDK captures a stack for every promise it makes (leak diagnostics) and every resource
   * (source positions); symbolicating those through source maps was 40% of a plan's time.
   */
  debugStacks?: boolean;
  /** What the program is told about this offline run (lib/runContext.ts); default: nothing special. */
  offline?: OfflineRun;
}

/** Replaces secrets and unknowns in a wire value with readable markers; resource refs by their URN. */
export function sanitizeWireValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sanitizeWireValue);
  if (value === UNKNOWN_VALUE) return "[unknown]";
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return "[secret]";
    if (obj[SIG_KEY] === RESOURCE_REF_SIG) return { urn: obj["urn"] };
    if (obj[SIG_KEY] === ASSET_SIG || obj[SIG_KEY] === ARCHIVE_SIG) {
      // The engine stores a file asset as its path and content hash (lib/runtimePath/checkpoint.ts).
      const kind = obj[SIG_KEY] === ASSET_SIG ? "asset" : "archive";
      const where = obj["path"] ?? obj["uri"];
      return typeof where === "string" ? `[file ${kind} ${where}]` : `[text ${kind}]`;
    }
    if (obj[SIG_KEY] === OUTPUT_VALUE_SIG) {
      // An output value: secret when flagged, otherwise its plain value.
      if (obj["secret"] === true) return "[secret]";
      return "value" in obj ? sanitizeWireValue(obj["value"]) : "[unknown]";
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = sanitizeWireValue(v);
    return out;
  }
  return value;
}

/**
 * The URN the engine gives a resource. The mock monitor prefixes the root stack's type to the types
 * of its children (`pulumi:pulumi:Stack$...`); the engine does not, so URNs here match real ones.
 */
export function engineUrn(urn: string): string {
  return urn.replace("::pulumi:pulumi:Stack$", "::");
}

/** The provider reference `urn::id` names its provider by URN; the id part is the engine's. */
function providerUrn(ref: string): string {
  if (!ref) return "";
  const cut = ref.lastIndexOf("::");
  return engineUrn(cut > 0 ? ref.slice(0, cut) : ref);
}

/** Realistic computed outputs for the few types whose outputs the program reads back. */
export function computedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === "random:index/randomPassword:RandomPassword") {
    const length = typeof inputs["length"] === "number" ? inputs["length"] : 16;
    return { result: "x".repeat(length), bcryptHash: "[computed]" };
  }
  if (type.startsWith("proxmoxve:user/token:Token")) return { value: `${name}=[computed]` };
  return {};
}

/**
 * A registration as the plan records it: inputs sanitized, options as the engine receives them.
 * `urn` is the URN the engine gives the resource (the offline monitor and the runtime-path fake
 * engine compute it each their way).
 */
export function recordedResourceOf(req: RegisterRequest, urn: string): RecordedResource {
  const importId = req.getImportid() || null;
  const aliases = aliasUrns(req, urn);
  return {
    urn: engineUrn(urn),
    type: req.getType(),
    name: req.getName(),
    parent: engineUrn(req.getParent()),
    provider: providerUrn(req.getProvider()),
    custom: req.getCustom(),
    inputs: sanitizeWireValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
    options: {
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      ignoreChanges: [...req.getIgnorechangesList()],
      dependsOn: req.getDependenciesList().map(engineUrn).sort(),
      import: importId,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: [...req.getReplaceonchangesList()].sort(),
      replaceWith: req.getReplaceWithList().map(engineUrn).sort(),
      deletedWith: req.getDeletedwith() ? engineUrn(req.getDeletedwith()) : null,
      ...(aliases.length > 0 ? { aliases } : {}),
    },
  };
}

/**
 * The URNs a registration's aliases stand for, as the engine resolves them: a full URN as given; a
 * spec's missing name, type, stack, project and parent are the resource's own.
 */
function aliasUrns(req: RegisterRequest, urn: string): string[] {
  const [, stack = "", project = ""] = /^urn:pulumi:([^:]*)::([^:]*)::/.exec(urn) ?? [];
  return (req.getAliasesList?.() ?? [])
    .map((alias) => {
      if (alias.hasUrn()) return engineUrn(alias.getUrn());
      const spec = alias.getSpec();
      if (!spec) return "";
      const parent = spec.getNoparent() ? "" : spec.hasParenturn() ? spec.getParenturn() : req.getParent();
      return engineUrn(
        resourceUrn(
          spec.getStack() || stack,
          spec.getProject() || project,
          parent,
          spec.getType() || req.getType(),
          spec.getName() || req.getName(),
        ),
      );
    })
    .filter((u) => u !== "" && u !== engineUrn(urn))
    .sort();
}

/**
 * Runs the program once under mocks and returns what it declared.
 * The program's own errors propagate unchanged (an `InvalidInputError` stays one).
 */
export async function runOffline(options: OfflineRunOptions): Promise<OfflineRunResult> {
  const recorded = new Map<string, RecordedResource>();
  let invokes = 0;
  pulumi.runtime.setAllConfig(options.config, options.secretKeys);
  await pulumi.runtime.setMocks(
    {
      // Registrations never reach the stock mock (see the lean monitor below).
      newResource: () => {
        throw new Error("internal: registration bypassed the offline monitor");
      },
      call: (args) => {
        invokes++;
        return args.inputs as Record<string, unknown>;
      },
    },
    options.project,
    options.stack,
    true,
  );

  // The lean monitor: registrations are answered directly (state = inputs, plus the few computed
  // outputs the program reads), skipping the stock mock's deserialize/serialize round trip.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, cb: (err: unknown, resp?: RegisterResponse) => void) => unknown;
    registerResourceOutputs: (
      req: { getUrn(): string; getOutputs(): Struct | undefined },
      cb: (err: unknown, resp?: unknown) => void,
    ) => unknown;
  };
  // Stack outputs are taken as the engine receives them: serialized, secrets still marked.
  let stackOutputs: Record<string, unknown> = {};
  monitor.registerResourceOutputs = (req, cb) => {
    if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs = req.getOutputs()?.toJavaScript() ?? {};
    cb(null, {});
  };
  monitor.registerResource = (req, cb) => {
    const type = req.getType();
    const name = req.getName();
    const urn = resourceUrn(options.stack, options.project, req.getParent(), type, name);
    const custom = req.getCustom();
    const struct = req.getObject();
    const inputs = (struct?.toJavaScript() ?? {}) as Record<string, unknown>;
    const importId = req.getImportid() || null;
    recorded.set(urn, recordedResourceOf(req, urn));
    const computed = computedOutputs(type, name, inputs);
    const state =
      Object.keys(computed).length === 0 ? struct : Struct.fromJavaScript({ ...inputs, ...computed } as never);
    const id = custom ? (importId ?? `${name}-id`) : "";
    cb(null, {
      getUrn: () => urn,
      getId: () => id,
      getObject: () => state,
      getPropertydependenciesMap: () => undefined,
      getResult: () => 0,
    });
  };

  // The program's own error is caught inside the stack and rethrown after it settles, so that the
  // SDK's internal promises never reject unhandled (the CLI would print them twice, tests fail).
  let programError: unknown;
  // The program may lower the stack depth itself for the rest of its run (lib/declareInTurns.ts):
  // whatever it does, this process gets its own setting back when the program is done.
  const stackTraceLimit = Error.stackTraceLimit;
  const restoreStacks = options.debugStacks ? () => {} : cheapStackTraces();
  const unmark = markOfflineRun(options.offline ?? {});
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      try {
        const exported = { ...((await options.loadProgram()) as Record<string, unknown>) };
        // Exports the program computes later (promises) are awaited here, so that an error
        // thrown on the way is the program's error, as it threw it.
        for (const [key, value] of Object.entries(exported))
          if (value instanceof Promise) exported[key] = (await value) as unknown;
        return exported;
      } catch (err) {
        programError = err;
        return {};
      }
    });
    await waitForRegistrations();
  } finally {
    unmark();
    restoreStacks();
    Error.stackTraceLimit = stackTraceLimit;
    restoreSdkDebugLogs(); // the program may have turned it off (lib/sdkDebugLogs.ts)
  }
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the program threw, as it threw it
  if (programError !== undefined) throw programError;
  const outputs = sanitizeWireValue(stackOutputs) as Record<string, unknown>;
  delete outputs["default"];
  return { resources: [...recorded.values()], outputs, invokes };
}

interface RegisterResponse {
  getUrn(): string;
  getId(): string;
  getObject(): unknown;
  getPropertydependenciesMap(): undefined;
  getResult(): number;
}

/**
 * The URN the engine gives: the type is qualified by the parent's whole type chain, except under
 * the root stack, whose children have plain types.
 */
function resourceUrn(stack: string, project: string, parent: string, type: string, name: string): string {
  const chain = parent.split("::")[2] ?? "";
  const qualified = !parent || chain === "pulumi:pulumi:Stack" ? type : `${chain}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The parts of the SDK's RegisterResourceRequest the plan reads. */
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getObject(): Struct | undefined;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getImportid(): string;
  getDeletebeforereplace(): boolean;
  getReplaceonchangesList(): string[];
  getReplaceWithList(): string[];
  getDeletedwith(): string;
  /** The resource's aliases (the SDK sends specs: the monitor supports `aliasSpecs`). */
  getAliasesList?(): AliasMessage[];
}

/** The parts of the SDK's Alias message the plan reads. */
interface AliasMessage {
  hasUrn(): boolean;
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        hasParenturn(): boolean;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

/** Turns off source-mapped and deep stack traces; returns the function that restores them. */
function cheapStackTraces(): () => void {
  const sourceMaps = process.sourceMapsEnabled;
  const limit = Error.stackTraceLimit;
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;
  return () => {
    process.setSourceMapsEnabled(sourceMaps);
    Error.stackTraceLimit = limit;
  };
}

/** Waits until the SDK has no registration in flight (what the language host does before exit). */
async function waitForRegistrations(): Promise<void> {
  // `waitForRPCs` is the SDK's own drain; it is public in the JS module but not in its typings.
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as {
    waitForRPCs?: () => Promise<void>;
  };
  if (settings.waitForRPCs) await settings.waitForRPCs();
}
