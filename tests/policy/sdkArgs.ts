/**
 * Fake policy arguments, built the way @pulumi/policy builds them, so that the policies see in
 * tests exactly what they see under `pulumi preview --policy-pack policy`.
 *
 * The engine sends a policy pack each resource's inputs as a protobuf Struct in Pulumi's wire
 * format, secrets kept as `{ <sig>: <secret sig>, value }` objects. Here the props go through the
 * SDK's own code: `deserializeProperties` (proxySecrets = false for a validation, true for a
 * remediation, as the SDK's server calls it) and `unknownCheckingProxy`. So a validation sees a
 * secret as its plain value, and a remediation sees a `Secret` instance behind the SDK's
 * unwrapping proxy, just as in a real run.
 *
 * The offline plan (lib/plan) records secrets as the string "[secret]" (their values never leave
 * the mock runtime) and unknowns as "[unknown]". `planInputsToWire` turns them back into the wire
 * forms: a secret marker around the placeholder "[secret]" (a non-empty string, so a lost marker
 * would show up as a plain-text credential), and the SDK's unknown-string sentinel.
 *
 * The SDK modules used here are internal (their typings are `export {}`): they are loaded with
 * `require` and typed below by what their JavaScript does in @pulumi/policy 1.21.
 */
import { createRequire } from "node:module";
import type { PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy/policy";
import type * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type { Struct as StructT } from "google-protobuf/google/protobuf/struct_pb";
import type { RecordedResource } from "../../lib/plan/offlineRuntime";

const requireHere = createRequire(__filename);
/** Resolves modules as @pulumi/pulumi does, so the protobuf classes are the ones the SDK uses. */
const requireFromPulumi = createRequire(requireHere.resolve("@pulumi/pulumi/package.json"));

const rpc = requireHere("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };
const sdkDeserialize = requireHere("@pulumi/policy/deserialize") as {
  deserializeProperties(struct: { toJavaScript(): unknown }, proxySecrets: boolean): Record<string, unknown>;
};
const sdkProxy = requireHere("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T>(props: T): T;
  unknownStringValue: string;
};
const { Struct } = requireFromPulumi("google-protobuf/google/protobuf/struct_pb") as { Struct: typeof StructT };
const pb = requireHere("@pulumi/pulumi/proto/analyzer_pb") as typeof analyzerPb;

/** A value as the engine sends a secret. */
export function wireSecret(value: unknown): Record<string, unknown> {
  return { [rpc.specialSigKey]: rpc.specialSecretSig, value };
}

/** The SDK's sentinel for a string unknown during preview. */
export const UNKNOWN_STRING = sdkProxy.unknownStringValue;

/** Plan inputs ("[secret]", "[unknown]" markers) back in wire form. */
export function planInputsToWire(value: unknown): unknown {
  if (value === "[secret]") return wireSecret("[secret]");
  if (value === "[unknown]") return UNKNOWN_STRING;
  if (Array.isArray(value)) return value.map(planInputsToWire);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, planInputsToWire(v)]));
  }
  return value;
}

/** A resource as a test describes it: props in wire form (plain values, `wireSecret(...)`, `UNKNOWN_STRING`). */
export interface FakeResource {
  type: string;
  name?: string;
  urn?: string;
  props: Record<string, unknown>;
  opts?: Partial<PolicyResourceOptions> | undefined;
  /** What `args.getConfig()` returns (the pack's policy config for this policy). */
  config?: Record<string, unknown> | undefined;
}

const DEFAULT_OPTS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** Drops `undefined` values, as Pulumi's serializer does before anything reaches the engine. */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, defined(v)]),
    );
  }
  return value;
}

