/**
 * Retired VMIDs and LAN addresses (`nodepoint:customerPools.retired` in the stack file): those of
 * removed customers and of containers replaced under another VMID. They are never handed out again
 * without an explicit decision (deleting the entry): Proxmox keeps a guest's backups under its VMID,
 * and a new container must never collide with one still being deleted.
 *
 * Pure: allocation (`customer add`, the provisioner) takes them as used; validation refuses a file
 * that uses one, and a removal or VMID change whose old IDs are not retired yet; `customer remove`
 * writes the entry with `retireInStackText`.
 */
import { isMap, isSeq, parseDocument } from "yaml";
import type { StackConfig } from "../config/schema";
import type { InputProblem } from "../errors";
import type { Baseline } from "./baseline";

/** One retired entry: its VMID, its IP or both, and whose they were. */
export type RetiredEntry = StackConfig["customerPools"]["retired"][number];

/** Where the list lives in the stack file. */
export const RETIRED_KEY = "nodepoint:customerPools.retired";

/** Retired VMIDs and IPs, each with the customer it was retired from. */
export function retiredIds(config: Pick<StackConfig, "customerPools">): {
  vmids: Map<number, string>;
  ips: Map<string, string>;
} {
  const vmids = new Map<number, string>();
  const ips = new Map<string, string>();
  for (const e of config.customerPools.retired) {
    if (e.vmid !== undefined) vmids.set(e.vmid, e.customer);
    if (e.ip !== undefined) ips.set(e.ip, e.customer);
  }
  return { vmids, ips };
}

/** The entry retiring a customer's VMID and IP (`customer remove`). */
export function retirementOf(c: { slug: string; vmid: number; ip: string }): RetiredEntry {
  return { vmid: c.vmid, ip: c.ip, customer: c.slug };
}

/** Problems of customer files that use a retired VMID or IP (each names the file and the field). */
export function retiredUseProblems(
  files: ReadonlyArray<{ file: string; data: { vmid: number; ip: string } }>,
  config: Pick<StackConfig, "customerPools">,
  stackFile: string,
): InputProblem[] {
  const { vmids, ips } = retiredIds(config);
  const problems: InputProblem[] = [];
  for (const { file, data } of files) {
    const vmidOf = vmids.get(data.vmid);
    if (vmidOf !== undefined)
      problems.push({
        file,
        field: "vmid",
        message: `${data.vmid} is retired (${vmidOf}'s, ${RETIRED_KEY} in ${stackFile}): Proxmox keeps its backups under that VMID; to reuse it anyway, delete the entry there`,
      });
    const ipOf = ips.get(data.ip);
    if (ipOf !== undefined)
      problems.push({
        file,
        field: "ip",
        message: `${data.ip} is retired (${ipOf}'s, ${RETIRED_KEY} in ${stackFile}); to reuse it anyway, delete it from the entry there`,
      });
  }
  return problems;
}

/**
 * IDs that leave the committed desired state without being retired: the VMID and IP of a removed
 * customer, the old VMID of a container replaced under a new one. Each problem names the stack file
 * and the entry to add.
 */
export function unretiredProblems(
  customers: ReadonlyArray<{ slug: string; vmid: number }>,
  baseline: Baseline | undefined,
  config: Pick<StackConfig, "customerPools">,
  stackFile: string,
): InputProblem[] {
  if (!baseline) return [];
  const { vmids, ips } = retiredIds(config);
  const now = new Map(customers.map((c) => [c.slug, c]));
  const problems: InputProblem[] = [];
  for (const site of baseline.sites.values()) {
    const vmid = Number(site.placement.vmid);
    const current = now.get(site.slug);
    const missing: RetiredEntry = { customer: site.slug };
    if (!vmids.has(vmid) && (!current || current.vmid !== vmid)) missing.vmid = vmid;
    if (!current && site.ip !== undefined && !ips.has(site.ip)) missing.ip = site.ip;
    if (missing.vmid === undefined && missing.ip === undefined) continue;
    const why = current
      ? `${site.slug}'s container is replaced under VMID ${current.vmid}`
      : `${site.slug} is removed (it is in ${baseline.file}, its file is gone)`;
    problems.push({
      file: stackFile,
      field: RETIRED_KEY,
      message: `${why}: retire ${describeEntry(missing)} so that it is never handed out again (Proxmox keeps its backups under its VMID): add "- ${flowEntry(missing)}"${current ? "" : " (npm run customer -- remove does it)"}`,
    });
  }
  return problems;
}

function describeEntry(e: RetiredEntry): string {
  return [e.vmid !== undefined ? `VMID ${e.vmid}` : "", e.ip !== undefined ? `IP ${e.ip}` : ""]
    .filter(Boolean)
    .join(" and ");
}

/** `{ vmid: 1003, ip: 192.168.1.103, customer: foo }`, as the entry is written in the stack file. */
function flowEntry(e: RetiredEntry): string {
  const parts = [
    e.vmid !== undefined ? `vmid: ${e.vmid}` : "",
    e.ip !== undefined ? `ip: ${e.ip}` : "",
    `customer: ${/^[a-z0-9][a-z0-9-]*$/.test(e.customer) ? e.customer : JSON.stringify(e.customer)}`,
  ];
  return `{ ${parts.filter(Boolean).join(", ")} }`;
}

/**
 * A stack file's text with `entry` appended to `nodepoint:customerPools.retired` (created when
 * absent). Inserted as text at the end of that list (or of the `customerPools` mapping), so that
 * every other byte of the file, comments and layout included, stays as it was.
 */
export function retireInStackText(text: string, entry: RetiredEntry): string {
  const doc = parseDocument(text);
  const pools: unknown = doc.getIn(["config", "nodepoint:customerPools"], true);
  if (!isMap(pools) || !pools.range)
    throw new Error("the stack file has no config: nodepoint:customerPools mapping to add the retired entry to");
  const column = (offset: number) => offset - (text.lastIndexOf("\n", offset - 1) + 1);
  const list: unknown = pools.get("retired", true);
  if (isSeq(list) && list.range && !list.flow && list.items.length > 0) {
    const first = list.items[0] as { range?: [number, number, number] };
    const indent = " ".repeat(column(first.range![0]) - 2);
    return insertLine(text, list.range[1], `${indent}- ${flowEntry(entry)}`);
  }
  if (list !== undefined)
    throw new Error(`${RETIRED_KEY} is not a block list of entries: add ${flowEntry(entry)} by hand`);
  const indent = " ".repeat(column(pools.range[0]));
  return insertLine(text, pools.range[1], `${indent}retired:\n${indent}  - ${flowEntry(entry)}`);
}

/** `text` with `line` inserted as a line of its own after the line that holds `offset - 1`. */
function insertLine(text: string, offset: number, line: string): string {
  const end = text.indexOf("\n", Math.max(0, offset - 1));
  const at = end === -1 ? text.length : end + 1;
  const before = text.slice(0, at);
  return `${before}${before.endsWith("\n") ? "" : "\n"}${line}\n${text.slice(at)}`;
}
