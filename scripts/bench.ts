/**
 * Planning cost as customers grow, three ways side by side in one run, each measurement in its own
 * process (fresh heap) on the `bench` stack (Pulumi.bench.yaml, a fictional cluster that holds
 * 10,000 sites) for N generated customers:
 * - the offline plan (the program against an in-process monitor: `npm run plan`);
 * - the program through the SDK's entrypoint `cmd/run` over gRPC, as `pulumi up` runs it
 *   (lib/runtimePath/: a fake engine answering as the engine does, the program started with
 *   Pulumi.yaml's runtime options as the CLI starts it), with the bytes of inputs the state would store per site (checkpoint form);
 * - the SDK-mocks baseline: the same custom resources with the same inputs straight through the
 *   SDK's stock mocks;
 * - the SDK's floor (lib/bench/sdkFloor.ts): the same custom resources with the same inputs, plain
 *   (no components, parents or dependencies), paced as the program paces its sites, in-process as
 *   the offline plan runs and through cmd/run: what the SDK alone costs on each path.
 * And the targeted set of a one-customer change (lib/plan/deployTargets.ts) at 10 sites and at each N.
 * Compare figures within one run (the machine is shared).
 *
 *   npm run bench [-- --sizes 100,1000] [--stack bench]     (--help for details; 5000 on request)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_CLUSTER, writeBenchCustomers } from "../lib/bench/generateCustomers";
import { EXIT, parseCommandLine, runCli, UsageError } from "./cli";

interface Measurement {
  ms: number;
  peakHeapMiB: number;
  peakRssMiB: number;
  resources: number;
  invokes?: number;
  depth?: number;
}
interface RuntimeMeasurement extends Measurement {
  /** Peak RSS of the cmd/run process (the program). */
  programRssMiB: number;
  siteBytesMax: number;
  siteBytesMean: number;
  stackInputBytes: number;
}
interface Row {
  n: number;
  program: Measurement;
  runtime: RuntimeMeasurement;
  baseline: Measurement;
  /** The SDK's floor in-process and through cmd/run. */
  floor: { offline: Measurement; runtime: Measurement };
  targets: number;
}

const USAGE = `usage: npm run bench [-- --sizes 100,1000] [--stack bench]
  --sizes N,N,...   numbers of generated customers (positive integers; default 100,1000; 5000 on request)
  --stack NAME      the stack planned (default bench, Pulumi.bench.yaml: a fictional 21-node cluster)
Each N: the offline plan, the program through cmd/run (gRPC, as pulumi up), the SDK-mocks baseline,
the SDK's floor (the same registrations, plain) both ways, the targeted set of a one-customer change
(also at 10 sites). Progress goes to stderr, the table to stdout. exit: 0 done, 1 failed, 2 usage error`;