/** A real protobuf Struct (what the engine sends; its fields come back sorted by name). */
function toStruct(wire: Record<string, unknown>): StructT {
  return Struct.fromJavaScript(defined(wire) as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** The wire props through a real protobuf Struct, then the SDK's deserializer and unknown proxy. */
export function sdkProps(wire: Record<string, unknown>, mode: "validate" | "remediate"): Record<string, unknown> {
  const struct = toStruct(wire);
  return sdkProxy.unknownCheckingProxy(sdkDeserialize.deserializeProperties(struct, mode === "remediate"));
}

/** `ResourceValidationArgs` as the SDK's server builds them for Analyze ("validate") or Remediate ("remediate"). */
export function fakeArgs(r: FakeResource, mode: "validate" | "remediate" = "validate"): ResourceValidationArgs {
  const name = r.name ?? "test";
  const type = r.type;
  const props = sdkProps(r.props, mode);
  return {
    type,
    name,
    urn: r.urn ?? `urn:pulumi:test::nodepoint::${type}::${name}`,
    props,
    opts: { ...DEFAULT_OPTS, ...r.opts },
    stackTags: new Map<string, string>(),
    getConfig: <T extends object>() => (r.config ?? {}) as T,
    isType: () => false,
    asType: () => undefined,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason ?? ""}`);
    },
  };
}

/**
 * Runs one policy on one resource as the engine and the SDK do: the remediation first (only when
 * the policy's level is "remediate"), then the validation(s) of the same resource.
 */
export async function runPolicy(
  policy: ResourceValidationPolicy,
  r: FakeResource,
  level = policy.enforcementLevel,
): Promise<string[]> {
  const violations: string[] = [];
  if (level === "disabled") return violations;
  if (level === "remediate" && policy.remediateResource) await policy.remediateResource(fakeArgs(r, "remediate"));
  const validations =
    policy.validateResource === undefined
      ? []
      : Array.isArray(policy.validateResource)
        ? policy.validateResource
        : [policy.validateResource];
  for (const validate of validations) await validate(fakeArgs(r, "validate"), (message) => violations.push(message));
  return violations;
}

/** A resource of the offline plan as a fake resource (inputs with their secret markers, options). */
export function planResource(r: RecordedResource): FakeResource {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: planInputsToWire(r.inputs) as Record<string, unknown>,
    opts: {
      protect: r.options.protect,
      ignoreChanges: r.options.ignoreChanges,
      deleteBeforeReplace: r.options.deleteBeforeReplace,
      ...(r.parent ? { parent: r.parent } : {}),
    },
  };
}

// -------------------------------------------------------------------------------------------------
// The SDK's own RPC handlers (what the CLI calls over gRPC), driven with real protobuf requests.
// -------------------------------------------------------------------------------------------------

type Handler<Resp> = (
  call: { request: analyzerPb.AnalyzeRequest },
  callback: (err: unknown, resp?: Resp) => void,
) => Promise<void>;
const sdkServer = requireHere("@pulumi/policy/server") as {
  makeAnalyzeRpcFun(
    pack: string,
    version: string,
    level: string,
    policies: ResourceValidationPolicy[],
  ): Handler<analyzerPb.AnalyzeResponse>;
  makeRemediateRpcFun(
    pack: string,
    version: string,
    level: string,
    policies: ResourceValidationPolicy[],
  ): Handler<analyzerPb.RemediateResponse>;
};

export interface Diagnostic {
  policy: string;
  urn: string;
  message: string;
  enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
}

const LEVELS: Record<number, Diagnostic["enforcementLevel"]> = {
  [pb.EnforcementLevel.ADVISORY]: "advisory",
  [pb.EnforcementLevel.MANDATORY]: "mandatory",
  [pb.EnforcementLevel.REMEDIATE]: "remediate",
  [pb.EnforcementLevel.DISABLED]: "disabled",
};

function analyzeRequest(r: FakeResource): analyzerPb.AnalyzeRequest {
  const o = { ...DEFAULT_OPTS, ...r.opts };
  const opts = new pb.AnalyzerResourceOptions();
  opts.setProtect(o.protect);
  opts.setIgnorechangesList(o.ignoreChanges);
  opts.setAliasesList(o.aliases);
  opts.setAdditionalsecretoutputsList(o.additionalSecretOutputs);
  if (o.deleteBeforeReplace !== undefined) {
    opts.setDeletebeforereplacedefined(true);
    opts.setDeletebeforereplace(o.deleteBeforeReplace);
  }
  if (o.parent) opts.setParent(o.parent);
  const req = new pb.AnalyzeRequest();
  const name = r.name ?? "test";
  req.setType(r.type);
  req.setName(name);
  req.setUrn(r.urn ?? `urn:pulumi:test::nodepoint::${r.type}::${name}`);
  req.setProperties(toStruct(r.props));
  req.setOptions(opts);
  return req;
}

function call<Resp>(handler: Handler<Resp>, request: analyzerPb.AnalyzeRequest): Promise<Resp> {
  return new Promise((resolve, reject) => {
    void handler({ request }, (err, resp) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(resp as Resp),
    );
  });
}

/**
 * Analyzes resources with the pack's policies through the SDK's gRPC handlers, in the engine's
 * order: for each resource, Remediate, then Analyze. Returns every diagnostic and every remediation
 * (policy names) the pack produced.
 */
export async function analyzeLikeTheEngine(
  policies: ResourceValidationPolicy[],
  resources: readonly FakeResource[],
): Promise<{ diagnostics: Diagnostic[]; remediations: string[] }> {
  const remediate = sdkServer.makeRemediateRpcFun("nodepoint-policy", "0.1.0", "mandatory", policies);
  const analyze = sdkServer.makeAnalyzeRpcFun("nodepoint-policy", "0.1.0", "mandatory", policies);
  const diagnostics: Diagnostic[] = [];
  const remediations: string[] = [];
  for (const r of resources) {
    const request = analyzeRequest(r);
    const rem = await call(remediate, request);
    remediations.push(...rem.getRemediationsList().map((x) => x.getPolicyname()));
    const resp = await call(analyze, request);
    for (const d of resp.getDiagnosticsList()) {
      diagnostics.push({
        policy: d.getPolicyname(),
        urn: d.getUrn() || request.getUrn(),
        message: d.getMessage(),
        enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? "advisory",
      });
    }
  }
  return { diagnostics, remediations };
}
