/**
 * Adoption of the live cluster with only `import` steps. Pulumi refuses an import whose declared
 * inputs (plus the defaults the provider fills in) differ from what the provider's importer reads
 * back; ignored inputs keep the read value (pulumi/pulumi pkg/resource/deploy/step.go,
 * ImportStep.Apply). The model below is what ../shared/reality/proxmox-provider.md records the
 * importer to read, and what the seed leaves unstated (the live value may be anything): each adopted
 * object must declare those values exactly, or ignore them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { plannedStep, renderSteps } from "../lib/plan/render";
import { inputAt, pathMatches, TYPES } from "../lib/providerFacts";
import { byName, offlinePlan } from "./helpers/offlinePlan";

/** A live value the seed does not state: anything may be there, so only ignoring it is safe. */
const UNSTATED = Symbol("unstated by the seed");
type LiveValue = unknown;

/** What the provider's Check fills in for an input the program leaves unset (bpg v0.111.1 schema defaults). */
const CHECK_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  [TYPES.container]: {
    timeoutCreate: 1800,
    timeoutClone: 1800,
    timeoutUpdate: 1800,
    timeoutDelete: 60,
    description: "",
    "memory.swap": 0,
    unprivileged: false,
    startOnBoot: true,
    protection: false,
  },
  [TYPES.vm]: { migrate: false, description: "", onBoot: true, protection: false },
  [TYPES.downloadFile]: { overwrite: true, overwriteUnmanaged: false, uploadTimeout: 600, verify: true },
  [TYPES.clusterFirewall]: {
    ebtables: false,
    inputPolicy: "DROP",
    outputPolicy: "ACCEPT",
    forwardPolicy: "ACCEPT",
    logRatelimit: { enabled: true, burst: 5, rate: "1/second" },
  },
};

/**
 * What the importer reads back that may differ from a declaration, per type (reality file), with
 * per-object additions (what the seed states or leaves open).
 */
const IMPORTER_READS: Readonly<Record<string, Readonly<Record<string, LiveValue>>>> = {
  [TYPES.container]: {
    vmId: undefined, // the importer sets only node_name
    timeoutCreate: undefined, // bpg #3110: the importer fills no timeout
    timeoutClone: undefined,
    timeoutUpdate: undefined,
    timeoutDelete: undefined,
    description: UNSTATED, // live notes
    "memory.swap": UNSTATED, // PVE's usual 512, the provider's default 0
    startOnBoot: UNSTATED,
    protection: UNSTATED,
    startup: UNSTATED,
  },
  [TYPES.vm]: {
    migrate: false, // the importer cannot know it
    description: UNSTATED,
    onBoot: UNSTATED,
    protection: UNSTATED,
    startup: UNSTATED,
    tags: UNSTATED,
  },
  [TYPES.nodeConfig]: { description: UNSTATED }, // the live notes
  [TYPES.clusterFirewall]: {
    // Options not in cluster.fw read back unset; the seed does not say which are there.
    enabled: UNSTATED,
    ebtables: UNSTATED,
    inputPolicy: UNSTATED,
    outputPolicy: UNSTATED,
    forwardPolicy: UNSTATED,
    logRatelimit: UNSTATED,
  },
  [TYPES.downloadFile]: {
    // ImportState sets node, datastore, content type and file name only.
    url: undefined,
    overwrite: undefined,
    overwriteUnmanaged: undefined,
    uploadTimeout: undefined,
    verify: undefined,
  },
};

const PER_OBJECT: Readonly<Record<string, Readonly<Record<string, LiveValue>>>> = {
  "website-ct-102": { unprivileged: UNSTATED, tags: UNSTATED }, // the seed says neither
  "router-ct-10001": { unprivileged: false, tags: ["router"] }, // seed: privileged, tag router
  "templates-vm-8000-ubuntu-24-cloud": { cpu: UNSTATED, memory: UNSTATED, networkDevices: UNSTATED },
  "templates-vm-9000-ubuntu-template": { cpu: UNSTATED, memory: UNSTATED, networkDevices: UNSTATED },
};

/** Why the import of `r` would be refused: each input the importer reads back otherwise, not ignored. */
export function importDifferences(r: RecordedResource): string[] {
  const reads = { ...IMPORTER_READS[r.type], ...PER_OBJECT[r.name] };
  const defaults = CHECK_DEFAULTS[r.type] ?? {};
  const out: string[] = [];
  for (const [path, live] of Object.entries(reads)) {
    if (r.options.ignoreChanges.some((i) => pathMatches(path, i))) continue;
    const declared = inputAt(r.inputs, path);
    const effective = declared !== undefined ? declared : defaults[path];
    if (live === UNSTATED) {
      if (effective !== undefined)
        out.push(`${path}: declares ${JSON.stringify(effective)}, the seed does not state it`);
    } else if (JSON.stringify(effective) !== JSON.stringify(live)) {
      out.push(`${path}: declares ${JSON.stringify(effective)}, the importer reads ${JSON.stringify(live)}`);
    }
  }
  return out;
}

let plan: OfflineRunResult;
beforeAll(async () => {
  plan = await offlinePlan();
});

