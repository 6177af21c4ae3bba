/** Customer files validated together, as the plan does, from their text (prod stack config). */
import { stackConfigOf } from "../../lib/config/stacks";
import { topologyOf } from "../../lib/config/topology";
import type { Baseline } from "../../lib/customers/baseline";
import { parseCustomerText, type ParsedCustomerFile } from "../../lib/customers/loadCustomers";
import { validateCustomers } from "../../lib/customers/validateCustomers";
import { ROOT } from "./offlinePlan";

export const prodConfig = stackConfigOf("prod", ROOT);
const topology = topologyOf(prodConfig);

/** A minimal customer file (node1), with `extra` YAML lines after it. */
export const customerYaml = (slug: string, vmid: number, ip: string, extra = "") =>
  `domain: ${slug}.nodepoint.eu\nvmid: ${vmid}\nip: ${ip}\nnode: node1\n${extra}`;

/** Parses `files` (name → text, as `customers/<name>`) and validates them together; every problem as `file: field: message`. */
export function validateFiles(files: Record<string, string>, previous?: Baseline) {
  const parsed: ParsedCustomerFile[] = [];
  const problems = [];
  for (const [name, text] of Object.entries(files).sort()) {
    const r = parseCustomerText(text, name, `customers/${name}`);
    problems.push(...r.problems);
    if (r.file) parsed.push(r.file);
  }
  const v = validateCustomers(prodConfig, topology, parsed, previous, "Pulumi.prod.yaml");
  return {
    problems: [...problems, ...v.problems].map((p) => `${p.file}: ${p.field}: ${p.message}`),
    customers: v.customers,
  };
}
