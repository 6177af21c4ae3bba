/** The provisioner's pure parts: settings, token check, journal, the ledger's decisions and replay. */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stackConfigOf } from "../../lib/config/stacks";
import { topologyOf } from "../../lib/config/topology";
import { loadCustomerFiles, type ParsedCustomerFile } from "../../lib/customers/loadCustomers";
import { effectOf, withEffect } from "../../lib/provisioner/effects";
import type { BillingEvent, EventRecord, JournalRecord } from "../../lib/provisioner/events";
import { Journal, readJournal, rewriteJournal } from "../../lib/provisioner/journal";
import { Ledger, type Base } from "../../lib/provisioner/ledger";
import { tokenMatches } from "../../lib/provisioner/server";
import { childEnv, githubRepositoryOf, SettingsError, settingsFromEnv } from "../../lib/provisioner/settings";
import { formatUptime } from "../../lib/provisioner/status";
import { createHash } from "node:crypto";
import { FIXTURE_CUSTOMERS, ROOT } from "../helpers/offlinePlan";
import { tempDir } from "./harness";

const SECRET = "s3cret-token-value-0123456789";

describe("settings from the environment", () => {
  const env = { PROVISIONER_TOKEN: SECRET, PROVISIONER_REPO: "/srv/platform.git" };

  it("defaults: branch main, port 8080, commit mode, stack prod, loopback", () => {
    expect(settingsFromEnv(env, "/opt/p")).toMatchObject({
      branch: "main",
      port: 8080,
      mode: "commit",
      stack: "prod",
      host: "127.0.0.1",
      stateDir: "/opt/p/.provisioner",
      proposalBranch: "provisioner/prod",
      pulumi: "pulumi",
    });
  });

  it.each([
    [{}, ["PROVISIONER_TOKEN: is required", "PROVISIONER_REPO: is required"]],
    [{ PROVISIONER_TOKEN: "short" }, ["PROVISIONER_TOKEN: must be at least 16 characters"]],
    [{ ...env, PROVISIONER_PORT: "http" }, ["PROVISIONER_PORT:"]],
    [{ ...env, PROVISIONER_MODE: "email" }, ['PROVISIONER_MODE: "email" must be one of commit, pull-request']],
    [{ ...env, PROVISIONER_MODE: "pull-request" }, ["PROVISIONER_GITHUB_TOKEN: is required in pull-request mode"]],
    [{ ...env, PROVISIONER_BRANCH: "../x" }, ["PROVISIONER_BRANCH:"]],
    [{ ...env, PROVISIONER_PROXMOX_TOKEN: "root@pam:hunter2" }, ["PROVISIONER_PROXMOX_TOKEN: must look like"]],
  ])("%j is refused, naming each variable", (given, messages) => {
    let err: unknown;
    try {
      settingsFromEnv(given);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    for (const m of messages) expect((err as Error).message).toContain(m);
    expect((err as Error).message).not.toContain("hunter2");
  });

  it("the token's value is never in a message", () => {
    expect(() => settingsFromEnv({ PROVISIONER_TOKEN: "has space in it 1234567" })).toThrow(/value is not shown/);
    try {
      settingsFromEnv({ PROVISIONER_TOKEN: "has space in it 1234567" });
    } catch (e) {
      expect((e as Error).message).not.toContain("has space");
    }
  });

  it("the GitHub repository comes from a github.com remote", () => {
    expect(githubRepositoryOf("https://github.com/nodepoint/platform.git")).toBe("nodepoint/platform");
    expect(githubRepositoryOf("git@github.com:nodepoint/platform.git")).toBe("nodepoint/platform");
    expect(githubRepositoryOf("/srv/platform.git")).toBeUndefined();
  });

  it("child processes never get the secrets", () => {
    const out = childEnv({
      PATH: "/bin",
      PROVISIONER_TOKEN: "a",
      PROVISIONER_GITHUB_TOKEN: "b",
      PROVISIONER_PROXMOX_TOKEN: "c",
      PROVISIONER_REPO: "r",
    });
    expect(out).toEqual({ PATH: "/bin", PROVISIONER_REPO: "r" });
  });
});

describe("bearer token check", () => {
  const expected = createHash("sha256").update(SECRET).digest();
  it.each([
    [`Bearer ${SECRET}`, true],
    [`bearer ${SECRET}`, true],
    [`Bearer ${SECRET}x`, false],
    [`Bearer ${SECRET.slice(1)}`, false],
    [`Basic ${SECRET}`, false],
    [SECRET, false],
    ["Bearer ", false],
    [undefined, false],
  ])("%s -> %s", (header, ok) => {
    expect(tokenMatches(header, expected)).toBe(ok);
  });
});

describe("journal", () => {
  const event = (seq: number): JournalRecord => ({
    t: "event",
    seq,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    at: "2026-01-01T00:00:00.000Z",
    event: { kind: "suspend", serviceId: seq + 1 },
  });

  it("appends in order, concurrent appends included, and reads back", async () => {
    const path = join(tempDir("journal-"), "journal.jsonl");
    const j = await Journal.open(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => j.append(event(i))));
    await j.close();
    expect(readJournal(path).records.map((r) => (r.t === "event" ? r.seq : -1))).toEqual([...Array(50).keys()]);
  });

  it("a last line cut short by a crash is dropped; a damaged line before the end stops the start", () => {
    const path = join(tempDir("journal-"), "journal.jsonl");
    rewriteJournal(path, [event(0), event(1)]);
    appendFileSync(path, '{"t":"event","seq":2,"id":"0000');
    const read = readJournal(path);
    expect(read.records).toHaveLength(2);
    expect(read.dropped).toEqual([{ line: 3, text: '{"t":"event","seq":2,"id":"0000' }]);
    writeFileSync(path, `garbage\n${JSON.stringify(event(0))}\n`);
    expect(() => readJournal(path)).toThrow(/journal.jsonl:1: not a journal record/);
  });

  it("rewriting keeps exactly the given records", () => {
    const path = join(tempDir("journal-"), "journal.jsonl");
    rewriteJournal(path, [event(3)]);
    expect(readFileSync(path, "utf8")).toBe(`${JSON.stringify(event(3))}\n`);
  });
});

