/**
 * Paymenter's sequences against the real service on loopback, in commit mode, with a bare git
 * repository on disk as the remote: create, repeated create, suspend, unsuspend, upgrade (and a
 * refused downgrade), delete-site in its two steps (the file goes once the decommission is deployed).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deploy,
  eventTrailers,
  eventually,
  fakePulumi,
  freshRemote,
  journalEvents,
  paymenter,
  remoteCommits,
  remoteCustomer,
  remoteFile,
  startService,
  tempDir,
  type Service,
} from "./harness";

let remote: string;
let service: Service;
let outputs: string;
let api: ReturnType<typeof paymenter>;

beforeAll(async () => {
  remote = freshRemote();
  const dir = tempDir("fake-pulumi-");
  outputs = join(dir, "outputs.json");
  service = await startService({ remote, env: { PROVISIONER_PULUMI: fakePulumi(dir, outputs) } });
  api = paymenter(service);
}, 120_000);
afterAll(async () => {
  await service?.stop();
});

const commitsNaming = (text: string) => remoteCommits(remote).filter((c) => c.message.includes(text));

describe("Paymenter's lifecycle of one service, commit mode", { timeout: 120_000 }, () => {
  it("createServer: replies the site at once; the file with service id and e-mail lands on main with the desired state", async () => {
    const r = await api.createServer(101, "Customer@Example.com", "basic");
    expect(r).toEqual({
      status: 200,
      body: { success: true, vmid: 1003, private_ip: "192.168.1.103", subdomain: "customer" },
    });
    const file = await eventually(() => remoteCustomer(remote, "customer"));
    expect(file).toEqual({
      domain: "customer.nodepoint.eu",
      plan: "basic",
      vmid: 1003,
      ip: "192.168.1.103",
      node: "node2", // the customer node with the most room (node1 carries the seed's measured use)
      state: "active",
      serviceId: 101,
      email: "Customer@Example.com",
    });
    expect(remoteFile(remote, "customers/customer.yaml")).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/schemas\/customer\.schema\.json\n/,
    );
    const [commit] = commitsNaming("create-site service 101");
    expect(commit?.message).toMatch(/^provisioner: create-site service 101: customer\.nodepoint\.eu \(basic\)/);
    // The desired state was regenerated in the same commit: the reviewer's diff shows the new container.
    const desired = JSON.parse(remoteFile(remote, "desired-state/prod.json")!) as {
      resources: Array<{ type: string; parent: string; inputs: Record<string, unknown> }>;
    };
    expect(
      desired.resources.some(
        (r) => r.type.endsWith("ContainerLegacy") && r.parent.endsWith("::customer") && r.inputs["vmId"] === 1003,
      ),
    ).toBe(true);
  });

  it("a repeated createServer returns the same site and writes nothing", async () => {
    const before = journalEvents(service.stateDir).length;
    const r = await api.createServer(101, "customer@example.com", "basic");
    expect(r.body).toEqual({ success: true, vmid: 1003, private_ip: "192.168.1.103", subdomain: "customer" });
    expect(journalEvents(service.stateDir)).toHaveLength(before);
    expect(commitsNaming("create-site service 101")).toHaveLength(1);
  });

  it("a second order from the same e-mail name gets a suffixed subdomain and the next VMID and IP", async () => {
    const r = await api.createServer(102, "customer@other.example", "standard");
    expect(r.status).toBe(200);
    expect(r.body["subdomain"]).toMatch(/^customer-[a-z0-9]{4}$/);
    expect(r.body).toMatchObject({ vmid: 1004, private_ip: "192.168.1.104" });
    await eventually(() => commitsNaming("create-site service 102")[0]);
  });

  it("suspendServer, repeated, then unsuspendServer: state follows, one commit each, none for the repeat", async () => {
    expect(await api.suspendServer(101)).toEqual({ status: 200, body: { success: true } });
    await eventually(() => remoteCustomer(remote, "customer")?.["state"] === "suspended");
    expect(commitsNaming("suspend service 101")[0]?.message).toMatch(/^provisioner: suspend service 101\n/);
    const before = journalEvents(service.stateDir).length;
    expect(await api.suspendServer(101)).toEqual({ status: 200, body: { success: true } });
    expect(journalEvents(service.stateDir)).toHaveLength(before);

    expect(await api.unsuspendServer(101)).toEqual({ status: 200, body: { success: true } });
    await eventually(() => remoteCustomer(remote, "customer")?.["state"] === "active");
    expect(commitsNaming("provisioner: suspend service 101")).toHaveLength(1);
    expect(commitsNaming("provisioner: unsuspend service 101")).toHaveLength(1);
  });

  it("upgradeServer moves to the bigger plan; a plan with a smaller disk answers 409 and writes nothing", async () => {
    expect(await api.upgradeServer(101, "standard")).toEqual({ status: 200, body: { success: true } });
    await eventually(() => remoteCustomer(remote, "customer")?.["plan"] === "standard");
    expect(commitsNaming("upgrade service 101 to standard")).toHaveLength(1);

    const journal = journalEvents(service.stateDir).length;
    const head = remoteCommits(remote)[0]!.hash;
    const r = await api.upgradeServer(101, "basic");
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ success: false, error: expect.stringContaining("cannot shrink") });
    expect(journalEvents(service.stateDir)).toHaveLength(journal);
    await new Promise((res) => setTimeout(res, 1000));
    expect(remoteCommits(remote)[0]!.hash).toBe(head);
  });

  it("terminateServer decommissions; the file stays until the decommission is deployed, then it is removed", async () => {
    expect(await api.terminateServer(101)).toEqual({ status: 200, body: { success: true } });
    await eventually(() => remoteCustomer(remote, "customer")?.["state"] === "decommissioned");
    expect(commitsNaming("delete-site service 101")).toHaveLength(1);

    // Not deployed yet: the outputs still show the site active (the last deploy was before).
    deploy(remote, outputs, "main~1");
    await new Promise((res) => setTimeout(res, 1500));
    expect(remoteCustomer(remote, "customer")?.["state"]).toBe("decommissioned");
    const status = await api.status(101);
    expect(status.body).toMatchObject({ success: true, state: "decommissioned", status: "deploying" });

    // The deploy workflow ran pulumi up on main: its outputs show the site decommissioned.
    deploy(remote, outputs);
    await eventually(() => remoteCustomer(remote, "customer") === undefined);
    expect(commitsNaming("remove-site service 101")[0]?.message).toMatch(
      /^provisioner: remove-site service 101: customer \(decommission deployed\)/,
    );
    expect(remoteCustomer(remote, "acme-bakery")).toBeDefined();
    // Its VMID and IP are retired in the same commit, never handed out again.
    expect(remoteFile(remote, "Pulumi.prod.yaml")).toContain("- { vmid: 1003, ip: 192.168.1.103, customer: customer }");
    const next = await api.createServer(104, "next@example.org", "basic");
    expect(next.body).toMatchObject({ vmid: 1005, private_ip: "192.168.1.105" });
    await eventually(() => commitsNaming("create-site service 104")[0]);

    // Paymenter may send it again: the service is gone.
    expect((await api.terminateServer(101)).status).toBe(404);
    expect((await api.status(101)).status).toBe(404);
  });

  it("every event reached main exactly once", () => {
    const trailers = eventTrailers(remote);
    expect(new Set(trailers).size).toBe(trailers.length);
    // create 101, create 102, suspend, unsuspend, upgrade, delete-site, remove-site, create 104
    expect(trailers).toHaveLength(8);
  });

  it("the token never appears in the log", () => {
    expect(service.output()).not.toContain("paymenter-api-key");
  });
});
