import type { CapacityReport } from "../planning/capacity";
import { ENGINE_FACTS, factsOf } from "../providerFacts";
import type { RecordedResource } from "./offlineRuntime";
import { COMPONENT_TYPES } from "../componentTypes";

type Inputs = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Inputs)[k] : undefined), o);

/** The key figures of a resource, one short line. */
export function keyFigures(r: RecordedResource): string {
  const i = r.inputs;
  const parts: string[] = [];
  const push = (label: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== "") parts.push(`${label}${String(value)}`);
  };
  const type = r.type.split(":").pop() ?? r.type;
  switch (type) {
    case "ContainerLegacy":
    case "VmLegacy":
      push("vmid=", i["vmId"]);
      push("node=", i["nodeName"]);
      push("cores=", get(i, "cpu", "cores"));
      push(
        "mem=",
        get(i, "memory", "dedicated") !== undefined ? `${String(get(i, "memory", "dedicated"))}MiB` : undefined,
      );
      push(
        "disk=",
        get(i, "disk", "datastoreId")
          ? `${String(get(i, "disk", "datastoreId"))}:${String(get(i, "disk", "size"))}GiB`
          : undefined,
      );
      if (type === "ContainerLegacy") push("", i["unprivileged"] === false ? "privileged" : "unprivileged");
      if (i["template"] === true) push("", "template");
      push("ip=", get(i, "initialization", "ipConfigs", "0", "ipv4", "address"));
      push("tags=", Array.isArray(i["tags"]) && i["tags"].length ? (i["tags"] as string[]).join(",") : undefined);
      break;
    case "Haresource":
      push("", i["resourceId"]);
      push("state=", i["state"]);
      push("max_restart=", i["maxRestart"]);
      push("max_relocate=", i["maxRelocate"]);
      break;
    case "Harule":
    case "Hagroup":
      push("nodes=", JSON.stringify(i["nodes"]));
      push("resources=", Array.isArray(i["resources"]) ? (i["resources"] as string[]).join(",") : undefined);
      break;
    case "DnsRecord":
      push("", `${String(i["name"])} ${String(i["type"])} ${String(i["content"])}`);
      break;
    case "PveBackupJob":
      push("", `${String(i["schedule"])} -> ${String(i["storage"])}`);
      push("node=", i["node"]);
      push("pool=", i["pool"]);
      push("vmid=", i["vmid"]);
      push(
        "",
        i["prune-backups"] && typeof i["prune-backups"] === "object"
          ? Object.entries(i["prune-backups"] as Record<string, unknown>)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(",")
          : undefined,
      );
      break;
    case "File":
      push("", `${String(i["nodeName"])}:${String(i["datastoreId"])}/${String(i["fileName"])}`);
      break;
    case "PveStorage":
      push("", `${String(i["storage"])} ${String(i["type"])}`);
      push("nodes=", Array.isArray(i["nodes"]) ? (i["nodes"] as string[]).join(",") : "all");
      break;
    case "NpmProxyHost":
      push("", `${String(i["domain"])} -> ${String(i["forwardHost"])}:${String(i["forwardPort"])}`);
      push("ssl-forced=", i["sslForced"]);
      break;
    case "OptionsLegacy":
      push("ct=", i["containerId"] ?? i["vmId"]);
      push("in=", i["inputPolicy"]);
      push("out=", i["outputPolicy"]);
      break;
    case "RulesLegacy":
    case "GroupLegacy":
      push(
        "rules=",
        Array.isArray(i["rules"])
          ? (i["rules"] as Array<Record<string, unknown>>)
              .map(
                (r) =>
                  r["securityGroup"] ??
                  `${String(r["type"])} ${String(r["proto"])}/${String(r["dport"])} from ${String(r["source"])}`,
              )
              .join("; ")
          : undefined,
      );
      break;
    case "Command":
      push("triggers=", Array.isArray(i["triggers"]) ? (i["triggers"] as unknown[]).join(",") : undefined);
      break;
    case "RoleLegacy":
      push("", Array.isArray(i["privileges"]) ? `${(i["privileges"] as unknown[]).length} privileges` : undefined);
      break;
    case "Membership":
      push("", `${String(i["poolId"])} <- ${String(i["vmId"] ?? i["storageId"])}`);
      break;
    case "Acl":
      push("", `${String(i["path"])} ${String(i["roleId"])} -> ${String(i["tokenId"] ?? i["userId"] ?? i["groupId"])}`);
      break;
    default:
      break;
  }
  const step = plannedStep(r)?.step;
  const flags = [
    r.options.protect ? "protected" : "",
    r.options.import ? `import=${r.options.import}` : "",
    step === "adopt" ? "adopt" : "",
  ].filter(Boolean);
  return [...parts, ...(flags.length ? [`[${flags.join(", ")}]`] : [])].join(" ");
}

