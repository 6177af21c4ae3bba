/**
 * Replacing a customer's container, driven through the real program (offline plan) and the diff, merge
 * by merge: the committed desired state of one merge is the baseline of the next.
 *
 * Merge 1 changes a replacing field with `confirmReplace`: protection (Pulumi's and PVE's) is lifted
 * and HA removed, nothing destroyed. Merge 2 removes `confirmReplace`: the container is deleted, then
 * created where the file puts it, then its firewall, installer, HA resource and HA rule follow.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../lib/errors";
import { checkGuestProtected, type ResourceView } from "../policy/policies";
import { diffPlans, type PlanDiff } from "../lib/plan/diff";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { planDocument, serializePlan, type PlanDocument } from "../lib/plan/planJson";
import { FIXTURE_CUSTOMERS, offlinePlan, scratchCustomers, stackValue } from "./helpers/offlinePlan";

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

const scratch = mkdtempSync(join(tmpdir(), "desired-state-"));
cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;

/** Writes a plan as a committed desired state and returns its path. */
function commit(doc: PlanDocument): string {
  const path = join(scratch, `prod-${files++}.json`);
  writeFileSync(path, serializePlan(doc));
  return path;
}

/** The fixture customers with some files' text changed. */
function customers(edits: Record<string, (text: string) => string> = {}): string {
  const dir = scratchCustomers();
  cleanups.push(dir.cleanup);
  for (const [slug, change] of Object.entries(edits)) {
    const path = join(dir.dir, `${slug}.yaml`);
    writeFileSync(path, change(readFileSync(join(FIXTURE_CUSTOMERS, `${slug}.yaml`), "utf8")));
  }
  return dir.dir;
}

/** The stack's customer pools with these VMIDs and IPs retired. */
const retiring = (retired: Array<{ vmid?: number; ip?: string; customer: string }>) => ({
  customerPools: { ...stackValue<Record<string, unknown>>("customerPools"), retired },
});

async function plan(
  customersDir: string,
  desiredState: string | false,
  set: Record<string, unknown> = {},
): Promise<PlanDocument> {
  const r: OfflineRunResult = await offlinePlan({ customersDir, desiredState, set });
  return planDocument("prod", r.resources);
}

async function refusal(
  customersDir: string,
  desiredState: string | false,
  set: Record<string, unknown> = {},
): Promise<string> {
  const err = await offlinePlan({ customersDir, desiredState, set }).then(
    () => undefined,
    (e: unknown) => e,
  );
  // The program is imported afresh for every plan, so its error class is not this module's.
  expect((err as Error | undefined)?.name).toBe(InvalidInputError.name);
  return (err as Error).message;
}

const find = (doc: PlanDocument, name: string): RecordedResource | undefined =>
  doc.resources.find((r) => r.name === name);
const get = (doc: PlanDocument, name: string): RecordedResource => {
  const r = find(doc, name);
  if (!r) throw new Error(`no ${name}`);
  return r;
};
const warningsAbout = (d: PlanDiff, name: string) => d.warnings.filter((w) => w.includes(` ${name} (`));

const add = (line: string) => (t: string) => `${t}${line}\n`;
const set = (key: string, value: string) => (t: string) =>
  t.replace(new RegExp(`^${key}: .*$`, "m"), `${key}: ${value}`);
const chain =
  (...fs: Array<(t: string) => string>) =>
  (t: string) =>
    fs.reduce((acc, f) => f(acc), t);

let deployed: PlanDocument | undefined;
/** The fixtures as deployed: the baseline every case starts from. */
async function start(): Promise<{ doc: PlanDocument; path: string }> {
  deployed ??= await plan(FIXTURE_CUSTOMERS, false);
  return { doc: deployed, path: commit(deployed) };
}