describe("adoption: every import matches what the importer reads back", () => {
  it("imports exactly what the seed lists (and the hand-made bootstrap users and tokens)", () => {
    const imported = plan.resources.filter((r) => r.options.import).map((r) => r.options.import);
    expect(imported.sort()).toEqual(
      [
        "node2/100",
        "node3/107",
        "node3/201",
        "node2/8000",
        "node3/9000",
        "node3/10001",
        "node3/102",
        "node2/local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        "pulumi-infra@pve",
        "pulumi-infra@pve!iac",
        "pulumi-customers@pve",
        "pulumi-customers@pve!iac",
        ...plan.resources.filter((r) => r.type.startsWith("proxmoxve:storage/")).map((r) => r.options.import),
      ].sort(),
    );
  });

  it("no adopted object declares a value the importer reads back otherwise", () => {
    const refused = plan.resources
      .filter((r) => r.options.import)
      .flatMap((r) => importDifferences(r).map((d) => `${r.name} (${r.options.import}): ${d}`));
    expect(refused).toEqual([]);
  });

  it("the model catches what the reality file records (a declaration that would be refused)", () => {
    const ct = structuredClone(byName(plan.resources, "website-ct-102"));
    ct.options.ignoreChanges = [];
    ct.inputs["unprivileged"] = true;
    expect(importDifferences(ct)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^vmId: declares 102, the importer reads undefined/),
        expect.stringMatching(/^timeoutDelete: declares 60/),
        expect.stringMatching(/^description: declares ""/),
        expect.stringMatching(/^memory.swap: declares 0/),
        expect.stringMatching(/^unprivileged: declares true, the seed does not state it/),
      ]),
    );
    const vm = structuredClone(byName(plan.resources, "paymenter-vm-107"));
    vm.inputs["migrate"] = true;
    expect(importDifferences(vm)).toContain("migrate: declares true, the importer reads false");
  });
});

describe("adoption: what is left alone, and what is new", () => {
  it("nothing the seed leaves open is declared into a field that forces replacement (CT 102's privilege)", () => {
    const ct = byName(plan.resources, "website-ct-102");
    expect(ct.inputs["unprivileged"]).toBeUndefined();
    expect(ct.options.ignoreChanges).toContain("unprivileged");
  });

  it("node notes: none declared unless configured, and configured notes are written (create), never imported", async () => {
    expect(plan.resources.filter((r) => r.type === TYPES.nodeConfig)).toEqual([]);
    const nodes = [
      { name: "node1", ip: "192.168.1.10", role: "primary-compute", cores: 56, memoryMiB: 131072, diskGB: 430 },
      {
        name: "node2",
        ip: "192.168.1.11",
        role: "secondary-compute",
        cores: 12,
        memoryMiB: 131072,
        diskGB: 428,
        notes: "Secondary compute",
      },
      { name: "node3", ip: "192.168.1.5", role: "router-services", cores: 4, memoryMiB: 16384, diskGB: 68 },
    ];
    const withNotes = await offlinePlan({ set: { nodes } });
    const notes = withNotes.resources.filter((r) => r.type === TYPES.nodeConfig);
    expect(notes.map((r) => [r.inputs["nodeName"], r.inputs["description"], r.options.import])).toEqual([
      ["node2", "Secondary compute", null],
    ]);
  });

  it("the datacenter firewall options are written, every one declared (ebtables on), not imported", () => {
    const fw = byName(plan.resources, "customer-isolation-datacenter-firewall");
    expect(fw.options.import).toBeNull();
    expect(fw.inputs).toEqual({
      enabled: true,
      ebtables: true,
      inputPolicy: "ACCEPT",
      outputPolicy: "ACCEPT",
      forwardPolicy: "ACCEPT",
      logRatelimit: { enabled: true, burst: 5, rate: "1/second" },
    });
  });

  it("files already on a storage are never downloaded again; new downloads never overwrite", () => {
    const files = plan.resources.filter((r) => r.type === TYPES.downloadFile);
    for (const f of files) {
      expect(f.inputs["overwriteUnmanaged"], f.name).toBe(false);
      expect(f.inputs["overwrite"], f.name).toBe(false);
    }
    // Adopted template VMs exist: no image is fetched for them.
    expect(files.filter((f) => f.name.startsWith("image-"))).toEqual([]);
  });
});

describe("the plan says what is imported, what is created, and why", () => {
  it("every custom resource has a step and a reason; imports are exactly the import options", () => {
    const steps = plan.resources.map((r) => [r, plannedStep(r)] as const).filter(([, s]) => s);
    expect(steps.filter(([, s]) => s!.step === "import").map(([r]) => r.name)).toEqual(
      plan.resources.filter((r) => r.options.import).map((r) => r.name),
    );
    for (const [r, s] of steps) expect(s!.why.length, r.name).toBeGreaterThan(10);
    expect(plannedStep(byName(plan.resources, "nordlicht-ct"))).toEqual({
      step: "create",
      why: "customer nordlicht (customers/nordlicht.yaml): a new site",
    });
    expect(plannedStep(byName(plan.resources, "customer-isolation-datacenter-firewall"))?.why).toContain(
      "writes every datacenter firewall option",
    );
    expect(plannedStep(byName(plan.resources, "proxmox-infra"))).toBeUndefined();
    // Storage checks and adopted backup jobs: dynamic resources, which Pulumi cannot import.
    for (const name of [
      ...["local", "local-zfs", "local-lvm", "backup"].map((id) => `storage-${id}`),
      ...["nightly-node1", "nightly-node2", "nightly-node3"].map((id) => `backups-${id}`),
    ])
      expect(plannedStep(byName(plan.resources, name))?.step, name).toBe("adopt");
  });

  it("renders the counts and each reason with its resources", () => {
    const text = renderSteps(plan.resources);
    const imports = plan.resources.filter((r) => r.options.import).length;
    expect(text).toMatch(
      new RegExp(`^First \`pulumi up\` against the live cluster: ${imports} to import, \\d+ to adopt, \\d+ to create`),
    );
    expect(text).toContain("listed in the seed, read back by the provider's importer");
    expect(text).toContain("website-ct-102 (node3/102)");
  });
});
