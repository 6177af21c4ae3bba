/**
 * NPM's OpenAPI 3.1 schema (`/work/shared/contracts/nginx-proxy-manager`) loaded into ajv, to check
 * request and response bodies against the operation they belong to. Every file is registered under
 * its own `file://` URL, so the relative `$ref`s between files resolve exactly as on disk.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv2020 } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { NPM_CONTRACT_DIR } from "../../lib/contracts";

/** Where the contract lives. */
export const CONTRACT_DIR = NPM_CONTRACT_DIR;

/**
 * Where NPM's real backend sends what its own schema rejects. The recorded exchanges
 * (`../shared/reality/nginx-proxy-manager-exchanges.jsonl`) are the evidence; each allowance
 * widens the vendored schema (in memory: `contracts/` stays an exact copy) by exactly that.
 */
export const REAL_SERVER_ALLOWANCES: readonly {
  file: string;
  what: string;
  patch: (schema: Record<string, unknown>) => void;
}[] = [
  {
    file: "components/proxy-host-object.json",
    what: "`locations: null` on every host (recorded: every GET of a proxy host)",
    patch: (schema) => {
      const props = schema["properties"] as Record<string, unknown>;
      props["locations"] = { anyOf: [props["locations"], { type: "null" }] };
    },
  },
  {
    file: "components/error-object.json",
    what: "`message_i18n`, a string (bad login) or an object (expired token) (recorded: POST and GET /tokens, GET /nginx/proxy-hosts)",
    patch: (schema) => {
      (schema["properties"] as Record<string, unknown>)["message_i18n"] = {
        anyOf: [{ type: "string" }, { type: "object" }],
      };
    },
  },
  {
    file: "components/certificate-object.json",
    what: "`is_deleted` in the certificate NPM expands in POST/PUT proxy-host replies (reality: nginx-proxy-manager.md)",
    patch: (schema) => {
      (schema["properties"] as Record<string, unknown>)["is_deleted"] = {
        anyOf: [{ type: "integer" }, { type: "boolean" }],
      };
    },
  },
];

/** One documented operation. */
export interface NpmOperation {
  /** Path template from `swagger.json`, e.g. `/nginx/proxy-hosts/{hostID}`. */
  readonly template: string;
  /** Lower-case HTTP method. */
  readonly method: string;
  /** The operation file the path item `$ref`s. */
  readonly file: string;
  /** The parsed operation object. */
  readonly spec: Record<string, unknown>;
}

/** Validators for NPM's request and response bodies. Each `validate*` returns error texts, empty when valid. */
export interface NpmContract {
  /** The documented operation for `method` and a concrete `path` (relative to `/api`), if any. */
  operationFor(method: string, path: string): NpmOperation | undefined;
  /** Checks a request body against the operation's `requestBody` schema (no body must mean none is required). */
  validateRequest(method: string, path: string, body: unknown): string[];
  /**
   * Checks a response body against the operation's schema for `status`. Error statuses the operation
   * does not list are checked against NPM's generic error envelope (`components/error.json`).
   */
  validateResponse(method: string, path: string, status: number, body: unknown): string[];
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return jsonFiles(full);
    return name.endsWith(".json") ? [full] : [];
  });
}

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
const urlOf = (file: string): string => pathToFileURL(file).href;
/** URL of a schema taken out of an operation file: `post.json` → `post.request.json` in the same folder. */
const partUrl = (operationFile: string, part: string): string =>
  urlOf(operationFile.replace(/\.json$/, `.${part}.json`));
/** The `application/json` schema of an OpenAPI `content` map, if any. */
const jsonSchemaOf = (content: unknown): Record<string, unknown> | undefined =>
  (content as Record<string, { schema?: Record<string, unknown> }> | undefined)?.["application/json"]?.schema;