describe.each([
  {
    field: "node",
    slug: "nordlicht",
    change: set("node", "node2"),
    from: "CT 1001 on node1",
    to: "CT 1001 on node2",
    ha: true,
  },
  {
    field: "vmid",
    slug: "nordlicht",
    change: set("vmid", "1010"),
    from: "CT 1001 on node1",
    to: "CT 1010 on node1",
    ha: true,
    // The old VMID is retired (Proxmox keeps its backups under it): lib/customers/retired.ts.
    config: retiring([{ vmid: 1001, customer: "nordlicht" }]),
  },
  {
    field: "storage",
    slug: "acme-bakery",
    change: add("storage: local-zfs"),
    from: "CT 1000 on node1",
    to: "CT 1000 on node1",
    ha: false,
  },
  {
    field: "diskGiB",
    slug: "acme-bakery",
    change: add("diskGiB: 10"),
    from: "CT 1000 on node1",
    to: "CT 1000 on node1",
    ha: false,
  },
] as Array<{
  field: string;
  slug: string;
  change: (t: string) => string;
  from: string;
  to: string;
  ha: boolean;
  config?: Record<string, unknown>;
}>)("a confirmed $field change of $slug", ({ field, slug, change, from, to, ha, config = {} }) => {
  const ct = `${slug}-ct`;
  const planWith = (dir: string, desiredState: string) => plan(dir, desiredState, config);
  const refusalWith = (dir: string, desiredState: string) => refusal(dir, desiredState, config);

  it("is refused without confirmReplace, naming the file and the field", async () => {
    const base = await start();
    const message = await refusalWith(customers({ [slug]: change }), base.path);
    expect(message).toContain(`/${slug}.yaml: ${field}: `);
    expect(message).toContain("replaces the container and destroys the site's data");
    expect(message).toContain(`confirmReplace: [${field}]`);
  });

  it("plans unprotect (merge 1), then delete and create (merge 2), in that order; data loss said plainly", async () => {
    const base = await start();

    // Merge 1: the change, confirmed. Nothing replaced: protection lifted, HA removed.
    const confirmed = customers({ [slug]: chain(change, add(`confirmReplace: [${field}]`)) });
    const one = await planWith(confirmed, base.path);
    const prepared = get(one, ct);
    expect(prepared.inputs["vmId"]).toBe(get(base.doc, ct).inputs["vmId"]);
    expect(prepared.inputs["nodeName"]).toBe(get(base.doc, ct).inputs["nodeName"]);
    expect(prepared.inputs["disk"]).toEqual(get(base.doc, ct).inputs["disk"]);
    expect(prepared.options.protect).toBe(false);
    expect(prepared.inputs["protection"]).toBe(false);
    expect(prepared.inputs["started"]).toBe(true);
    expect(prepared.options.replaceOnChanges.length).toBe(1);
    // The policy pack accepts it (its protection was lifted on purpose, and it says so).
    const view = { type: prepared.type, props: prepared.inputs, opts: { protect: false, parent: prepared.parent } };
    expect(checkGuestProtected(view as unknown as ResourceView)).toEqual([]);
    expect(find(one, `${slug}-ha`)).toBeUndefined();
    expect(find(one, `${slug}-ha-rule`)).toBeUndefined();
    const d1 = diffPlans(base.doc, one);
    expect(d1.changed.filter((c) => c.replaceReasons.length > 0)).toEqual([]);
    const [prepare, ...others] = warningsAbout(d1, ct);
    expect(others).toEqual([]);
    expect(prepare).toMatch(new RegExp(`^PREPARES REPLACEMENT of ${ct} \\(${from}\\)`));
    expect(prepare).toContain("1. lift Pulumi's protect and PVE's protection flag");
    if (ha) expect(prepare).toMatch(/2\. remove HA rule rule-1001 .*; 3\. remove HA resource ct:1001 /);
    expect(prepare).toContain("Nothing is destroyed by this change");
    expect(prepare).toContain("THE SITE'S DATA WILL BE LOST");

    // Regenerating merge 1's desired state against itself changes nothing (the stale check holds).
    const onePath = commit(one);
    expect(serializePlan(await planWith(confirmed, onePath))).toBe(serializePlan(one));

    // Merge 2: confirmReplace removed (consumed). The container is deleted, then created.
    const executed = customers({ [slug]: change });
    const two = await planWith(executed, onePath);
    const replaced = get(two, ct);
    expect(replaced.options.protect).toBe(true);
    expect(replaced.inputs["protection"]).toBe(true);
    expect(replaced.options.deleteBeforeReplace).toBe(true);
    expect(replaced.options.replaceOnChanges).toEqual([]);
    const d2 = diffPlans(one, two);
    const [replace, ...rest] = warningsAbout(d2, ct);
    expect(rest).toEqual([]);
    expect(replace).toMatch(new RegExp(`^REPLACES ${ct} \\(ContainerLegacy\\): `));
    expect(replace).toContain("ITS DATA IS LOST");
    expect(replace).not.toContain("BLOCKED");
    const steps = replace!.slice(replace!.indexOf("Steps, in order: "));
    expect(steps).toMatch(
      new RegExp(
        `^Steps, in order: 1\\. delete ${ct} \\(${from}\\): every byte on its disks is lost; 2\\. create ${ct} \\(${to}\\); `,
      ),
    );
    expect(steps).toContain(`re-create ${slug}-firewall-rules`);
    expect(steps).toContain(`re-create ${slug}-wordpress`);
    if (ha) {
      const vmid = String(replaced.inputs["vmId"]);
      expect(steps).toMatch(new RegExp(`\\d\\. create HA resource ct:${vmid}; \\d\\. create HA rule rule-${vmid}\\.$`));
    }

    // Merge 2 regenerated against itself: nothing left to confirm, nothing changes.
    const twoPath = commit(two);
    const again = await planWith(executed, twoPath);
    expect(serializePlan(again)).toBe(serializePlan(two));
    expect(diffPlans(two, again).changed).toEqual([]);

    // A confirmReplace left in the file afterwards is refused: it would stay as a standing permission.
    const stale = await refusalWith(customers({ [slug]: chain(change, add(`confirmReplace: [${field}]`)) }), twoPath);
    expect(stale).toContain(`/${slug}.yaml: confirmReplace: ${field}: nothing to confirm`);
  });

  it("jumping straight to merge 2's plan is shown blocked: protected in the state, PVE protection on", async () => {
    const base = await start();
    const confirmed = customers({ [slug]: chain(change, add(`confirmReplace: [${field}]`)) });
    const two = await planWith(customers({ [slug]: change }), commit(await planWith(confirmed, base.path)));
    const [replace] = warningsAbout(diffPlans(base.doc, two), ct);
    expect(replace).toContain("BLOCKED: Pulumi refuses: it is protected in the state and in the program");
    expect(replace).toContain("PVE refuses the delete: PVE's protection flag is on");
    if (ha) expect(replace).toContain("the container is an HA resource, ct:1001");
  });
});

