/**
 * Planning cost as customers grow: the offline plan of the `bench` stack (Pulumi.bench.yaml, a
 * fictional cluster that holds 10,000 sites) for N generated customers, against a baseline that
 * registers the same resources with the same inputs straight through the SDK's stock mocks.
 * Every measurement runs in its own process (fresh heap); compare figures within one run.
 *
 *   npm run bench [-- --sizes 100,1000,5000] [--stack bench]     (--help for details)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeBenchCustomers } from "../lib/bench/generateCustomers";
import { EXIT, parseCommandLine, runCli, UsageError } from "./cli";

interface Measurement {
  ms: number;
  peakHeapMiB: number;
  resources: number;
  invokes: number;
  depth?: number;
}

const USAGE = `usage: npm run bench [-- --sizes 100,1000,5000] [--stack bench]
  --sizes N,N,...   numbers of generated customers to plan (positive integers; default 100,1000,5000)
  --stack NAME      the stack planned (default bench, Pulumi.bench.yaml: a fictional 21-node cluster)
Progress goes to stderr, the table to stdout. exit: 0 done, 1 failed, 2 usage error`;

const nodes = Array.from({ length: 20 }, (_, i) => `bnode${String(i + 1).padStart(2, "0")}`);

function measure(args: string[], n: number): Measurement {
  // Above 1000 sites the plan needs more than Node's default heap; up to 1000 it must not.
  const heap = n > 1000 ? ["--max-old-space-size=16384"] : [];
  const out = execFileSync(process.execPath, [...heap, "--import", "tsx", join(__dirname, "benchWorker.ts"), ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Measurement;
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
      sizes: { type: "string", default: "100,1000,5000" },
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
  const rows: Array<{ n: number; program: Measurement; baseline: Measurement }> = [];
  try {
    sizes.forEach((n, i) => {
      const step = `N=${n} (${i + 1}/${sizes.length})`;
      progress(`${step}: generating ${n} customers`);
      const dir = join(work, `customers-${n}`);
      writeBenchCustomers(dir, n, {
        zones: ["bench-one.example", "bench-two.example"],
        nodes,
        vmidFirst: 1000,
        ipFirst: "10.20.1.0",
      });
      const record = join(work, `record-${n}.json`);
      progress(`${step}: planning the program (stack ${values.stack}, fresh process)`);
      const program = measure(["program", values.stack, dir, record], n);
      progress(
        `${step}: program ${program.ms.toFixed(0)} ms, ${program.resources} resources; running the SDK baseline`,
      );
      const baseline = measure(["baseline", values.stack, record], n);
      progress(`${step}: baseline ${baseline.ms.toFixed(0)} ms; done`);
      rows.push({ n, program, baseline });
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable(rows);
  return EXIT.ok;
}

function printTable(rows: ReadonlyArray<{ n: number; program: Measurement; baseline: Measurement }>): void {
  const header = [
    "sites",
    "resources",
    "plan ms",
    "ms/site",
    "plan heap MiB",
    "baseline resources",
    "baseline ms",
    "baseline heap MiB",
    "plan/baseline",
    "invokes",
    "graph depth",
  ];
  const table = rows.map(({ n, program: p, baseline: b }) => [
    String(n),
    String(p.resources),
    p.ms.toFixed(0),
    (p.ms / n).toFixed(2),
    p.peakHeapMiB.toFixed(0),
    String(b.resources),
    b.ms.toFixed(0),
    b.peakHeapMiB.toFixed(0),
    (p.ms / b.ms).toFixed(2),
    String(p.invokes),
    String(p.depth ?? "-"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log([line(header), widths.map((w) => "-".repeat(w)).join("  "), ...table.map(line)].join("\n"));
  const at = (n: number) => rows.find((r) => r.n === n);
  const [small, large] = [at(100), at(1000)];
  if (small && large) {
    console.log(
      `\ntime 1000/100 sites: ${(large.program.ms / small.program.ms).toFixed(1)}x (target <= 11x); heap 1000/100: ${(large.program.peakHeapMiB / small.program.peakHeapMiB).toFixed(1)}x`,
    );
    console.log(
      `plan vs SDK baseline at 1000 sites: ${(large.program.ms / large.baseline.ms).toFixed(2)}x (target <= 1.2x)`,
    );
  }
}

runCli("bench", USAGE, main);