/** Loads every schema file of the contract and indexes the operations of `swagger.json`. */
export function loadNpmContract(
  dir: string = CONTRACT_DIR,
  options: { allowances?: typeof REAL_SERVER_ALLOWANCES } = {},
): NpmContract {
  const allowances = options.allowances ?? REAL_SERVER_ALLOWANCES;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, validateFormats: true });
  addFormats(ajv);
  // OpenAPI's `example` annotation carries no constraint. `content` appears once in a schema
  // position (`common.json#/properties/certificate_files`, really a request body) and is ignored too.
  ajv.addKeyword({ keyword: "example" });
  ajv.addKeyword({ keyword: "content" });

  // Schema files (`common.json`, `components/`) are known by their location; `common.json`'s own
  // `$id: "common"` would otherwise break the relative refs into it.
  for (const file of [join(dir, "common.json"), ...jsonFiles(join(dir, "components"))]) {
    const schema = readJson(file);
    for (const allowance of allowances) if (join(dir, allowance.file) === file) allowance.patch(schema);
    ajv.addSchema({ ...schema, $id: urlOf(file) });
  }

  const swagger = readJson(join(dir, "swagger.json"));
  const operations: NpmOperation[] = [];
  for (const [template, item] of Object.entries(swagger["paths"] as Record<string, Record<string, { $ref: string }>>)) {
    for (const [method, ref] of Object.entries(item)) {
      const file = resolve(dir, ref.$ref);
      const spec = readJson(file);
      operations.push({ template, method, file, spec });
      // An operation file is not a schema; its body schemas are registered as siblings of it (same
      // folder, so their relative `$ref`s resolve as in the operation file).
      const requestSchema = jsonSchemaOf((spec["requestBody"] as { content?: unknown } | undefined)?.content);
      if (requestSchema) ajv.addSchema({ ...requestSchema, $id: partUrl(file, "request") });
      for (const [status, response] of Object.entries(
        (spec["responses"] ?? {}) as Record<string, { content?: unknown }>,
      )) {
        const responseSchema = jsonSchemaOf(response.content);
        if (responseSchema) ajv.addSchema({ ...responseSchema, $id: partUrl(file, `response-${status}`) });
      }
    }
  }
  const matchers = operations.map((op) => ({
    op,
    re: new RegExp(`^${op.template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`),
  }));
  // A literal segment wins over a parameter (`/certificates/dns-providers` before `/certificates/{certID}`).
  const literalness = (t: string): number => t.split("/").filter((s) => !s.startsWith("{")).length;

  const operationFor = (method: string, path: string): NpmOperation | undefined => {
    // The real server routes `/nginx/proxy-hosts/` like `/nginx/proxy-hosts` (recorded).
    const bare = (path.split("?")[0] ?? path).replace(/(.)\/$/, "$1");
    const found = matchers.filter((m) => m.op.method === method.toLowerCase() && m.re.test(bare)).map((m) => m.op);
    return found.sort((a, b) => literalness(b.template) - literalness(a.template))[0];
  };

  const check = (schemaRef: string, data: unknown): string[] => {
    const validate = ajv.getSchema(schemaRef);
    if (!validate) return [`schema ${schemaRef} not found`];
    if (validate(data)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || "(root)"} ${e.message ?? "invalid"} ${JSON.stringify(e.params)}`,
    );
  };

  return {
    operationFor,
    validateRequest(method, path, body) {
      const op = operationFor(method, path);
      if (!op) return [`${method} ${path} is not a documented operation`];
      const requestBody = op.spec["requestBody"] as { required?: boolean; content?: unknown } | undefined;
      if (body === undefined) return requestBody?.required ? [`${method} ${op.template} requires a body`] : [];
      if (!requestBody) return [`${method} ${op.template} takes no body`];
      if (!jsonSchemaOf(requestBody.content)) return [`${method} ${op.template} has no JSON request schema`];
      return check(partUrl(op.file, "request"), body);
    },
    validateResponse(method, path, status, body) {
      const op = operationFor(method, path);
      if (!op) return [`${method} ${path} is not a documented operation`];
      const responses = (op.spec["responses"] ?? {}) as Record<string, { content?: unknown }>;
      const declared = responses[String(status)];
      if (declared) {
        if (!jsonSchemaOf(declared.content)) return [`${method} ${op.template} ${status} has no JSON response schema`];
        return check(partUrl(op.file, `response-${status}`), body);
      }
      if (status >= 400) return check(urlOf(join(dir, "components/error.json")), body);
      return [`${method} ${op.template} does not document status ${status}`];
    },
  };
}

/** One recorded request/answer pair (as `FakeNpmServer` records them). */
export interface ContractExchange {
  readonly method: string;
  readonly path: string;
  readonly requestBody: unknown;
  readonly status: number;
  readonly responseBody: unknown;
}

/** Schema problems of every exchange, each naming the call; empty when all are valid. */
export function contractProblems(contract: NpmContract, exchanges: readonly ContractExchange[]): string[] {
  return exchanges.flatMap((e) => [
    ...contract.validateRequest(e.method, e.path, e.requestBody).map((p) => `request ${e.method} ${e.path}: ${p}`),
    ...contract
      .validateResponse(e.method, e.path, e.status, e.responseBody)
      .map((p) => `response ${e.status} ${e.method} ${e.path}: ${p}`),
  ]);
}