function measure<T extends Measurement>(args: string[]): T {
  // Node's default heap: 5,000 sites plan within it (lib/declareInTurns.ts).
  const out = execFileSync(process.execPath, ["--import", "tsx", join(__dirname, "benchWorker.ts"), ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as T;
}

/** Sizes from `--sizes`: positive integers, or a usage error. */
function parseSizes(text: string): number[] {
  const sizes = text.split(",").map((s) => s.trim());
  const bad = sizes.filter((s) => !/^[1-9]\d*$/.test(s));
  if (bad.length > 0 || sizes.length === 0)
    throw new UsageError(`--sizes takes positive integers separated by commas (not: ${bad.join(", ") || "nothing"})`);
  return sizes.map(Number);
}

function main(): number {
  const { values, positionals } = parseCommandLine({
    options: {
      sizes: { type: "string", default: "100,1000" },
      stack: { type: "string", default: "bench" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals.join(" ")}`);
  const sizes = parseSizes(values.sizes);
  const started = performance.now();
  const progress = (message: string) =>
    console.error(`bench [${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`);
  const work = mkdtempSync(join(tmpdir(), "nodepoint-bench-"));
  const rows: Row[] = [];
  const targetsAt = new Map<number, number>();
  try {
    const generate = (n: number) => {
      const dir = join(work, `customers-${n}`);
      writeBenchCustomers(dir, n, BENCH_CLUSTER);
      return dir;
    };
    const targetsOf = (dir: string, record: string) =>
      measure<Measurement & { targets: number }>(["targets", values.stack, dir, record]).targets;
    if (!sizes.includes(10)) {
      progress("N=10: the targeted set of a one-customer change");
      const dir = generate(10);
      const record = join(work, "record-10.json");
      measure(["program", values.stack, dir, record]);
      targetsAt.set(10, targetsOf(dir, record));
    }
    sizes.forEach((n, i) => {
      const step = `N=${n} (${i + 1}/${sizes.length})`;
      progress(`${step}: generating ${n} customers`);
      const dir = generate(n);
      const record = join(work, `record-${n}.json`);
      progress(`${step}: offline plan (stack ${values.stack}, fresh process)`);
      const program = measure(["program", values.stack, dir, record]);
      progress(
        `${step}: offline ${program.ms.toFixed(0)} ms, ${program.resources} resources; the program through cmd/run`,
      );
      const runtime = measure<RuntimeMeasurement>(["runtime", values.stack, dir]);
      progress(`${step}: cmd/run ${runtime.ms.toFixed(0)} ms; running the SDK baseline`);
      const baseline = measure(["baseline", values.stack, record]);
      progress(`${step}: baseline ${baseline.ms.toFixed(0)} ms; the SDK floor in-process and through cmd/run`);
      const floor = {
        offline: measure(["floor", values.stack, record]),
        runtime: measure(["floorRuntime", values.stack, record]),
      };
      progress(
        `${step}: SDK floor ${floor.offline.ms.toFixed(0)} ms and ${floor.runtime.ms.toFixed(0)} ms; the targeted set of a one-customer change`,
      );
      const targets = targetsOf(dir, record);
      targetsAt.set(n, targets);
      progress(`${step}: ${targets} resources targeted; done`);
      rows.push({ n, program, runtime, baseline, floor, targets });
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable(rows, targetsAt);
  return EXIT.ok;
}

function printTable(rows: readonly Row[], targetsAt: ReadonlyMap<number, number>): void {
  const header = [
    "sites",
    "resources",
    "offline ms",
    "cmd/run ms",
    "baseline ms",
    "cmd/run/offline",
    "floor offline ms",
    "floor cmd/run ms",
    "floor ratio",
    "offline RSS MiB",
    "cmd/run RSS MiB",
    "baseline RSS MiB",
    "stored B/site max",
    "B/site mean",
    "stored inputs MB",
    "targeted",
    "depth",
  ];
  const table = rows.map(({ n, program: p, runtime: r, baseline: b, floor: f, targets }) => [
    String(n),
    String(p.resources),
    p.ms.toFixed(0),
    r.ms.toFixed(0),
    b.ms.toFixed(0),
    (r.ms / p.ms).toFixed(2),
    f.offline.ms.toFixed(0),
    f.runtime.ms.toFixed(0),
    (f.runtime.ms / f.offline.ms).toFixed(2),
    p.peakRssMiB.toFixed(0),
    // The program's process and the engine's (the worker holding the fake engine).
    `${r.programRssMiB.toFixed(0)}+${r.peakRssMiB.toFixed(0)}`,
    b.peakRssMiB.toFixed(0),
    String(r.siteBytesMax),
    String(r.siteBytesMean),
    (r.stackInputBytes / 1e6).toFixed(1),
    String(targets),
    String(p.depth ?? "-"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log([line(header), widths.map((w) => "-".repeat(w)).join("  "), ...table.map(line)].join("\n"));
  console.log(
    `\ntargeted set of a one-customer change: ${[...targetsAt]
      .sort(([a], [b]) => a - b)
      .map(([n, t]) => `${n} sites: ${t}`)
      .join(", ")} resources`,
  );
  const large = rows.find((r) => r.n === 1000);
  if (large)
    console.log(
      `at 1000 sites: cmd/run ${(large.runtime.ms / large.program.ms).toFixed(2)}x the offline plan (target <= 2x; the SDK alone, the same registrations: ${(large.floor.runtime.ms / large.floor.offline.ms).toFixed(2)}x); offline ${(large.program.ms / large.baseline.ms).toFixed(2)}x the SDK baseline; at most ${large.runtime.siteBytesMax} bytes stored per site (target <= 4096)`,
    );
}

runCli("bench", USAGE, main);
