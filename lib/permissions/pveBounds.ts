/**
 * Validation bounds for guest values, read from the Proxmox VE 9.1 API schema when this module is
 * loaded (the JSON is parsed once, see `loadPveApiSchema`), never typed in by hand: if the schema
 * changes, these change with it.
 *
 * Each constant names the method and parameter it comes from. Named formats (`pve-vmid`,
 * `dns-name`, `pve-tag-list`) are validated by PVE's Perl code; the schema carries their names, not
 * their regexes, so only what the schema states is exported (plus the tag regex, which the schema
 * does state, in the datacenter options' tag lists, and `namedFormat`, the Perl regexes of the
 * named formats the parameters here use, looked up by the format name the schema gives).
 *
 * The program never imports this module (it reads the schema, which may be absent where `pulumi up`
 * runs): `npm run generate` writes what validation needs to
 * `lib/config/pveBounds.generated.json`, which `lib/config/pveBounds.ts` loads.
 */
import { loadPveApiSchema, PveSchemaError, type ApiParameter, type HttpMethod } from "./pveApiSchema";

const schema = loadPveApiSchema();

const LXC_CREATE = ["POST", "/nodes/{node}/lxc"] as const;

function param(method: HttpMethod, path: string, name: string): ApiParameter {
  return schema.parameter(method, path, name);
}

/** A sub-property of a property-string parameter (`net[n]` → `tag`). */
function subParam(method: HttpMethod, path: string, name: string, sub: string): ApiParameter {
  const format = param(method, path, name).format;
  const p = typeof format === "object" ? format[sub] : undefined;
  if (!p) throw new PveSchemaError(`${method} ${path} ${name} has no sub-property '${sub}'`);
  return p;
}

function num(p: ApiParameter, key: "minimum" | "maximum", where: string): number {
  const v = p[key];
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new PveSchemaError(`${where}: no numeric ${key}`);
  return n;
}

function optNum(p: ApiParameter, key: "minimum" | "maximum"): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

function str(p: ApiParameter, key: "format" | "pattern", where: string): string {
  const v = p[key];
  if (typeof v !== "string") throw new PveSchemaError(`${where}: no ${key}`);
  return v;
}

function int(p: ApiParameter, key: "maxLength" | "minLength", where: string): number {
  const v = p[key];
  if (typeof v !== "number") throw new PveSchemaError(`${where}: no ${key}`);
  return v;
}

function optInt(p: ApiParameter, key: "maxLength" | "minLength"): number | undefined {
  const v = p[key];
  return typeof v === "number" ? v : undefined;
}

function enumOf(p: ApiParameter, where: string): readonly string[] {
  if (!p.enum || p.enum.length === 0) throw new PveSchemaError(`${where}: no enum`);
  return [...p.enum];
}

/**
 * A PVE (Perl) pattern as a JavaScript RegExp matching the whole value, as PVE does. `(?^:...)`
 * groups become `(?:...)`; a pattern that is one `(?^i:...)` group becomes a case-insensitive one.
 */
