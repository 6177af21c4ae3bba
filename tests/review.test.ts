/** Review tooling: the committed desired state is current, diffs explain changes, the import file matches the plan. */
import { beforeAll, describe, expect, it } from "vitest";
import { diffPlans, pathMatches } from "../lib/plan/diff";
import { gateFindings, parseGateKinds, renderDiff } from "../lib/plan/diffReport";
import { FACTS, type TypeName } from "../lib/providerFacts";
import { importFile } from "../lib/plan/importFile";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { planDocument, type PlanDocument } from "../lib/plan/planJson";
import { byName, offlinePlan } from "./helpers/offlinePlan";

let plan: OfflineRunResult;
let doc: PlanDocument;
beforeAll(async () => {
  plan = await offlinePlan();
  doc = planDocument("prod", plan.resources);
});

const edit = (d: PlanDocument, name: string, change: (r: RecordedResource) => void): PlanDocument => {
  const copy = JSON.parse(JSON.stringify(d)) as PlanDocument;
  const r = copy.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no ${name}`);
  change(r);
  return copy;
};

describe("renames kept by aliases", () => {
  /** `doc` as it was before its renames: each renamed resource under its alias, references following. */
  const beforeRenames = (d: PlanDocument, keepAliases = false): PlanDocument => {
    const former = new Map(d.resources.flatMap((r) => (r.options.aliases ?? []).map((a) => [r.urn, a] as const)));
    const urn = (u: string) => former.get(u) ?? u;
    return {
      ...d,
      resources: d.resources.map((r) => {
        const { aliases: _aliases, ...options } = r.options;
        return {
          ...r,
          urn: urn(r.urn),
          name: urn(r.urn).split("::").pop()!,
          parent: urn(r.parent),
          options: {
            ...(keepAliases ? r.options : options),
            dependsOn: r.options.dependsOn.map(urn),
            replaceWith: r.options.replaceWith.map(urn),
            deletedWith: r.options.deletedWith === null ? null : urn(r.options.deletedWith),
          },
        };
      }),
    };
  };

  it("the plan records a child's former URN (its alias), resolved as the engine does", () => {
    expect(doc.resources.find((r) => r.name === "website-ct-102")!.options.aliases).toEqual([
      "urn:pulumi:prod::nodepoint::nodepoint:guests:ServiceContainer$proxmoxve:index/containerLegacy:ContainerLegacy::ct-102-website",
    ]);
  });

  it("a rename with its alias shows as the alias alone: nothing added, removed, replaced or warned", () => {
    const d = diffPlans(beforeRenames(doc), doc);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.warnings).toEqual([]);
    expect(d.changed.length).toBeGreaterThan(0);
    for (const c of d.changed)
      expect({ name: c.name, fields: c.fields, options: c.options }).toEqual({
        name: c.name,
        fields: [],
        options: ["aliases"],
      });
  });

  it("a rename without its alias is a deletion and a creation", () => {
    const after = beforeRenames(doc);
    const renamedBack = {
      ...doc,
      resources: doc.resources.map((r) => ({ ...r, options: { ...r.options, aliases: [] } })),
    };
    const d = diffPlans(after, renamedBack);
    expect(d.added.map((r) => r.name)).toContain("website-ct-102");
    expect(d.removed.map((r) => r.name)).toContain("ct-102-website");
    expect(d.warnings).toContainEqual(expect.stringMatching(/^DELETES protected ct-102-website/));
  });
});

describe("plan diff", () => {
  it("a refactor that changes nothing shows no changes", () => {
    expect(renderDiff(diffPlans(doc, doc), "prod", { before: doc, after: doc })).toContain("no changes");
  });

  it("a size change is an in-place change with its field", () => {
    const after = edit(doc, "acme-bakery-ct", (r) => ((r.inputs["cpu"] as any).cores = 4));
    const d = diffPlans(doc, after);
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0]).toMatchObject({
      name: "acme-bakery-ct",
      fields: [{ path: "cpu.cores", before: 2, after: 4 }],
      replaceReasons: [],
    });
    expect(d.warnings).toEqual([]);
    expect(renderDiff(d, "prod", { before: doc, after })).toContain("- `cpu.cores`: 2 -> 4");
  });

  it.each([
    ["vmId", (r: RecordedResource) => (r.inputs["vmId"] = 1500), "vmId: 1000 -> 1500"],
    ["nodeName", (r: RecordedResource) => (r.inputs["nodeName"] = "node2"), 'nodeName: "node1" -> "node2"'],
    [
      "root disk datastore",
      (r: RecordedResource) => ((r.inputs["disk"] as any).datastoreId = "local-zfs"),
      "disk.datastoreId",
    ],
    [
      "shrinking the disk",
      (r: RecordedResource) => ((r.inputs["disk"] as any).size = 10),
      "disk.size shrinks 20 -> 10",
    ],
    ["unprivileged", (r: RecordedResource) => (r.inputs["unprivileged"] = false), "unprivileged: true -> false"],
  ])("warns that changing %s replaces a container", (_t, change, reason) => {
    const d = diffPlans(doc, edit(doc, "acme-bakery-ct", change));
    expect(d.warnings).toEqual([expect.stringContaining(`REPLACES acme-bakery-ct (ContainerLegacy): `)]);
    expect(d.warnings[0]).toContain(reason);
  });

  it("no warning for create-only inputs the program ignores (a newer template build)", () => {
    const d = diffPlans(
      doc,
      edit(
        doc,
        "acme-bakery-ct",
        (r) =>
          ((r.inputs["operatingSystem"] as any).templateFileId =
            "local:vztmpl/ubuntu-24.04-standard_24.04-3_amd64.tar.zst"),
      ),
    );
    expect(d.changed).toHaveLength(1);
    expect(d.warnings).toEqual([]);
  });

  it("a VM's node change migrates when migrate is on, replaces an adopted VM (migrate unset), and a vmId change replaces", () => {
    // Adopted: the importer reads migrate back as false, so the program leaves it unset.
    expect(doc.resources.find((r) => r.name === "paymenter-vm-107")!.inputs["migrate"]).toBeUndefined();
    expect(
      diffPlans(
        doc,
        edit(doc, "paymenter-vm-107", (r) => (r.inputs["nodeName"] = "node2")),
      ).warnings,
    ).toEqual([
      expect.stringMatching(/^REPLACES paymenter-vm-107 \(VmLegacy\): nodeName: "node3" -> "node2".*protected/),
    ]);
    const migrating = edit(doc, "paymenter-vm-107", (r) => (r.inputs["migrate"] = true));
    expect(
      diffPlans(
        migrating,
        edit(migrating, "paymenter-vm-107", (r) => (r.inputs["nodeName"] = "node2")),
      ).warnings,
    ).toEqual([]);
    expect(
      diffPlans(
        doc,
        edit(doc, "paymenter-vm-107", (r) => (r.inputs["vmId"] = 108)),
      ).warnings[0],
    ).toContain("REPLACES paymenter-vm-107 (VmLegacy)");
  });

  it("removing a protected container is flagged; added resources are listed", () => {
    const after = {
      ...doc,
      resources: doc.resources.filter(
        (r) => !r.urn.endsWith("WordPressSite::nordlicht") && !r.parent.endsWith("WordPressSite::nordlicht"),
      ),
    };
    const d = diffPlans(doc, after);
    expect(d.warnings).toContain(
      "DELETES protected nordlicht-ct (ContainerLegacy): `pulumi up` will stop on it; decommission it first.",
    );
    expect(diffPlans(after, doc).added.map((r) => r.name)).toContain("nordlicht-ct");
  });

  /** A resource of `type` whose input at `path` (`a.b`, `list[*].x`) is `value`. */
  const synthetic = (type: string, path: string, value: unknown): RecordedResource => {
    const inputs: Record<string, unknown> = {};
    let at: any = inputs;
    const keys = path.replace(/\[\*\]/g, ".0").split(".");
    keys.forEach((k, i) => {
      const last = i === keys.length - 1;
      const next = last ? value : /^\d+$/.test(keys[i + 1]!) ? [] : {};
      at[k] = next;
      at = next;
    });
    return {
      urn: `urn:pulumi:prod::nodepoint::${type}::x`,
      type,
      name: "x",
      parent: "",
      provider: "",
      custom: true,
      inputs,
      options: {
        protect: false,
        retainOnDelete: false,
        ignoreChanges: [],
        dependsOn: [],
        import: null,
        deleteBeforeReplace: false,
        replaceOnChanges: [],
        replaceWith: [],
        deletedWith: null,
      },
    };
  };

  it.each(
    (Object.keys(FACTS) as TypeName[]).flatMap((type) =>
      FACTS[type].replaceOnChange.map((rule) => [type, rule.path, rule] as const),
    ),
  )("warns that changing %s %s replaces it, saying what that destroys", (type, path, rule) => {
    const [before, after] = rule.onlyWhen === "shrinks" ? [20, 10] : ["a", "b"];
    const from = synthetic(FACTS[type].token, path, before);
    const to = synthetic(FACTS[type].token, path, after);
    const d = diffPlans({ stack: "prod", resources: [from] }, { stack: "prod", resources: [to] });
    const replacing = d.warnings.filter((w) => w.startsWith("REPLACES x ("));
    expect(replacing).toHaveLength(1);
    expect(replacing[0]).toContain(FACTS[type].replaceMeans.slice(1));
    // Ignored inputs never warn (Pulumi keeps the old value).
    to.options.ignoreChanges = [path];
    expect(diffPlans({ stack: "prod", resources: [from] }, { stack: "prod", resources: [to] }).warnings).toEqual([]);
  });

  it("warns for hazards that do not replace: an HA resource whose resourceId changes would rewrite the old entry", () => {
    const d = diffPlans(
      doc,
      edit(doc, "nordlicht-ha", (r) => {
        r.inputs["resourceId"] = "ct:1009";
        r.options.replaceOnChanges = [];
      }),
    );
    expect(d.warnings).toEqual([
      expect.stringMatching(/^CAUTION nordlicht-ha \(Haresource\): resourceId.*rewrites the old HA entry/),
    ]);
  });

  it("an HA resource declared with replaceOnChanges: [resourceId] is replaced, delete first, not rewritten", () => {
    const d = diffPlans(
      doc,
      edit(doc, "nordlicht-ha", (r) => (r.inputs["resourceId"] = "ct:1009")),
    );
    expect(d.warnings).toEqual([
      expect.stringMatching(
        /^REPLACES nordlicht-ha \(Haresource\): resourceId: "ct:1001" -> "ct:1009"\..* Steps, in order: 1\. delete HA resource ct:1001; 2\. create HA resource ct:1009/,
      ),
    ]);
  });

  it("warns when the import ID of an adopted object changes (Pulumi would import the other object and delete this one)", () => {
    const d = diffPlans(
      doc,
      edit(doc, "website-ct-102", (r) => (r.options.import = "node2/102")),
    );
    expect(d.warnings).toEqual([
      expect.stringMatching(/^IMPORT-REPLACES website-ct-102 .*node3\/102 -> node2\/102.*deletes/),
    ]);
  });

  it("matches paths with indices against wildcard patterns", () => {
    expect(pathMatches("disks[2].fileId", "disks[*].fileId")).toBe(true);
    expect(pathMatches("operatingSystem.templateFileId", "operatingSystem")).toBe(true);
    expect(pathMatches("operatingSystemX", "operatingSystem")).toBe(false);
  });
});

describe("plan diff as reviewers read it (diffReport)", () => {
  const without = (d: PlanDocument, slug: string): PlanDocument => ({
    ...d,
    resources: d.resources.filter(
      (r) => !r.urn.includes(`WordPressSite::${slug}`) && !r.parent.includes(`WordPressSite::${slug}`),
    ),
  });

  it("a changed option shows its value before and after (protect, provider, ignoreChanges)", () => {
    const was = byName(doc.resources, "acme-bakery-ct");
    const after = edit(doc, "acme-bakery-ct", (r) => {
      r.options.protect = false;
      r.options.ignoreChanges = [...r.options.ignoreChanges, "description"];
      r.provider = "urn:pulumi:prod::nodepoint::pulumi:providers:proxmoxve::proxmox-infra";
    });
    const d = diffPlans(doc, after);
    expect(d.changed[0]?.optionChanges.map((o) => [o.path, o.before, o.after])).toEqual([
      ["ignoreChanges", was.options.ignoreChanges, [...was.options.ignoreChanges, "description"]],
      ["protect", true, false],
      ["provider", was.provider, "urn:pulumi:prod::nodepoint::pulumi:providers:proxmoxve::proxmox-infra"],
    ]);
    const text = renderDiff(d, "prod", { before: doc, after });
    expect(text).toContain("  - option `protect`: true -> false");
    expect(text).toContain('  - option `ignoreChanges`: added "description"');
    expect(text).toContain('  - option `provider`: "proxmox-customers" -> "proxmox-infra"');
  });

  it("changes are grouped by customer (VMID, IP, node, domain) and the platform's apart; unchanged customers are left out", () => {
    const after = edit(
      without(doc, "studio-kern"),
      "customer-isolation-customer-web",
      (r) => (r.inputs["comment"] = "changed"),
    );
    const text = renderDiff(diffPlans(doc, after), "prod", { before: doc, after });
    expect(text).toContain(
      "#### Customer `studio-kern`: CT 1002, 192.168.1.102, node1, www.studio-kern.nodepoint.eu (customer removed)",
    );
    expect(text).toContain("- **remove** `ContainerLegacy` studio-kern-ct: vmid=1002 node=node1");
    expect(text).toMatch(/#### Platform\n\n- \*\*change\*\* `GroupLegacy` customer-isolation-customer-web\n/);
    expect(text).not.toContain("Customer `nordlicht`");
    // every customer resource sits under its customer's heading, before the platform's
    expect(text.indexOf("studio-kern-dns")).toBeGreaterThan(text.indexOf("#### Customer `studio-kern`"));
    expect(text.indexOf("studio-kern-dns")).toBeLessThan(text.indexOf("#### Platform"));
  });

  it("--fail-on kinds: each finds its kind of change only", () => {
    const moved = edit(without(doc, "studio-kern"), "acme-bakery-ct", (r) => (r.inputs["vmId"] = 1500));
    const grown = edit(doc, "acme-bakery-ct", (r) => ((r.inputs["cpu"] as any).cores = 4));
    const d = diffPlans(doc, moved);
    expect(gateFindings(d, ["replace"])).toEqual(["replace: acme-bakery-ct (ContainerLegacy): vmId: 1000 -> 1500"]);
    expect(gateFindings(d, ["delete"])).toEqual(expect.arrayContaining(["delete: studio-kern-ct (ContainerLegacy)"]));
    expect(gateFindings(d, ["add"])).toEqual([]);
    expect(gateFindings(diffPlans(doc, grown), ["replace", "delete"])).toEqual([]);
    expect(gateFindings(diffPlans(doc, grown), ["change"])).toEqual(["change: acme-bakery-ct (ContainerLegacy)"]);
    expect(gateFindings(diffPlans(moved, doc), ["add"])).toEqual(
      expect.arrayContaining(["add: studio-kern-ct (ContainerLegacy)"]),
    );
    expect(() => parseGateKinds("replace,nuke")).toThrow("(not: nuke)");
    expect(parseGateKinds(" replace , delete ")).toEqual(["replace", "delete"]);
  });
});

describe("import file", () => {
  it("lists every adopted resource with the provider's ID, resolvable to the plan's URNs", () => {
    const file = importFile(plan.resources);
    const adopted = plan.resources.filter((r) => r.options.import);
    expect(file.resources).toHaveLength(adopted.length);
    for (const e of file.resources) {
      const match = adopted.filter(
        (r) =>
          r.type === e.type &&
          r.name === e.name &&
          (e.parent ? r.parent === file.nameTable[e.parent] : r.parent.includes("pulumi:pulumi:Stack")) &&
          r.provider === (e.provider ? file.nameTable[e.provider] : ""),
      );
      expect(match, `${e.type} ${e.name}`).toHaveLength(1);
      expect(e.id).toBe(match[0]!.options.import);
    }
    const ids = file.resources.map((e) => e.id);
    for (const id of ["node2/100", "node3/107", "node3/201", "node3/102", "node3/10001", "node2/8000", "node3/9000"])
      expect(ids).toContain(id);
  });
});
