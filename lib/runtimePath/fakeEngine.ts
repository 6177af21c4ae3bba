/**
 * The engine side of `pulumi preview` / `pulumi up`, as the program sees it: a ResourceMonitor and
 * an Engine gRPC service on loopback, built on the stubs the SDK ships (`@pulumi/pulumi/proto`).
 * A program started by `runProgram` (the language host's way) connects to it.
 *
 * It records what the engine would receive: every registration (in the offline plan's
 * `RecordedResource` form, so the two can be compared), the stack outputs and every log message.
 * It answers the way the engine does in the mode it runs in, with the values the engine would hold
 * (lib/runtimePath/checkpoint.ts `engineValue`: output values the program sent come back as their
 * value, a secret or unknown, never as output values), so the SDK does the same work on the answer:
 * - preview: a resource to be created has no ID yet and its outputs are its inputs, so computed
 *   outputs (a RandomPassword's `result`, a Token's `value`) are unknown; an imported one has its
 *   import ID.
 * - update: each custom resource goes to a `ResourceHandler` (default: outputs = inputs plus the
 *   few computed outputs the program reads); a test or a benchmark can route some types to a real
 *   provider, e.g. dynamic resources to `cmd/dynamic-provider`.
 */
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import * as resourceRpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import { computedOutputs, recordedResourceOf, type RecordedResource } from "../plan/offlineRuntime";
import { UNKNOWN_VALUE } from "../pulumiWire";
import { engineValue } from "./checkpoint";

/** Features the current CLI reports (`SupportsFeature`); the SDK shapes what it sends by them. */
const SUPPORTED_FEATURES = new Set([
  "secrets",
  "resourceReferences",
  "outputValues",
  "deletedWith",
  "replaceWith",
  "aliasSpecs",
  "transforms",
  "invokeTransforms",
  "parameterization",
  "resourceHooks",
  "errorHooks",
]);

/** One custom resource to create (update mode). */
export interface CreateRequest {
  urn: string;
  type: string;
  name: string;
  /** Inputs as the SDK sent them (wire form: secrets and output values still marked). */
  inputs: Record<string, unknown>;
  /** The `import` option, when set. */
  importId: string | undefined;
}

/** What a created resource is: its ID and its outputs (wire form). */
export interface CreateResult {
  id: string;
  outputs: Record<string, unknown>;
}

/** Creates custom resources in update mode. */
export type ResourceHandler = (request: CreateRequest) => Promise<CreateResult>;

/** One `Engine.Log` call. */
export interface LoggedMessage {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn: string;
}

export interface FakeEngineOptions {
  project: string;
  stack: string;
  /** Preview (`--dry-run`) or update. */
  dryRun: boolean;
  /** Update mode: how custom resources are created (default `echoInputs`). */
  create?: ResourceHandler;
}

/** A running fake engine. `close` when done. */
export interface FakeEngine {
  /** `127.0.0.1:<port>`: both services listen here (pass it as --monitor and --engine). */
  readonly address: string;
  /** Registrations in arrival order (the root stack included), by the engine's URNs. */
  readonly resources: RecordedResource[];
  /** The stack's outputs as registered (wire form). */
  readonly stackOutputs: Record<string, unknown>;
  /** Every log message the program sent. */
  readonly logs: LoggedMessage[];
  /** Provider function calls (data sources) the program made. */
  readonly invokes: number;
  /** Wire-form inputs of each registration by URN (e.g. a dynamic resource's `__provider` text). */
  inputsOf(urn: string): Record<string, unknown> | undefined;
  /** The program source position the SDK sent with a registration (`project:///file#line,column`), if any. */
  sourcePositionOf(urn: string): string | undefined;
  close(): Promise<void>;
}

/** The default update-mode handler: ID from `import` or the name, outputs = inputs + computed outputs. */
export const echoInputs: ResourceHandler = async (req) => ({
  id: req.importId ?? `${req.name}-id`,
  outputs: { ...req.inputs, ...computedOutputs(req.type, req.name, req.inputs) },
});

/**
 * The URN the engine gives a resource: its type qualified by the parent's type chain, except under
 * the root stack (or with no parent).
 */