// ------------------------------------------------------------------------------------------------

const config = stackConfigOf("prod", ROOT);
const fixtures = loadCustomerFiles(FIXTURE_CUSTOMERS, ROOT).files;
const base = (files: ParsedCustomerFile[] = fixtures): Base => ({
  commit: "0".repeat(40),
  config,
  topology: topologyOf(config),
  files,
  problems: [],
  takenElsewhere: new Set(),
  zone: "nodepoint.eu",
});
const counter = () => {
  let n = 0;
  return () => `x${String(n++).padStart(3, "0")}`;
};
const order = (serviceId: number, email = `c${serviceId}@example.org`, plan = "basic") => ({
  serviceId,
  email,
  plan,
  publicIp: "203.0.113.10",
});
const accept = (ledger: Ledger, decision: { event?: BillingEvent }) => {
  if (decision.event) ledger.accept(ledger.record(decision.event));
};

describe("ledger decisions", () => {
  it("create: the reply is the contract's; a repeat returns the same site and records nothing", () => {
    const ledger = new Ledger(base(), counter());
    const first = ledger.createSite(order(1, "ann@example.org"));
    expect(first.reply).toEqual({
      status: 200,
      body: { success: true, vmid: 1003, private_ip: "192.168.1.103", subdomain: "ann" },
    });
    accept(ledger, first);
    const again = ledger.createSite(order(1, "ANN@example.org"));
    expect(again).toEqual({ reply: first.reply });
    expect(ledger.createSite(order(1, "other@example.org")).reply.status).toBe(409);
  });

  it("decisions see accepted events before they are committed: the next order gets the next site", () => {
    const ledger = new Ledger(base(), counter());
    for (let i = 0; i < 5; i++) accept(ledger, ledger.createSite(order(10 + i, "same@example.org")));
    expect(ledger.files.slice(-5).map((f) => [f.slug, f.data.vmid])).toEqual([
      ["same", 1003],
      ["same-x000", 1004],
      ["same-x001", 1005],
      ["same-x002", 1006],
      ["same-x003", 1007],
    ]);
  });

  it("state events: unknown service 404, repeat is a no-op without an event, terminated 409", () => {
    const ledger = new Ledger(base(), counter());
    expect(ledger.suspend(5).reply.status).toBe(404);
    accept(ledger, ledger.createSite(order(5)));
    const s = ledger.suspend(5);
    expect(s.event).toEqual({ kind: "suspend", serviceId: 5 });
    accept(ledger, s);
    expect(ledger.suspend(5)).toEqual({ reply: { status: 200, body: { success: true } } });
    accept(ledger, ledger.deleteSite(5));
    expect(ledger.deleteSite(5).event).toBeUndefined();
    expect(ledger.unsuspend(5).reply.status).toBe(409);
    expect(ledger.upgrade(5, "premium").reply.status).toBe(409);
    expect(ledger.createSite(order(5)).reply.status).toBe(409);
  });

  it("upgrade: a smaller disk is 409 with nothing recorded; an unknown plan 400", () => {
    const ledger = new Ledger(base(), counter());
    accept(ledger, ledger.createSite(order(6, "p@example.org", "premium")));
    const d = ledger.upgrade(6, "standard");
    expect(d.reply.status).toBe(409);
    expect(d.event).toBeUndefined();
    expect(ledger.upgrade(6, "gold").reply.status).toBe(400);
  });

  it("no site is allocated while the branch's files have problems", () => {
    const broken = { ...base(), problems: [{ file: "customers/x.yaml", field: "vmid", message: "bad" }] };
    expect(new Ledger(broken, counter()).createSite(order(7)).reply.status).toBe(500);
  });

  it("restoring from the journal gives the same picture as the live ledger", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom("create", "suspend", "unsuspend", "upgrade", "delete"),
            id: fc.integer({ min: 1, max: 4 }),
          }),
          { maxLength: 20 },
        ),
        fc.integer({ min: 0, max: 20 }),
        (ops, settleCount) => {
          const live = new Ledger(base(), counter());
          const records: EventRecord[] = [];
          for (const op of ops) {
            const d =
              op.kind === "create"
                ? live.createSite(order(op.id, `s${op.id}@example.org`))
                : op.kind === "suspend"
                  ? live.suspend(op.id)
                  : op.kind === "unsuspend"
                    ? live.unsuspend(op.id)
                    : op.kind === "upgrade"
                      ? live.upgrade(op.id, "standard")
                      : live.deleteSite(op.id);
            if (!d.event) continue;
            const r = live.record(d.event);
            live.accept(r);
            records.push(r);
          }
          const settled = records
            .slice(0, settleCount)
            .map((r): JournalRecord => ({ t: "settled", id: r.id, outcome: "applied", at: "x" }));
          const restored = new Ledger(base(), counter());
          restored.restore([...records, ...settled]);
          // Settled events are on the branch; this base does not have them, so compare the open ones only.
          const open = records.slice(settleCount).map((r) => r.id);
          expect(restored.pendingEvents.map((e) => e.id)).toEqual(open);
          if (settleCount === 0) expect(restored.files).toEqual(live.files);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("effects are idempotent: an event applied twice changes nothing the second time", () => {
  it("for any sequence of events", () => {
    const set = (files: ParsedCustomerFile[]) => ({ config, topology: topologyOf(config), files });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom("create", "suspend", "unsuspend", "upgrade", "delete", "remove"),
            id: fc.integer({ min: 1, max: 3 }),
          }),
          { maxLength: 15 },
        ),
        (ops) => {
          const ledger = new Ledger(base(), counter());
          const events: BillingEvent[] = [];
          for (const op of ops) {
            let event: BillingEvent | undefined;
            if (op.kind === "create") event = ledger.createSite(order(op.id)).event;
            else if (op.kind === "remove") {
              const f = ledger.files.find((x) => x.data.serviceId === op.id);
              if (f?.data.state === "decommissioned") event = { kind: "remove-site", serviceId: op.id, slug: f.slug };
            } else if (op.kind === "suspend") event = ledger.suspend(op.id).event;
            else if (op.kind === "unsuspend") event = ledger.unsuspend(op.id).event;
            else if (op.kind === "upgrade") event = ledger.upgrade(op.id, "standard").event;
            else event = ledger.deleteSite(op.id).event;
            if (!event) continue;
            ledger.accept(ledger.record(event));
            events.push(event);
          }
          let files = [...fixtures];
          const options = { zone: "nodepoint.eu", suffix: counter(), fullCheck: true };
          for (const e of events) {
            files = withEffect(files, effectOf(set(files), e, options));
            const twice = effectOf(set(files), e, options);
            expect(twice.kind).toBe("none");
          }
          expect(files).toEqual(ledger.files);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("status formatting", () => {
  it.each([
    [5, "5 seconds"],
    [60, "1 minute"],
    [7200, "2 hours"],
    [5 * 86400 + 3600, "5 days"],
  ])("uptime %d s -> %s", (s, text) => expect(formatUptime(s)).toBe(text));
});
