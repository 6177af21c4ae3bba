/**
 * Acknowledgement latency of the provisioner with 1,000 existing customers (bench stack): the real
 * service on loopback, a bare repository on disk as its remote, Paymenter's calls one after another
 * and in bursts. An acknowledgement is the reply Paymenter waits for (the event is on disk by then);
 * applying the events to the branch goes on behind it and is timed separately.
 *
 *   npm run provisioner:bench [-- --existing 1000 --sequential 200 --bursts 10 --burst-size 20]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeBenchCustomers } from "../lib/bench/generateCustomers";
import { bareCloneOf, copyProjectRepo } from "../lib/bench/projectRepo";
import { spawnProvisioner } from "../lib/bench/provisionerProcess";

const { values } = parseArgs({
  options: {
    existing: { type: "string", default: "1000" },
    sequential: { type: "string", default: "200" },
    bursts: { type: "string", default: "10" },
    "burst-size": { type: "string", default: "20" },
  },
});
const existing = Number(values.existing);
const sequential = Number(values.sequential);
const bursts = Number(values.bursts);
const burstSize = Number(values["burst-size"]);
const ROOT = resolve(__dirname, "..");
const TOKEN = `bench-${Math.random().toString(36).slice(2)}-token`;
const nodes = Array.from({ length: 20 }, (_, i) => `bnode${String(i + 1).padStart(2, "0")}`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
function row(name: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1);
  return `| ${name} | ${s.length} | ${f(percentile(s, 50))} | ${f(percentile(s, 90))} | ${f(percentile(s, 99))} | ${f(s.at(-1)!)} |`;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "provisioner-bench-"));
  try {
    await prepareAndMeasure(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function prepareAndMeasure(work: string): Promise<void> {
  const repo = join(work, "project");
  const remote = join(work, "platform.git");
  console.error(`preparing a repository with ${existing} bench customers...`);
  copyProjectRepo(ROOT, repo, {
    fill: (dir) =>
      writeBenchCustomers(join(dir, "customers", "bench"), existing, {
        zones: ["bench-one.example", "bench-two.example"],
        nodes,
        vmidFirst: 1000,
        ipFirst: "10.20.1.0",
      }),
  });
  bareCloneOf(repo, remote);
  await measure(work, remote);
}

async function measure(work: string, remote: string): Promise<void> {
  const started = performance.now();
  const service = await spawnProvisioner(ROOT, {
    PROVISIONER_TOKEN: TOKEN,
    PROVISIONER_REPO: remote,
    PROVISIONER_PORT: "0",
    PROVISIONER_STACK: "bench",
    PROVISIONER_ZONE: "bench-one.example",
    PROVISIONER_STATE_DIR: join(work, "state"),
    PROVISIONER_POLL_SECONDS: "1",
    PROVISIONER_PULUMI: "off",
    PROVISIONER_LOG_LEVEL: "info",
  });
  const { url, child } = service;
  try {
    const startMs = performance.now() - started;
    const post = async (path: string, body: unknown): Promise<number> => {
      const t = performance.now();
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}`, Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      await res.text();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
      return ms;
    };
    let id = 100000;
    const order = () => {
      id++;
      return {
        service_id: String(id),
        email: id % 3 === 0 ? "shop@example.org" : `owner${id}@example.org`,
        plan: "standard",
        public_ip: "198.51.100.20",
      };
    };
    for (let i = 0; i < 10; i++) await post("/create-site", order()); // warm-up

    const seq: number[] = [];
    for (let i = 0; i < sequential; i++) seq.push(await post("/create-site", order()));
    const burst: number[] = [];
    for (let b = 0; b < bursts; b++) {
      const times = await Promise.all(Array.from({ length: burstSize }, () => post("/create-site", order())));
      burst.push(...times);
    }
    const events: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const sid = 100011 + Math.floor(i / 2); // suspend a site created above, then resume it
      events.push(await post(i % 2 === 0 ? "/suspend" : "/unsuspend", { service_id: String(sid) }));
    }
    const accepted = performance.now();
    const health = async () =>
      (await (await fetch(`${url}/health`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as {
        pending_events: number;
      };
    while ((await health()).pending_events > 0) await new Promise((r) => setTimeout(r, 200));
    const drained = performance.now() - accepted;
    const pushes = (service.output().match(/pushed [0-9a-f]{12} to main/g) ?? []).length;

    console.log(`Provisioner acknowledgement latency, ${existing} existing customers (bench stack), ms`);
    console.log(`service start (clone, load ${existing} files, listen): ${(startMs / 1000).toFixed(1)} s\n`);
    console.log("| requests | n | p50 | p90 | p99 | max |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
    console.log(row("create-site, one at a time", seq));
    console.log(row(`create-site, ${bursts} bursts of ${burstSize} at once`, burst));
    console.log(row("suspend/unsuspend, one at a time", events));
    console.log(
      `\nall ${sequential + bursts * burstSize + sequential + 10} events on main ${(drained / 1000).toFixed(1)} s after the last reply, in ${pushes} pushes`,
    );
  } finally {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