export function engineUrnOf(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  const parentType = parentUrn.split("::")[2] ?? "";
  const qualified = !parentUrn || parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

const SEVERITIES = ["debug", "info", "warning", "error"] as const;

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;
type Call<T> = grpc.ServerUnaryCall<T, unknown>;

/** Starts the fake engine on 127.0.0.1 (port chosen by the OS). */
export async function startFakeEngine(options: FakeEngineOptions): Promise<FakeEngine> {
  const resources: RecordedResource[] = [];
  const wireInputs = new Map<string, Record<string, unknown>>();
  const sourcePositions = new Map<string, string>();
  const logs: LoggedMessage[] = [];
  let stackOutputs: Record<string, unknown> = {};
  let invokes = 0;
  let rootUrn = "";
  const create = options.create ?? echoInputs;

  /** Runs an async handler and answers the call with its result, or with its error as INTERNAL. */
  const answer = <Req, Res>(handle: (req: Req) => Promise<Res> | Res) => {
    return (call: Call<Req>, callback: Callback<Res>): void => {
      Promise.resolve()
        .then(() => handle(call.request))
        .then(
          (res) => callback(null, res),
          (err: unknown) =>
            callback({
              name: "Error",
              code: grpc.status.INTERNAL,
              message: err instanceof Error ? err.message : String(err),
              details: err instanceof Error ? err.message : String(err),
              metadata: new grpc.Metadata(),
            }),
        );
    };
  };

  async function register(req: resourceProto.RegisterResourceRequest): Promise<resourceProto.RegisterResourceResponse> {
    const type = req.getType();
    const name = req.getName();
    const urn = engineUrnOf(options.stack, options.project, req.getParent(), type, name);
    const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
    resources.push(recordedResourceOf(req, urn));
    wireInputs.set(urn, inputs);
    const position = req.getSourceposition();
    if (position) sourcePositions.set(urn, `${position.getUri()}#${position.getLine()},${position.getColumn()}`);
    const importId = req.getImportid() || undefined;
    const resp = new resourceProto.RegisterResourceResponse();
    resp.setUrn(urn);
    if (!req.getCustom()) {
      resp.setObject(Struct.fromJavaScript({}));
      return resp;
    }
    const isProvider = type.startsWith("pulumi:providers:");
    if (options.dryRun) {
      // What a preview answers: imports have their ID, providers the unknown ID, creations none yet.
      resp.setId(importId ?? (isProvider ? UNKNOWN_VALUE : ""));
      resp.setObject(Struct.fromJavaScript(engineValue(inputs) as never));
      return resp;
    }
    const result = isProvider
      ? { id: `${name}-provider-id`, outputs: inputs }
      : await create({ urn, type, name, inputs, importId });
    resp.setId(result.id);
    resp.setObject(Struct.fromJavaScript(engineValue(result.outputs) as never));
    return resp;
  }

  const monitor: resourceRpc.IResourceMonitorServer = {
    supportsFeature: answer((req: resourceProto.SupportsFeatureRequest) =>
      new resourceProto.SupportsFeatureResponse().setHassupport(SUPPORTED_FEATURES.has(req.getId())),
    ),
    registerResource: answer(register),
    registerResourceOutputs: answer((req: resourceProto.RegisterResourceOutputsRequest) => {
      if (req.getUrn() === rootUrn || req.getUrn().includes("::pulumi:pulumi:Stack::"))
        stackOutputs = req.getOutputs()?.toJavaScript() ?? {};
      return new Empty();
    }),
    invoke: answer((req: resourceProto.ResourceInvokeRequest) => {
      invokes++;
      return new providerProto.InvokeResponse().setReturn(req.getArgs() ?? Struct.fromJavaScript({}));
    }),
    readResource: answer((req: resourceProto.ReadResourceRequest): resourceProto.ReadResourceResponse => {
      throw new Error(`ReadResource (${req.getType()} ${req.getName()}) is not supported by the fake engine`);
    }),
    call: answer((req: resourceProto.ResourceCallRequest): providerProto.CallResponse => {
      throw new Error(`Call (${req.getTok()}) is not supported by the fake engine`);
    }),
    signalAndWaitForShutdown: answer(() => new Empty()),
  } as resourceRpc.IResourceMonitorServer;

  const engine: engineRpc.IEngineServer = {
    log: answer((req: engineProto.LogRequest) => {
      logs.push({ severity: SEVERITIES[req.getSeverity()] ?? "info", message: req.getMessage(), urn: req.getUrn() });
      return new Empty();
    }),
    getRootResource: answer(() => new engineProto.GetRootResourceResponse().setUrn(rootUrn)),
    setRootResource: answer((req: engineProto.SetRootResourceRequest) => {
      rootUrn = req.getUrn();
      return new engineProto.SetRootResourceResponse();
    }),
  } as engineRpc.IEngineServer;

  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(resourceRpc.ResourceMonitorService, monitor);
  server.addService(engineRpc.EngineService, engine);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    address: `127.0.0.1:${port}`,
    resources,
    get stackOutputs() {
      return stackOutputs;
    },
    logs,
    get invokes() {
      return invokes;
    },
    inputsOf: (urn) => wireInputs.get(urn),
    sourcePositionOf: (urn) => sourcePositions.get(urn),
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
