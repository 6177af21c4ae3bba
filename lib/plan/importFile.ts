/**
 * The file `pulumi import --file` reads, for every resource the program adopts (those with an
 * `import` option): VMs, containers, templates, storage, node notes, firewall options.
 * Format: https://www.pulumi.com/docs/iac/cli/commands/pulumi_import/ (nameTable + resources).
 */
import type { RecordedResource } from "./offlineRuntime";

export interface ImportEntry {
  type: string;
  name: string;
  id: string;
  parent?: string;
  provider?: string;
}

export interface ImportFile {
  nameTable: Record<string, string>;
  resources: ImportEntry[];
}

/** A name for a URN in the name table: its resource name, qualified by its type when ambiguous. */
function tableName(urn: string, taken: Map<string, string>): string {
  const [, , typePart = "", name = ""] = urn.split("::");
  const type = typePart.split("$").pop() ?? typePart;
  let key = name;
  if (taken.has(key) && taken.get(key) !== urn) key = `${type.split(":").pop()}-${name}`;
  taken.set(key, urn);
  return key;
}

export function importFile(resources: readonly RecordedResource[]): ImportFile {
  const taken = new Map<string, string>();
  const byUrn = new Map<string, string>();
  const nameFor = (urn: string) => byUrn.get(urn) ?? (byUrn.set(urn, tableName(urn, taken)), byUrn.get(urn)!);
  const entries: ImportEntry[] = [];
  for (const r of [...resources].sort((a, b) => (a.urn < b.urn ? -1 : 1))) {
    if (!r.options.import) continue;
    const isStackParent = r.parent.includes("::pulumi:pulumi:Stack::");
    entries.push({
      type: r.type,
      name: r.name,
      id: r.options.import,
      ...(r.parent && !isStackParent ? { parent: nameFor(r.parent) } : {}),
      ...(r.provider ? { provider: nameFor(r.provider) } : {}),
    });
  }
  const nameTable: Record<string, string> = Object.fromEntries(
    [...byUrn.entries()].map(([urn, name]): [string, string] => [name, urn]).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return { nameTable, resources: entries };
}