/** What a first `pulumi up` against the live cluster does with one resource, and why. */
export interface PlannedStep {
  /** `import`: read by the provider's importer; `adopt`: a dynamic resource whose create checks the live object and writes nothing; `create`: new. */
  step: "import" | "adopt" | "create";
  why: string;
}

/** The component a resource belongs to (type and name, from its parent URN), if any. */
function componentOf(r: RecordedResource): { type: string; name: string } | undefined {
  const parts = r.parent.split("::");
  const type = parts[2]?.split("$").pop();
  const name = parts[3];
  if (!type || !name || type === "pulumi:pulumi:Stack") return undefined;
  return { type, name };
}

/** Why a new resource is created, by the component that declares it. */
const CREATED_FOR: Readonly<Record<string, (name: string) => string>> = {
  [COMPONENT_TYPES.wordPressSite]: (slug) => `customer ${slug} (customers/${slug}.yaml): a new site`,
  [COMPONENT_TYPES.automationAccess]: () =>
    "automation access: users, tokens, roles, ACL entries, pools and pool memberships the live cluster does not have",
  [COMPONENT_TYPES.customerIsolation]: () => "customer isolation: IP sets and security group not on the live cluster",
  [COMPONENT_TYPES.haPlacement]: () => "HA placement of the customers' HA resources",
  [COMPONENT_TYPES.templates]: () => "a template file not on the node's storage yet (downloaded)",
};

/**
 * The step of a custom resource on a first `pulumi up` against the live cluster (an empty state):
 * `import` for what the seed lists (the `import` option), `adopt` for a dynamic resource marked
 * `adopt` (Pulumi cannot import those, see lib/providerFacts.ts), `create` for the rest, with why.
 * Providers and components are not steps against the cluster: undefined.
 */
export function plannedStep(r: RecordedResource): PlannedStep | undefined {
  if (!r.custom || r.type.startsWith("pulumi:providers:")) return undefined;
  const facts = factsOf(r.type);
  if (r.options.import)
    return {
      step: "import",
      why:
        componentOf(r)?.type === COMPONENT_TYPES.automationAccess
          ? "made by hand to bootstrap the first `pulumi up` (README), read back by the provider's importer"
          : "listed in the seed, read back by the provider's importer",
    };
  if (facts?.adoption?.how === "verify")
    return { step: "adopt", why: `listed in the seed: ${facts.createMeans ?? ENGINE_FACTS.dynamicImport.means}` };
  if (facts?.adoption?.how === "adopt-on-create" && r.inputs["adopt"] === true)
    return {
      step: "adopt",
      why: "listed in the seed: takes over the existing object after checking it matches, writing nothing but the declared guest selection (a dynamic resource cannot be imported: pulumi/pulumi#16175)",
    };
  if (facts?.createMeans) return { step: "create", why: facts.createMeans };
  const component = componentOf(r);
  const reason = component ? CREATED_FOR[component.type]?.(component.name) : undefined;
  return { step: "create", why: reason ?? "new: not on the live cluster" };
}

/**
 * What a first `pulumi up` against the live cluster does: counts of imports, adoptions and creations,
 * then every distinct reason with its resources.
 */
