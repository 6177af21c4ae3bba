/**
 * 100 orders at once (the bench stack: a cluster with room for them): 100 distinct sites, each
 * where its reply said, no collision, every event on main exactly once. And a change a person pushes
 * while the provisioner works: its push is rejected, it applies again on the new head, and the site
 * it had promised is planned anew when the person took its VMID and IP.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackConfigOf } from "../../lib/config/stacks";
import { topologyOf } from "../../lib/config/topology";
import { parseCustomerText } from "../../lib/customers/loadCustomers";
import { validateCustomers } from "../../lib/customers/validateCustomers";
import { ROOT } from "../helpers/offlinePlan";
import {
  call,
  cloneOf,
  eventTrailers,
  eventually,
  freshRemote,
  git,
  journalEvents,
  paymenter,
  remoteCustomer,
  remoteCustomers,
  remoteFile,
  sh,
  startService,
  tempDir,
  type Answer,
  type Service,
} from "./harness";

describe("100 concurrent creates", { timeout: 180_000 }, () => {
  let remote: string;
  let service: Service;
  const ids = Array.from({ length: 100 }, (_, i) => 7000 + i);
  const emailOf = (id: number) => (id % 2 === 0 ? `shop@example${id}.org` : `owner${id}@example.org`);
  const order = (id: number) => ({
    service_id: String(id),
    email: emailOf(id),
    plan: id % 5 === 0 ? "premium" : "standard",
    public_ip: "198.51.100.20",
  });
  const replies = new Map<number, Answer>();

  beforeAll(async () => {
    remote = freshRemote();
    service = await startService({
      remote,
      env: { PROVISIONER_STACK: "bench", PROVISIONER_ZONE: "bench-one.example" },
    });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
  });

  it("all answered at once, with 100 distinct subdomains, VMIDs and IPs", async () => {
    const answers = await Promise.all(ids.map((id) => call(service, "POST", "/create-site", order(id))));
    answers.forEach((a, i) => replies.set(ids[i]!, a));
    expect(answers.every((a) => a.status === 200 && a.body["success"] === true)).toBe(true);
    for (const key of ["subdomain", "vmid", "private_ip"])
      expect(new Set(answers.map((a) => a.body[key])).size).toBe(100);
    expect(answers.filter((a) => a.body["subdomain"] === "shop")).toHaveLength(1);
    expect(answers.filter((a) => /^shop-[a-z0-9]{4}$/.test(String(a.body["subdomain"])))).toHaveLength(49);
  });

  it("all 100 reach main, each as its reply said, and the files validate together", async () => {
    const files = await eventually(() => {
      const f = remoteCustomers(remote, "customers/bench");
      return f.size === 100 ? f : undefined;
    });
    for (const [slug, c] of files) {
      const reply = replies.get(c["serviceId"] as number)!;
      expect({ slug, vmid: c["vmid"], ip: c["ip"] }).toEqual({
        slug: reply.body["subdomain"],
        vmid: reply.body["vmid"],
        ip: reply.body["private_ip"],
      });
      expect(c["email"]).toBe(emailOf(c["serviceId"] as number));
    }
    const config = stackConfigOf("bench", ROOT);
    const parsed = [...files.keys()].map(
      (slug) =>
        parseCustomerText(
          remoteFile(remote, `customers/bench/${slug}.yaml`)!,
          `${slug}.yaml`,
          `customers/bench/${slug}.yaml`,
        ).file!,
    );
    expect(validateCustomers(config, topologyOf(config), parsed).problems).toEqual([]);
    const trailers = eventTrailers(remote);
    expect(trailers).toHaveLength(100);
    expect(new Set(trailers).size).toBe(100);
  });

  it("the same 100 orders again: the same 100 sites, nothing new recorded", async () => {
    const before = journalEvents(service.stateDir).length;
    const again = await Promise.all(ids.map((id) => call(service, "POST", "/create-site", order(id))));
    again.forEach((a, i) => expect(a.body).toEqual(replies.get(ids[i]!)!.body));
    expect(journalEvents(service.stateDir)).toHaveLength(before);
  });
});

describe("a person pushes while the provisioner works", { timeout: 120_000 }, () => {
  let remote: string;
  let service: Service;

  beforeAll(async () => {
    remote = freshRemote();
    // The provisioner's clone, prepared with a hook: right after its first commit, a person pushes a
    // customer taking VMID 1003 and 192.168.1.103 (what the provisioner promised) before its push.
    const stateDir = join(tempDir("rebase-state-"), "state");
    const clone = join(stateDir, "repo");
    sh("git", ["clone", "--quiet", remote, clone], ROOT);
    const person = cloneOf(remote);
    const hook = join(clone, ".git", "hooks", "post-commit");
    writeFileSync(
      hook,
      `#!/bin/sh
unset $(git rev-parse --local-env-vars)
[ -e "${person}/.done" ] && exit 0
touch "${person}/.done"
cd "${person}" || exit 1
printf 'domain: zz-person.nodepoint.eu\\nplan: basic\\nvmid: 1003\\nip: 192.168.1.103\\nnode: node1\\n' > customers/zz-person.yaml
git add customers/zz-person.yaml
git -c user.name=person -c user.email=person@example.org commit -q -m "customer add zz-person (by hand)"
git push -q origin main
`,
    );
    chmodSync(hook, 0o755);
    service = await startService({ remote, stateDir });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
  });

  it("the rejected push is applied again on the new head; the promised VMID and IP, now taken, are planned anew", async () => {
    const api = paymenter(service);
    const r = await api.createServer(401, "gina@example.org", "basic");
    expect(r.body).toEqual({ success: true, vmid: 1003, private_ip: "192.168.1.103", subdomain: "gina" });
    const gina = await eventually(() => remoteCustomer(remote, "gina"));
    expect(remoteCustomer(remote, "zz-person")).toMatchObject({ vmid: 1003, ip: "192.168.1.103" });
    expect(gina).toMatchObject({ serviceId: 401, vmid: 1004, ip: "192.168.1.104" });
    expect(service.output()).toContain("push rejected (main moved)");
    expect(service.output()).toContain("planned anew as gina.nodepoint.eu (CT 1004, 192.168.1.104)");
    // Status tells the truth from now on.
    expect((await api.status(401)).body).toMatchObject({ vmid: 1004, private_ip: "192.168.1.104" });
    expect(git(remote, "log", "--format=%s", "-3", "main").split("\n")).toEqual([
      "provisioner: create-site service 401: gina.nodepoint.eu (basic)",
      "customer add zz-person (by hand)",
      "project",
    ]);
  });
});