describe("the guard fails closed", () => {
  it.each([
    ["not JSON", "{ not json", "corrupt.json: (json): is not valid JSON"],
    ["not a plan document", '{"stack": "prod"}', "corrupt.json: resources: "],
    [
      "a resource without options",
      '{"stack":"prod","resources":[{"urn":"u","type":"t","name":"n","parent":"","inputs":{}}]}',
      "corrupt.json: resources[0].options: ",
    ],
  ])("a corrupt desired state (%s) is refused, naming the file", async (_what, text, expected) => {
    const path = join(scratch, "corrupt.json");
    writeFileSync(path, text);
    const message = await refusal(FIXTURE_CUSTOMERS, path);
    expect(message).toContain(expected);
    expect(message).toContain("Nothing was declared.");
  });

  it("an unreadable desired state is refused, naming the file", async () => {
    const message = await refusal(FIXTURE_CUSTOMERS, scratch); // a directory: cannot be read as a file
    expect(message).toMatch(/desired-state-\w+: \(file\): cannot be read \(EISDIR\)/);
  });

  it("a confirmReplace with nothing to confirm is refused, naming the file and the field", async () => {
    const base = await start();
    const message = await refusal(customers({ nordlicht: add("confirmReplace: [node]") }), base.path);
    expect(message).toContain("/nordlicht.yaml: confirmReplace: node: nothing to confirm: node is node1 in");
    const grow = await refusal(customers({ "acme-bakery": add("diskGiB: 30\nconfirmReplace: [diskGiB]") }), base.path);
    expect(grow).toContain(
      "diskGiB: nothing to confirm: diskGiB is 30, larger than the deployed 20 (a disk grows in place)",
    );
  });

  it("a container replaced under another VMID needs its old VMID retired, naming the stack file's key", async () => {
    const base = await start();
    const message = await refusal(
      customers({ nordlicht: chain(set("vmid", "1010"), add("confirmReplace: [vmid]")) }),
      base.path,
    );
    expect(message).toContain(
      "Pulumi.prod.yaml: nodepoint:customerPools.retired: nordlicht's container is replaced under VMID 1010: retire VMID 1001",
    );
    expect(message).toContain('add "- { vmid: 1001, customer: nordlicht }"');
  });

  it("a disk that grows needs no confirmation; one that shrinks does (customer file or plan change)", async () => {
    const base = await start();
    await expect(plan(customers({ "acme-bakery": add("diskGiB: 30") }), base.path)).resolves.toBeDefined();
    const byPlan = await refusal(customers({ nordlicht: set("plan", "standard") }), base.path);
    expect(byPlan).toContain(
      "/nordlicht.yaml: diskGiB: shrinks from 80 to 40 GiB, which replaces the container and destroys the site's data",
    );
  });
});

describe("removal works for every customer", () => {
  it.each([
    ["by plan (premium)", (t: string) => t],
    ["by ha: true", add("ha: true")],
  ])("decommissioning a customer with HA %s needs no other edit: its HA resource and rule go", async (_how, withHa) => {
    const base = await start();
    const decommissioned = await plan(
      customers({ nordlicht: chain(withHa, set("state", "decommissioned")) }),
      base.path,
    );
    expect(find(decommissioned, "nordlicht-ha")).toBeUndefined();
    expect(find(decommissioned, "nordlicht-ha-rule")).toBeUndefined();
    const ct = get(decommissioned, "nordlicht-ct");
    expect(ct.options.protect).toBe(false);
    expect(ct.inputs).toMatchObject({ protection: false, started: false });
  });

  it("a file created as decommissioned is refused", async () => {
    const base = await start();
    const dir = customers();
    writeFileSync(
      join(dir, "late.yaml"),
      "domain: late.nodepoint.eu\nvmid: 1005\nip: 192.168.1.105\nnode: node1\nstate: decommissioned\n",
    );
    expect(await refusal(dir, base.path)).toContain("/late.yaml: state: a new customer cannot start decommissioned");
  });
});
