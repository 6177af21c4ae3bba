/**
 * kill -9 in the middle of an event, then a restart: nothing acknowledged is lost, nothing is
 * applied twice. Hooks on the bare remote hold the provisioner's push at two points: before the
 * remote accepts it (pre-receive: the push never lands) and after the remote moved its branch
 * (post-receive: the push landed, the provisioner never heard back).
 */
import { chmodSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  eventTrailers,
  eventually,
  freshRemote,
  paymenter,
  remoteCommits,
  remoteCustomer,
  remoteCustomers,
  startService,
  tempDir,
  type Answer,
  type Service,
} from "./harness";

let remote: string;
let control: string;
let stateDir: string;
let service: Service | undefined;

const hold = (hook: "pre-receive" | "post-receive") => {
  writeFileSync(join(control, `block-${hook}`), "");
  rmSync(join(control, `reached-${hook}`), { force: true });
};
const release = (hook: "pre-receive" | "post-receive") => rmSync(join(control, `block-${hook}`), { force: true });
const reached = (hook: "pre-receive" | "post-receive") => existsSync(join(control, `reached-${hook}`));

beforeAll(() => {
  remote = freshRemote();
  control = tempDir("crash-control-");
  stateDir = join(tempDir("crash-state-"), "state");
  for (const hook of ["pre-receive", "post-receive"] as const) {
    const path = join(remote, "hooks", hook);
    writeFileSync(
      path,
      `#!/bin/sh
cat >/dev/null
if [ -e ${control}/block-${hook} ]; then
  touch ${control}/reached-${hook}
  while [ -e ${control}/block-${hook} ]; do sleep 0.05; done
fi
`,
    );
    chmodSync(path, 0o755);
  }
});
afterAll(async () => {
  release("pre-receive");
  release("post-receive");
  await service?.stop();
});

const start = async () => {
  service = await startService({ remote, stateDir });
  return paymenter(service);
};
const openEvents = async () => (await call(service!, "GET", "/health")).body["pending_events"];
const commitsNaming = (text: string) => remoteCommits(remote).filter((c) => c.message.includes(text));

describe("kill -9 in the middle of an event, then a restart", { timeout: 180_000 }, () => {
  let first: Answer;
  let second: Answer;

  it("killed while its push waits before the remote accepted it: the events are applied after the restart, once", async () => {
    let api = await start();
    first = await api.createServer(301, "dora@example.org", "basic");
    await eventually(() => remoteCustomer(remote, "dora"));

    hold("pre-receive");
    second = await api.createServer(302, "emil@example.org", "standard");
    expect(second.body).toMatchObject({ success: true, subdomain: "emil" });
    await eventually(() => reached("pre-receive"));
    // Paymenter fires and forgets: this one is only in the journal when the process dies.
    expect((await api.suspendServer(301)).status).toBe(200);
    await service!.crash();
    release("pre-receive");
    expect(remoteCustomer(remote, "emil")).toBeUndefined();
    expect(remoteCustomer(remote, "dora")?.["state"]).toBe("active");

    api = await start();
    await eventually(() => remoteCustomer(remote, "emil"));
    await eventually(() => remoteCustomer(remote, "dora")?.["state"] === "suspended");
    expect(remoteCustomer(remote, "emil")).toMatchObject({
      serviceId: 302,
      vmid: second.body["vmid"],
      ip: second.body["private_ip"],
    });
    expect((await api.createServer(302, "emil@example.org", "standard")).body).toEqual(second.body);
    await eventually(async () => (await openEvents()) === 0);
  });

  it("killed after the remote moved its branch but before it heard back: nothing is applied twice", async () => {
    let api = paymenter(service!);
    const before = remoteCommits(remote).length;
    hold("post-receive");
    expect((await api.unsuspendServer(301)).status).toBe(200);
    const third = await api.createServer(303, "fritz@example.org", "basic");
    await eventually(() => reached("post-receive"));
    await service!.crash();
    release("post-receive");
    // The push landed: its commit is on main.
    const landed = remoteCommits(remote).length;
    expect(landed).toBeGreaterThan(before);

    api = await start();
    await eventually(async () => (await openEvents()) === 0);
    await eventually(() => remoteCustomer(remote, "fritz") && remoteCustomer(remote, "dora")?.["state"] === "active");
    await new Promise((r) => setTimeout(r, 1000));
    expect(service!.output()).toContain("found already on main");
    expect(remoteCustomer(remote, "fritz")).toMatchObject({ serviceId: 303, vmid: third.body["vmid"] });
    expect((await api.createServer(303, "fritz@example.org", "basic")).body).toEqual(third.body);
  });

  it("across both crashes every event reached main exactly once, and every site is where Paymenter was told", () => {
    const trailers = eventTrailers(remote);
    expect(new Set(trailers).size).toBe(trailers.length);
    for (const id of [301, 302, 303]) expect(commitsNaming(`create-site service ${id}`)).toHaveLength(1);
    expect(
      commitsNaming("provisioner: suspend service 301").length + commitsNaming("suspend service 301").length,
    ).toBeGreaterThan(0);
    const sites = [...remoteCustomers(remote).values()].filter((c) => c["serviceId"] !== undefined);
    expect(sites.map((c) => c["serviceId"]).sort()).toEqual([301, 302, 303]);
    expect(new Set(sites.map((c) => c["vmid"])).size).toBe(3);
    expect(remoteCustomer(remote, "dora")).toMatchObject({ vmid: first.body["vmid"], ip: first.body["private_ip"] });
  });
});