export function renderSteps(resources: readonly RecordedResource[]): string {
  const groups = new Map<string, { step: PlannedStep["step"]; why: string; names: string[] }>();
  const counts = { import: 0, adopt: 0, create: 0 };
  for (const r of resources) {
    const s = plannedStep(r);
    if (!s) continue;
    counts[s.step]++;
    const key = `${s.step}\u0000${s.why}`;
    const g = groups.get(key) ?? { step: s.step, why: s.why, names: [] };
    g.names.push(s.step === "import" ? `${r.name} (${r.options.import})` : r.name);
    groups.set(key, g);
  }
  const lines = [
    `First \`pulumi up\` against the live cluster: ${counts.import} to import, ${counts.adopt} to adopt, ${counts.create} to create`,
  ];
  const order = { import: 0, adopt: 1, create: 2 };
  for (const g of [...groups.values()].sort((a, b) => order[a.step] - order[b.step] || a.why.localeCompare(b.why))) {
    lines.push(`  ${g.step.padEnd(6)} ${String(g.names.length).padStart(3)}  ${g.why}`);
    lines.push(`${" ".repeat(14)}${g.names.sort().join(", ")}`);
  }
  return lines.join("\n");
}

/** Indented tree of every resource under its parent, children sorted by type then name. */
export function renderTree(resources: readonly RecordedResource[]): string {
  const byParent = new Map<string, RecordedResource[]>();
  const urns = new Set(resources.map((r) => r.urn));
  for (const r of resources) {
    const parent = urns.has(r.parent) ? r.parent : "";
    const list = byParent.get(parent) ?? [];
    list.push(r);
    byParent.set(parent, list);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    const children = (byParent.get(parent) ?? []).sort(
      (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name),
    );
    for (const r of children) {
      const figures = keyFigures(r);
      lines.push(`${"  ".repeat(depth)}${r.type} ${r.name}${figures ? `  ${figures}` : ""}`);
      walk(r.urn, depth + 1);
    }
  };
  walk("", 0);
  return lines.join("\n");
}

const pct = (a: number, b: number) => (b > 0 ? `${((a / b) * 100).toFixed(1)}%` : "-");
const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * What each node and storage pool carries against its limit, each limit shown as physical capacity
 * × overcommit beside the figure it bounds.
 */
export function renderCapacity(report: CapacityReport): string {
  const { cpu, memory, storage } = report.overcommit;
  const nodes = table(
    [
      "node",
      "guests",
      "cores",
      "cores limit",
      "cores %",
      "memory measured",
      "memory carried",
      "memory limit",
      "memory %",
    ],
    report.nodes.map((n) => [
      n.node,
      String(n.guests),
      String(n.coresAllocated),
      `${n.coresLimit} (${n.cores} × ${cpu})`,
      pct(n.coresAllocated, n.coresLimit),
      gib(n.memoryMeasuredMiB),
      gib(n.memoryCommittedMiB),
      `${gib(n.memoryLimitMiB)} (${(n.memoryMiB / 1024).toFixed(1)} × ${memory})`,
      pct(n.memoryCommittedMiB, n.memoryLimitMiB),
    ]),
  );
  const pools = table(
    ["storage", "scope", "allocated", "limit", "used %"],
    report.pools.map((p) => [
      p.pool,
      p.scope,
      `${p.allocatedGiB.toFixed(1)} GiB`,
      `${p.limitGiB} GiB (${p.capacityGiB} × ${storage})`,
      pct(p.allocatedGiB, p.limitGiB),
    ]),
  );
  return [
    "Capacity per node (% of the limit, physical × overcommit):",
    "  cores: vCPUs the declared guests allocate",
    "  memory carried: the measured use (seed), or what the adopted guests allocate when more, plus the guests declared since",
    nodes,
    "",
    "Capacity per storage pool (the seed's used space + declared disks, % of the limit):",
    pools,
  ].join("\n");
}
