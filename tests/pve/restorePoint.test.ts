/**
 * The restore point `initial` (lib/pve/snapshotProvider.ts) as `pulumi up` runs it: its `__provider`
 * text loaded by the SDK's dynamic-provider plugin and driven over gRPC, against the fake PVE API
 * (schema and permission checks with the plan's grants), with the customer token the engine hands
 * the plugin in the stack config (nothing of it in the resource's inputs).
 */
import { describe, expect, test } from "vitest";
import { SNAPSHOT_PROVIDER_LOADER } from "../../components/PveSnapshot";
import { TYPES } from "../../lib/providerFacts";
import { startDynamicProviderHost, type DynamicProviderHost } from "../../lib/runtimePath/dynamicProviderHost";
import { ROOT } from "../helpers/offlinePlan";
import { pveStackConfig } from "./pveStackConfig";
import { failure, PVE_TOKEN_SECRET, PVE_TOKENS, usePvePluginOnFake } from "./pvePluginOnFake";
import { PVE_CONFIG } from "../../lib/pve/stackConnection";

const INFRA = PVE_TOKENS.infrastructure;
const SECRET = PVE_TOKEN_SECRET;
// The stack's config as the engine hands it to the plugin: endpoint and both tokens.
const pve = usePvePluginOnFake(["infrastructure", "customer"]);
const { fake } = pve;

const urn = (name: string) => `urn:pulumi:prod::nodepoint::${TYPES.snapshot}::${name}`;
/** The plan's inputs, the loader as the engine hands it over; `asToken`: a connection naming another token. */
function inputsOf(name: string, asToken?: string): Record<string, unknown> {
  const r = pve.plan.find((x) => x.name === name && x.type === TYPES.snapshot);
  if (!r) throw new Error(`no ${name}`);
  const { snaptime: _unknown, ...inputs } = r.inputs;
  const connection = asToken && { endpoint: fake.endpoint, insecure: true, apiToken: `${asToken}=${SECRET}` };
  return { ...inputs, __provider: SNAPSHOT_PROVIDER_LOADER, ...(connection ? { connection } : {}) };
}
async function create(name: string, asToken?: string, on: DynamicProviderHost = pve.host) {
  const checked = await on.check(urn(name), {}, inputsOf(name, asToken));
  expect(checked.failures).toEqual([]);
  return on.create(urn(name), checked.inputs);
}
const writes = () => fake.exchanges.filter((e) => e.method !== "GET").map((e) => [e.method, e.path, e.params]);

function cluster(): void {
  fake.liveCluster();
  fake.addGuest(
    { vmid: 1001, type: "lxc", node: "node1", name: "nordlicht", status: "running", ha: true },
    "customers",
  );
  fake.addGuest({ vmid: 1000, type: "lxc", node: "node2", name: "acme-bakery", status: "running" }, "customers");
}

describe("the restore point initial", () => {
  test("the plan takes it after the WordPress install of every active site, replaced with its container", () => {
    const points = pve.plan.filter((r) => r.type === TYPES.snapshot);
    expect(points.map((p) => p.name).sort()).toEqual([
      "acme-bakery-initial",
      "nordlicht-initial",
      "studio-kern-initial",
    ]);
    for (const p of points) {
      const site = p.name.replace(/-initial$/, "");
      expect(p.inputs).toMatchObject({ slug: site, snapname: "initial" });
      // After the installer (and the container it runs in); replaced with the container.
      expect(p.options.dependsOn).toContain(pve.plan.find((r) => r.name === `${site}-wordpress`)!.urn);
      expect(p.options.replaceWith).toEqual([pve.plan.find((r) => r.name === `${site}-ct`)!.urn]);
    }
  });

  test("is taken with the customer token on the node the container runs on, the task waited for; taken again it is kept", async () => {
    cluster();
    const { id, properties } = await create("acme-bakery-initial");
    expect(id).toBe("1000/initial");
    expect(writes()).toEqual([
      ["POST", "/nodes/node2/lxc/1000/snapshot", { snapname: "initial", description: "WordPress as installed" }],
    ]);
    expect(fake.exchanges.some((e) => e.path.startsWith("/nodes/node2/tasks/") && e.status === 200)).toBe(true);
    expect(fake.guests.get(1000)!.snapshots.has("initial")).toBe(true);
    expect(properties["snaptime"]).toEqual(expect.any(Number));
    fake.exchanges.length = 0;
    await create("acme-bakery-initial");
    expect(writes()).toEqual([]);
    expect(fake.contractProblems()).toEqual([]);
  });

  test("the plan stores no connection with it, and a plugin without the stack's customer token refuses it naming the key, sending nothing", async () => {
    for (const p of pve.plan.filter((r) => r.type === TYPES.snapshot))
      expect(p.inputs).not.toHaveProperty("connection");
    cluster();
    const unconfigured = await startDynamicProviderHost({
      root: ROOT,
      config: pveStackConfig(fake.endpoint, { infrastructure: `${INFRA}=${SECRET}` }),
    });
    try {
      expect(await failure(create("acme-bakery-initial", undefined, unconfigured))).toContain(
        `stack config ${PVE_CONFIG.customerToken} is not set`,
      );
    } finally {
      await unconfigured.close();
    }
    expect(writes()).toEqual([]);
  });

  test("refused for a container that is not the customer's, or that the token cannot see; PVE's failure named", async () => {
    cluster();
    fake.guests.get(1001)!.name = "someone-else";
    expect(await failure(create("nordlicht-initial"))).toContain(
      "CT 1001 is \"someone-else\", not nordlicht's container (its host name is the customer's slug): refused",
    );
    expect(await failure(create("acme-bakery-initial", INFRA))).toContain(
      "CT 1000 is not a customer container the customer token can see",
    );
    fake.guests.get(1001)!.name = "nordlicht";
    fake.guests.get(1001)!.lock = "backup";
    expect(await failure(create("nordlicht-initial"))).toContain("CT is locked (backup)");
    delete fake.guests.get(1001)!.lock;
    fake.failNextTask.set("vzsnapshot", "snapshot feature is not available");
    expect(await failure(create("nordlicht-initial"))).toContain(
      "snapshot initial of CT 1001 failed: snapshot feature is not available",
    );
    expect(writes().filter((w) => w[1] !== "/nodes/node1/lxc/1001/snapshot")).toEqual([]);
  });

  test("refresh: the container gone drops it; the snapshot deleted by hand keeps it (never a later state under the install's name); delete writes nothing", async () => {
    cluster();
    const { id, properties } = await create("acme-bakery-initial");
    fake.guests.get(1000)!.snapshots.delete("initial");
    const read = await pve.host.read(id, urn("acme-bakery-initial"), properties);
    expect(read.id).toBe(id);
    expect(read.properties["snaptime"]).toBeUndefined();
    fake.guests.delete(1000);
    expect((await pve.host.read(id, urn("acme-bakery-initial"), properties)).id).toBe("");
    fake.exchanges.length = 0;
    await pve.host.delete(id, urn("acme-bakery-initial"), properties);
    expect(fake.exchanges).toEqual([]);
  });
});
