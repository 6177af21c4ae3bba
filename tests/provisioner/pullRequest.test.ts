/**
 * Pull-request mode: events go to one pull request (opened and updated through a GitHub API on
 * loopback that behaves like GitHub's), reach main only when a reviewer merges it, and are recorded
 * as rejected when the reviewer closes it. Tokens never show on a command line.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGithub } from "./fakeGithub";
import {
  eventTrailers,
  eventually,
  freshRemote,
  journalLines,
  paymenter,
  remoteCustomer,
  remoteCustomers,
  startService,
  tempDir,
  TOKEN,
  type Service,
} from "./harness";

const GH_TOKEN = "ghp_fakeProvisionerToken0123456789";
let remote: string;
let github: FakeGithub;
let service: Service;
let api: ReturnType<typeof paymenter>;
let psLog: string;

beforeAll(async () => {
  remote = freshRemote();
  // Every push runs this hook, which records the command lines of every process at that moment.
  psLog = join(tempDir("ps-"), "ps.log");
  writeFileSync(join(remote, "hooks", "pre-receive"), `#!/bin/sh\nps -eo args >> ${psLog}\ncat >/dev/null\n`);
  chmodSync(join(remote, "hooks", "pre-receive"), 0o755);
  github = new FakeGithub({ bare: remote, owner: "nodepoint", repo: "platform", token: GH_TOKEN });
  await github.listen();
  service = await startService({
    remote,
    env: {
      PROVISIONER_MODE: "pull-request",
      PROVISIONER_GITHUB_TOKEN: GH_TOKEN,
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_GITHUB_REPOSITORY: "nodepoint/platform",
    },
  });
  api = paymenter(service);
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await github?.close();
});

const merge = async (number: number, method: "merge" | "squash") => {
  const res = await fetch(`${github.url}/repos/nodepoint/platform/pulls/${number}/merge`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${GH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ merge_method: method }),
  });
  expect(res.status).toBe(200);
};
const openPulls = () => github.pulls.filter((p) => p.state === "open");
const settled = () =>
  journalLines(service.stateDir)
    .map((l) => JSON.parse(l) as { t: string; outcome?: string; note?: string })
    .filter((r) => r.t === "settled");

describe("pull-request mode", { timeout: 120_000 }, () => {
  it("events go into one pull request; main is untouched until it is merged", async () => {
    const created = await api.createServer(201, "anna@example.org", "basic");
    expect(created.body).toEqual({ success: true, vmid: 1003, private_ip: "192.168.1.103", subdomain: "anna" });
    const pr = await eventually(() => openPulls()[0]);
    expect(pr).toMatchObject({ number: 1, base: { ref: "main" }, head: { ref: "provisioner/prod" } });
    expect(pr.title).toBe("provisioner: create-site service 201: anna.nodepoint.eu (basic)");
    expect(remoteCustomer(remote, "anna", "provisioner/prod")).toMatchObject({ serviceId: 201, state: "active" });
    expect(remoteCustomer(remote, "anna")).toBeUndefined();

    expect((await api.suspendServer(201)).status).toBe(200);
    await eventually(() => remoteCustomer(remote, "anna", "provisioner/prod")?.["state"] === "suspended");
    await eventually(() => github.pulls[0]!.body?.includes("suspend service 201"));
    expect(github.pulls).toHaveLength(1);
    expect(remoteCustomer(remote, "anna")).toBeUndefined();
    expect((await api.status(201)).body).toMatchObject({ status: "pending", state: "suspended" });
  });

  it("merging the pull request settles its events; nothing is proposed again", async () => {
    await merge(1, "merge");
    expect(remoteCustomer(remote, "anna")).toMatchObject({ serviceId: 201, state: "suspended" });
    await eventually(() => settled().length >= 2);
    expect(
      settled()
        .slice(0, 2)
        .map((r) => r.outcome),
    ).toEqual(["applied", "applied"]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(github.pulls).toHaveLength(1);
    expect((await api.status(201)).body).toMatchObject({ state: "suspended", provisioning: { pending_events: [] } });
  });

  it("a pull request closed without merging: its events are recorded as rejected and leave the picture", async () => {
    const r = await api.createServer(202, "bert@example.org", "basic");
    expect(r.body, JSON.stringify(r.body)).toMatchObject({ success: true, subdomain: "bert" });
    const pr = await eventually(() => openPulls()[0]);
    expect(pr.number, JSON.stringify(github.pulls.map((p) => [p.number, p.state, p.title]))).toBe(2);
    const res = await fetch(`${github.url}/repos/nodepoint/platform/pulls/2`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${GH_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ state: "closed" }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await eventually(() => settled().some((s) => s.outcome === "rejected"));
    expect(settled().find((s) => s.outcome === "rejected")?.note).toBe("pull request #2 was closed without merging");
    await eventually(async () => (await api.status(202)).status === 404);
    expect(service.output()).toContain("closed without merging");
    expect(remoteCustomer(remote, "bert")).toBeUndefined();
  });

  it("a squash merge (trailers not kept as trailers) settles too, by the merged head; nothing is doubled", async () => {
    await api.createServer(203, "carla@example.org", "standard");
    const pr = await eventually(() => openPulls()[0]);
    expect(pr.number).toBe(3);
    await merge(3, "squash");
    await eventually(() => settled().filter((s) => s.outcome === "applied").length >= 3);
    await new Promise((r) => setTimeout(r, 1500));
    expect(github.pulls).toHaveLength(3);
    const files = remoteCustomers(remote);
    expect([...files.values()].filter((c) => c["serviceId"] === 203)).toHaveLength(1);
    // The merge commit of #1 carries the two events of #1 once each; the squash commit of #3 has none as trailers.
    const trailers = eventTrailers(remote);
    expect(new Set(trailers).size).toBe(trailers.length);
  });

  it("every GitHub call was authenticated; neither token was ever on a command line", () => {
    expect(github.requests.length).toBeGreaterThan(0);
    expect(github.requests.every((r) => r.auth)).toBe(true);
    const ps = readFileSync(psLog, "utf8");
    expect(ps).toContain("receive-pack");
    expect(ps).not.toContain(GH_TOKEN);
    expect(ps).not.toContain(TOKEN);
    expect(service.output()).not.toContain(GH_TOKEN);
    expect(service.output()).not.toContain(TOKEN);
  });
});