export function perlPatternToRegExp(pattern: string): RegExp {
  let flags = "";
  let body = pattern;
  const whole = /^\(\?\^i:(.*)\)$/.exec(body);
  if (whole?.[1] !== undefined && balanced(whole[1])) {
    flags = "i";
    body = whole[1];
  }
  if (/\(\?\^[a-z]+:/.test(body)) throw new PveSchemaError(`pattern with inner flags cannot be translated: ${pattern}`);
  body = body.replaceAll("(?^:", "(?:");
  return new RegExp(`^(?:${body})$`, flags);
}

function balanced(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

/** The first `(?^i:...)` group of a pattern (the body only). */
function firstCaseInsensitiveGroup(pattern: string, where: string): string {
  const start = pattern.indexOf("(?^i:");
  if (start < 0) throw new PveSchemaError(`${where}: no (?^i:...) group in ${pattern}`);
  let depth = 0;
  for (let i = start; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return pattern.slice(start, i + 1);
  }
  throw new PveSchemaError(`${where}: unbalanced pattern ${pattern}`);
}

const vmidParam = param(...LXC_CREATE, "vmid");

/** Guest IDs: `vmid` of POST /nodes/{node}/lxc (format `pve-vmid`): 100..999999999. */
export const VMID = {
  format: str(vmidParam, "format", "lxc create vmid"),
  min: num(vmidParam, "minimum", "lxc create vmid"),
  max: num(vmidParam, "maximum", "lxc create vmid"),
} as const;

const hostnameParam = param(...LXC_CREATE, "hostname");

/** Container host name: `hostname` of POST /nodes/{node}/lxc (format `dns-name`, at most 255 characters). */
export const LXC_HOSTNAME = {
  format: str(hostnameParam, "format", "lxc create hostname"),
  maxLength: int(hostnameParam, "maxLength", "lxc create hostname"),
} as const;

/**
 * The regexes of named formats the parameters here use, which the schema names but does not state:
 * PVE checks them in Perl (pve-common `PVE/JSONSchema.pm`), so they are copied from there, each with
 * its rule in words for messages. `namedFormat` throws for a format not listed, so a parameter whose
 * format the schema changes cannot keep a stale regex unnoticed.
 */
const NAMED_FORMATS: Readonly<Record<string, { readonly pattern: RegExp; readonly rule: string }>> = {
  // sub pve_verify_dns_name: $namere = "([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)"; $name =~ /^(${namere}\.)*${namere}$/
  "dns-name": {
    pattern: /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)$/,
    rule: "dot-separated labels of letters, digits and hyphens, each starting and ending with a letter or digit",
  },
};

/** The regex (whole value) and rule of a named format, e.g. `dns-name`; an unknown format is an error. */
export function namedFormat(format: string): { readonly pattern: RegExp; readonly rule: string } {
  const f = NAMED_FORMATS[format];
  if (!f)
    throw new PveSchemaError(
      `no regex known for the PVE format '${format}' (add it to NAMED_FORMATS from pve-common PVE/JSONSchema.pm)`,
    );
  return f;
}

const tagListPattern = str(
  subParam("PUT", "/cluster/options", "user-tag-access", "user-allow-list"),
  "pattern",
  "cluster options user-tag-access.user-allow-list",
);

/**
 * Guest tags: `tags` of POST /nodes/{node}/lxc has format `pve-tag-list` (tags separated by `;`,
 * `,` or spaces). One tag's pattern comes from PUT /cluster/options `user-tag-access` →
 * `user-allow-list` (`(?^i:[a-z0-9_][a-z0-9_\-\+\.]*)`, case-insensitive). `userAllowDefault` is
 * the datacenter's default `user-allow` policy (`free`: users without Sys.Modify on `/` may set
 * any tag that is not in `registered-tags`).
 */
export const TAGS = {
  format: str(param(...LXC_CREATE, "tags"), "format", "lxc create tags"),
  tagPattern: perlPatternToRegExp(firstCaseInsensitiveGroup(tagListPattern, "user-allow-list")),
  userAllowDefault: String(subParam("PUT", "/cluster/options", "user-tag-access", "user-allow").default),
} as const;

const memoryParam = param(...LXC_CREATE, "memory");
/** Container memory in MiB: `memory` of POST /nodes/{node}/lxc: minimum 16, no maximum (`max` undefined). */
export const LXC_MEMORY_MIB = {
  min: num(memoryParam, "minimum", "lxc create memory"),
  max: optNum(memoryParam, "maximum"),
} as const;

const swapParam = param(...LXC_CREATE, "swap");
/** Container swap in MiB: `swap` of POST /nodes/{node}/lxc: minimum 0, no maximum. */
export const LXC_SWAP_MIB = {
  min: num(swapParam, "minimum", "lxc create swap"),
  max: optNum(swapParam, "maximum"),
} as const;

const coresParam = param(...LXC_CREATE, "cores");
/** Container cores: `cores` of POST /nodes/{node}/lxc: 1..8192. */
export const LXC_CORES = {
  min: num(coresParam, "minimum", "lxc create cores"),
  max: num(coresParam, "maximum", "lxc create cores"),
} as const;

const cpulimitParam = param(...LXC_CREATE, "cpulimit");
/** Container CPU limit: `cpulimit` of POST /nodes/{node}/lxc: 0 (no limit)..8192. */
export const LXC_CPULIMIT = {
  min: num(cpulimitParam, "minimum", "lxc create cpulimit"),
  max: num(cpulimitParam, "maximum", "lxc create cpulimit"),
} as const;

/** Container description: `description` of POST /nodes/{node}/lxc: at most 8192 characters. */
export const LXC_DESCRIPTION_MAX_LENGTH = int(
  param(...LXC_CREATE, "description"),
  "maxLength",
  "lxc create description",
);

/** Container root password: `password` of POST /nodes/{node}/lxc: at least 5 characters. */
export const LXC_PASSWORD_MIN_LENGTH = int(param(...LXC_CREATE, "password"), "minLength", "lxc create password");

/** Container OS types: `ostype` of POST /nodes/{node}/lxc. */
export const LXC_OSTYPES = enumOf(param(...LXC_CREATE, "ostype"), "lxc create ostype");

const netTag = subParam(...LXC_CREATE, "net[n]", "tag");
const netMtu = subParam(...LXC_CREATE, "net[n]", "mtu");
/**
 * Container NICs: sub-properties of `net[n]` of POST /nodes/{node}/lxc: `bridge` and `name`
 * patterns, VLAN `tag` 1..4094, `mtu` 64..65535.
 */
export const LXC_NET = {
  bridgePattern: perlPatternToRegExp(str(subParam(...LXC_CREATE, "net[n]", "bridge"), "pattern", "lxc net bridge")),
  namePattern: perlPatternToRegExp(str(subParam(...LXC_CREATE, "net[n]", "name"), "pattern", "lxc net name")),
  vlanTag: { min: num(netTag, "minimum", "lxc net tag"), max: num(netTag, "maximum", "lxc net tag") },
  mtu: { min: num(netMtu, "minimum", "lxc net mtu"), max: num(netMtu, "maximum", "lxc net mtu") },
} as const;

/** Pool IDs: `poolid` of POST /pools (format `pve-poolid`). Storage IDs: `storage` of POST /storage (format `pve-storage-id`). */
export const ID_FORMATS = {
  pool: str(param("POST", "/pools", "poolid"), "format", "pools poolid"),
  storage: str(param("POST", "/storage", "storage"), "format", "storage storage"),
} as const;

const HA_CREATE = ["POST", "/cluster/ha/resources"] as const;
/** HA resource limits as ranges: `max_restart` and `max_relocate` of POST /cluster/ha/resources (minimum 0, no maximum). */
function haRange(name: "max_restart" | "max_relocate"): { readonly min: number; readonly max: number | undefined } {
  const p = param(...HA_CREATE, name);
  return { min: num(p, "minimum", `ha resources ${name}`), max: optNum(p, "maximum") };
}
export const HA_LIMITS = { maxRestart: haRange("max_restart"), maxRelocate: haRange("max_relocate") } as const;

const QEMU_CREATE = ["POST", "/nodes/{node}/qemu"] as const;
const qemuNameParam = param(...QEMU_CREATE, "name");
/** VM name: `name` of POST /nodes/{node}/qemu (format `dns-name`, no length limit: `maxLength` undefined). */
export const QEMU_NAME = {
  format: str(qemuNameParam, "format", "qemu create name"),
  maxLength: optInt(qemuNameParam, "maxLength"),
} as const;

const qemuCoresParam = param(...QEMU_CREATE, "cores");
/** VM cores per socket: `cores` of POST /nodes/{node}/qemu: minimum 1, no maximum. */
export const QEMU_CORES = {
  min: num(qemuCoresParam, "minimum", "qemu create cores"),
  max: optNum(qemuCoresParam, "maximum"),
} as const;

const qemuMemoryParam = subParam(...QEMU_CREATE, "memory", "current");
/** VM memory in MiB: `memory` → `current` of POST /nodes/{node}/qemu: minimum 16, no maximum. */
export const QEMU_MEMORY_MIB = {
  min: num(qemuMemoryParam, "minimum", "qemu create memory.current"),
  max: optNum(qemuMemoryParam, "maximum"),
} as const;

const FW_OPTIONS = ["PUT", "/nodes/{node}/lxc/{vmid}/firewall/options"] as const;
const FW_RULES = ["POST", "/nodes/{node}/lxc/{vmid}/firewall/rules"] as const;
/**
 * Per-container firewall: `policy_in`/`policy_out` of PUT .../firewall/options; rule `type` and the
 * `action` pattern and length (an action or a security group name) of POST .../firewall/rules.
 */
export const LXC_FIREWALL = {
  policies: enumOf(param(...FW_OPTIONS, "policy_in"), "firewall policy_in"),
  ruleTypes: enumOf(param(...FW_RULES, "type"), "firewall rule type"),
  actionPattern: perlPatternToRegExp(str(param(...FW_RULES, "action"), "pattern", "firewall rule action")),
  actionLength: {
    min: int(param(...FW_RULES, "action"), "minLength", "firewall action"),
    max: int(param(...FW_RULES, "action"), "maxLength", "firewall action"),
  },
} as const;
