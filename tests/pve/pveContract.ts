/**
 * Requests and responses checked against the PVE 9.1 API schema (contracts/proxmox-ve/api-schema.json):
 * the method must exist for the path; every parameter must be one the method declares (PVE's
 * methods take no others: `additionalProperties: 0`), of its type once PVE parses the form value
 * (integer, boolean 0/1/true/false/yes/no/on/off, number), within its enum, pattern, bounds, length and
 * named format; required parameters present. A response's `data` is checked against `returns`
 * (type, and the declared properties' types; PVE's return schemas leave other properties open).
 */
import {
  loadPveApiSchema,
  type ApiParameter,
  type HttpMethod,
  type PveApiSchema,
} from "../../lib/permissions/pveApiSchema";

/** Named formats the project's calls use, as PVE's JSONSchema.pm verifies them. */
const FORMATS: Readonly<Record<string, (v: string) => boolean>> = {
  "pve-configid": (v) => /^[a-z][a-z0-9_-]+$/i.test(v),
  "pve-configid-list": (v) => v.split(/[,;\s]+/).every((x) => /^[a-z][a-z0-9_-]+$/i.test(x)),
  "pve-storage-id": (v) => /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v),
  "pve-node": (v) => /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v),
  "pve-vmid-list": (v) => /^\d+([,;\s]+\d+)*$/.test(v),
  "pve-calendar-event": (v) => v.length > 0 && !/[\n\r]/.test(v),
  "prune-backups": (v) =>
    v.split(",").every((kv) => /^keep-(all=[01]|(last|hourly|daily|weekly|monthly|yearly)=\d+)$/.test(kv)),
};

/** Why PVE would refuse a form value for `p` (undefined: accepted). */
export function parameterProblem(p: ApiParameter, raw: string): string | undefined {
  switch (p.type) {
    case "integer": {
      if (!/^[+-]?\d+$/.test(raw)) return `type check ('integer') failed - got '${raw}'`;
      const n = Number(raw);
      if (p.minimum !== undefined && n < Number(p.minimum)) return `value must have a minimum value of ${p.minimum}`;
      if (p.maximum !== undefined && n > Number(p.maximum)) return `value must have a maximum value of ${p.maximum}`;
      return undefined;
    }
    case "number":
      return Number.isFinite(Number(raw)) ? undefined : `type check ('number') failed - got '${raw}'`;
    case "boolean":
      return /^(0|1|true|false|yes|no|on|off)$/i.test(raw) ? undefined : `type check ('boolean') failed - got '${raw}'`;
    case "string":
    case undefined: {
      if (p.enum && !p.enum.includes(raw))
        return `value '${raw}' does not have a value in the enumeration '${p.enum.join(", ")}'`;
      if (p.pattern && !new RegExp(`^(?:${p.pattern})$`).test(raw)) return `value does not match the regex pattern`;
      if (p.maxLength !== undefined && raw.length > p.maxLength)
        return `value may only be ${p.maxLength} characters long`;
      const format = typeof p.format === "string" ? FORMATS[p.format] : undefined;
      if (format && !format(raw)) return `value '${raw}' does not match format ${String(p.format)}`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The schema's path template for a concrete API path (`/cluster/backup/x` → `/cluster/backup/{id}`). */
export function templateOf(schema: PveApiSchema, method: HttpMethod, path: string): string | undefined {
  const parts = path.split("/").filter(Boolean);
  for (const m of schema.methods()) {
    if (m.method !== method) continue;
    const t = m.path.split("/").filter(Boolean);
    if (t.length === parts.length && t.every((seg, i) => seg.startsWith("{") || seg === parts[i])) return m.path;
  }
  return undefined;
}

export interface PveContract {
  /** PVE's per-parameter messages for a request (empty: valid); `unknown` when the method does not exist. */
  validateRequest(method: HttpMethod, path: string, params: Record<string, string>): Record<string, string> | "unknown";
  /** Schema problems of a success answer's `data`. */
  validateResponse(method: HttpMethod, path: string, data: unknown): string[];
}

function typeProblems(schema: unknown, value: unknown, where: string): string[] {
  if (!schema || typeof schema !== "object") return [];
  const s = schema as { type?: string; properties?: Record<string, unknown>; items?: unknown; optional?: number };
  if (value === null || value === undefined) return s.type === "null" || s.optional ? [] : [`${where}: missing`];
  switch (s.type) {
    case "array":
      return Array.isArray(value)
        ? value.flatMap((v, i) => typeProblems(s.items, v, `${where}[${i}]`))
        : [`${where}: not an array`];
    case "object":
      if (typeof value !== "object" || Array.isArray(value)) return [`${where}: not an object`];
      return Object.entries(s.properties ?? {}).flatMap(([k, sub]) => {
        const v = (value as Record<string, unknown>)[k];
        return v === undefined ? [] : typeProblems(sub, v, `${where}.${k}`);
      });
    case "string":
      return typeof value === "string" ? [] : [`${where}: not a string`];
    case "integer":
      return Number.isInteger(value) || (typeof value === "string" && /^\d+$/.test(value))
        ? []
        : [`${where}: not an integer`];
    case "number":
      return typeof value === "number" || (typeof value === "string" && Number.isFinite(Number(value)))
        ? []
        : [`${where}: not a number`];
    case "boolean":
      return [0, 1, true, false, "0", "1"].includes(value as never) ? [] : [`${where}: not a boolean`];
    case "null":
      return [`${where}: expected null`];
    default:
      return [];
  }
}

export function loadPveContract(schema: PveApiSchema = loadPveApiSchema()): PveContract {
  return {
    validateRequest(method, path, params) {
      const template = templateOf(schema, method, path);
      if (!template) return "unknown";
      const m = schema.require(method, template);
      const problems: Record<string, string> = {};
      // PVE hands the path's parameters ({node}, {vmid}, ...) to the handler with the others.
      const segments = path.split("/").filter(Boolean);
      const fromPath = Object.fromEntries(
        template
          .split("/")
          .filter(Boolean)
          .flatMap((seg, i) => (seg.startsWith("{") ? [[seg.slice(1, -1), decodeURIComponent(segments[i]!)]] : [])),
      );
      params = { ...fromPath, ...params };
      for (const [name, raw] of Object.entries(params)) {
        const p = m.parameters[name];
        if (!p) {
          problems[name] = "property is not defined in schema and the schema does not allow additional properties";
          continue;
        }
        const bad = parameterProblem(p, raw);
        if (bad) problems[name] = bad;
      }
      for (const [name, p] of Object.entries(m.parameters))
        if (!p.optional && params[name] === undefined) problems[name] = "property is missing and it is not optional";
      return problems;
    },
    validateResponse(method, path, data) {
      const template = templateOf(schema, method, path);
      if (!template) return [`${method} ${path} is not in the schema`];
      return typeProblems(schema.require(method, template).returns, data, "data");
    },
  };
}
