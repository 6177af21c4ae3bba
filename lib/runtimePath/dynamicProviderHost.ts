/**
 * The plugin `pulumi-resource-pulumi-nodejs` as the engine runs it: `node
 * node_modules/@pulumi/pulumi/cmd/dynamic-provider <engine address>`, started in the project
 * directory, serving the ResourceProvider gRPC service. Every call carries a resource's
 * `__provider` text, which the plugin loads; so this drives a dynamic provider exactly as stored
 * in a stack's state, not the provider object a test could import.
 *
 * Values go over the wire as the engine sends them to this plugin: it does not accept secrets
 * (its Configure answers `acceptSecrets: false`), so secrets arrive unwrapped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import type { CreateRequest, CreateResult, ResourceHandler } from "./fakeEngine";
import { OUTPUT_VALUE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN_VALUE } from "../pulumiWire";

type Props = Record<string, unknown>;

/** A failed call: an Error with the message the plugin gave and the gRPC status. */
export interface ProviderCallError extends Error {
  readonly code: grpc.status;
}

/** What `Diff` answered. */
export interface DiffAnswer {
  changes: "none" | "some" | "unknown";
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** A running plugin. Every method rejects with a `ProviderCallError` when the plugin answers an error. */
export interface DynamicProviderHost {
  check(
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(id: string, urn: string, olds: Props, news: Props): Promise<DiffAnswer>;
  create(urn: string, properties: Props): Promise<{ id: string; properties: Props }>;
  read(id: string, urn: string, properties: Props, inputs?: Props): Promise<{ id: string; properties: Props }>;
  update(id: string, urn: string, olds: Props, news: Props): Promise<{ properties: Props }>;
  delete(id: string, urn: string, properties: Props): Promise<void>;
  /** Everything the plugin wrote to stderr so far (it logs failed calls there). */
  readonly stderr: string;
  /** Stops the plugin process. */
  close(): Promise<void>;
}

/** A wire value as the engine passes it to a provider that accepts no secrets: secrets and output values unwrapped. */
export function plainWireValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainWireValue);
  if (value && typeof value === "object") {
    const obj = value as Props;
    if (obj[SIG_KEY] === SECRET_SIG) return plainWireValue(obj["value"]);
    if (obj[SIG_KEY] === OUTPUT_VALUE_SIG) return "value" in obj ? plainWireValue(obj["value"]) : UNKNOWN_VALUE;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plainWireValue(v)]));
  }
  return value;
}

/**
 * Starts the plugin of the project at `root` and configures it. The CLI starts plugins in the
 * project directory; `cwd` runs it elsewhere (to see what a provider does then).
 */
export async function startDynamicProviderHost(
  options: {
    root: string;
    cwd?: string;
    engineAddress?: string;
    env?: Record<string, string>;
    /**
     * The stack's config (`namespace:key` to value, secrets decrypted), which the engine hands the
     * dynamic-provider plugin whole when it configures it (pulumi/pulumi pkg/resource/deploy/target.go
     * GetPackageConfig: "For dynamic providers, we always pass the full configuration").
     */
    config?: Record<string, string>;
  } = {
    root: process.cwd(),
  },
): Promise<DynamicProviderHost> {
  const root = resolve(options.root);
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("PULUMI_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS",
    ),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, "node_modules/@pulumi/pulumi/cmd/dynamic-provider"), options.engineAddress ?? "127.0.0.1:1"],
    {
      cwd: options.cwd ?? root,
      env: { ...inherited, PULUMI_CONFIG: "{}", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(\d+)\s*$/m.exec(out);
      if (line) resolvePort(Number(line[1]));
    });
    child.once("exit", (code) => reject(new Error(`dynamic provider exited (${code}) before listening: ${stderr}`)));
    child.once("error", reject);
  });
  const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  /** One unary call, its error turned into a `ProviderCallError`. */
  const unary = <Res>(invoke: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown) =>
    new Promise<Res>((resolveCall, reject) => {
      invoke((err, res) => {
        if (err) reject(Object.assign(new Error(err.details || err.message), { code: err.code }));
        else resolveCall(res);
      });
    });
  const struct = (props: Props): Struct => Struct.fromJavaScript(plainWireValue(props) as never);
  const js = (s: Struct | undefined): Props => s?.toJavaScript() ?? {};

  await unary<providerProto.ConfigureResponse>((cb) =>
    client.configure(
      new providerProto.ConfigureRequest().setArgs(Struct.fromJavaScript(options.config ?? {})).setAcceptsecrets(false),
      cb,
    ),
  );

  return {
    async check(urn, olds, news) {
      const res = await unary<providerProto.CheckResponse>((cb) =>
        client.check(new providerProto.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news)), cb),
      );
      return {
        inputs: js(res.getInputs()),
        failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(id, urn, olds, news) {
      const res = await unary<providerProto.DiffResponse>((cb) =>
        client.diff(
          new providerProto.DiffRequest().setId(id).setUrn(urn).setOlds(struct(olds)).setNews(struct(news)),
          cb,
        ),
      );
      const changes = res.getChanges();
      return {
        changes:
          changes === providerProto.DiffResponse.DiffChanges.DIFF_SOME
            ? "some"
            : changes === providerProto.DiffResponse.DiffChanges.DIFF_NONE
              ? "none"
              : "unknown",
        replaces: res.getReplacesList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
      };
    },
    async create(urn, properties) {
      const res = await unary<providerProto.CreateResponse>((cb) =>
        client.create(new providerProto.CreateRequest().setUrn(urn).setProperties(struct(properties)), cb),
      );
      return { id: res.getId(), properties: js(res.getProperties()) };
    },
    async read(id, urn, properties, inputs) {
      const req = new providerProto.ReadRequest().setId(id).setUrn(urn).setProperties(struct(properties));
      if (inputs) req.setInputs(struct(inputs));
      const res = await unary<providerProto.ReadResponse>((cb) => client.read(req, cb));
      return { id: res.getId(), properties: js(res.getProperties()) };
    },
    async update(id, urn, olds, news) {
      const res = await unary<providerProto.UpdateResponse>((cb) =>
        client.update(
          new providerProto.UpdateRequest().setId(id).setUrn(urn).setOlds(struct(olds)).setNews(struct(news)),
          cb,
        ),
      );
      return { properties: js(res.getProperties()) };
    },
    async delete(id, urn, properties) {
      await unary<unknown>((cb) =>
        client.delete(new providerProto.DeleteRequest().setId(id).setUrn(urn).setProperties(struct(properties)), cb),
      );
    },
    get stderr() {
      return stderr;
    },
    async close() {
      client.close();
      if (child.exitCode !== null) return;
      await new Promise<void>((resolveExit) => {
        child.once("exit", () => resolveExit());
        child.kill();
      });
    },
  };
}

/**
 * An update-mode handler for the fake engine that creates dynamic resources the way the engine
 * does (Check, then Create, through the plugin) and everything else with `fallback`.
 */
export function dynamicResourcesThrough(host: DynamicProviderHost, fallback: ResourceHandler): ResourceHandler {
  return async (req: CreateRequest): Promise<CreateResult> => {
    if (!req.type.startsWith("pulumi-nodejs:dynamic")) return fallback(req);
    const checked = await host.check(req.urn, {}, req.inputs);
    if (checked.failures.length > 0)
      throw new Error(checked.failures.map((f) => `${req.urn}: ${f.property}: ${f.reason}`).join("; "));
    const created = await host.create(req.urn, checked.inputs);
    return { id: created.id, outputs: created.properties };
  };
}
