/**
 * One benchmark measurement in a fresh process (fresh heap):
 * - `program`: the real program's offline plan (in-process monitor);
 * - `baseline`: the same custom resources with the same inputs straight through the SDK's stock
 *   mocks (no components, no config parsing, no validation);
 * - `runtime`: the real program through the SDK's entrypoint `cmd/run` (a child process started with
 *   Pulumi.yaml's runtime options, as the language host starts it) against a gRPC engine, as `pulumi up` runs it
 *   (lib/runtimePath/), with what the state would store per site;
 * - `targets`: the targeted set of a one-customer change (lib/plan/deployTargets.ts);
 * - `floor` and `floorRuntime`: the SDK's floor (lib/bench/sdkFloor.ts: the program's custom
 *   resources, plain, with their recorded inputs) in-process as the offline plan runs and through
 *   `cmd/run` against the same fake engine as `runtime`.
 *
 *   tsx scripts/benchWorker.ts program  <stack> <customersDir> <recordFile>
 *   tsx scripts/benchWorker.ts baseline <stack> <recordFile>
 *   tsx scripts/benchWorker.ts runtime  <stack> <customersDir>
 *   tsx scripts/benchWorker.ts targets  <stack> <customersDir> <recordFile>   (the program's record: before)
 *   tsx scripts/benchWorker.ts floor <stack> <recordFile>
 *   tsx scripts/benchWorker.ts floorRuntime <stack> <recordFile>
 * Prints one JSON line (ms, peakHeapMiB and peakRssMiB of the process measured, and the mode's figures).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { benchUnderTheEngine } from "../lib/bench/generateCustomers";
import { SDK_FLOOR_RECORD_VARIABLE } from "../lib/bench/sdkFloor";
import { graphDepth } from "../lib/bench/graph";
import { siteInputBytes, stackInputBytes } from "../lib/bench/stateCost";
import { desiredStateFile } from "../lib/config/stackFile";
import { deployScope } from "../lib/plan/deployTargets";
import { runOffline, type RecordedResource } from "../lib/plan/offlineRuntime";
import { runPlan } from "../lib/plan/runPlan";
import { runStack } from "../lib/runtimePath/languageHost";
import { realisticCreate } from "../lib/runtimePath/realisticOutputs";

let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
};
const timer = setInterval(sample, 2);
const MiB = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function program(stack: string, customersDir: string, recordFile: string) {
  const t0 = performance.now();
  const result = await runPlan({ stack, root: process.cwd(), customersDir });
  const ms = performance.now() - t0;
  sample();
  writeFileSync(recordFile, JSON.stringify(result.resources));
  return { ms, resources: result.resources.length, invokes: result.invokes, depth: graphDepth(result.resources) };
}

/** Plain resources: the SDK's registration with nothing of this project's around it. */
class RawResource extends pulumi.CustomResource {}
class RawProvider extends pulumi.ProviderResource {}

async function baseline(stack: string, recordFile: string) {
  const records = JSON.parse(readFileSync(recordFile, "utf8")) as Array<
    Pick<RecordedResource, "type" | "name" | "custom" | "inputs">
  >;
  let invokes = 0;
  const t0 = performance.now();
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => ({ id: a.custom ? `${a.name}-id` : undefined, state: a.inputs as Record<string, unknown> }),
      call: (a) => (invokes++, a.inputs as Record<string, unknown>),
    },
    "nodepoint",
    stack,
    true,
  );
  let count = 0;
  await pulumi.runtime.runInPulumiStack(async () => {
    for (const r of records) {
      if (!r.custom) continue;
      count++;
      if (r.type.startsWith("pulumi:providers:"))
        new RawProvider(r.type.slice("pulumi:providers:".length), r.name, r.inputs);
      else new RawResource(r.type, r.name, r.inputs);
    }
    return {};
  });
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as {
    waitForRPCs: () => Promise<void>;
  };
  await settings.waitForRPCs();
  return { ms: performance.now() - t0, resources: count, invokes };
}

async function runtime(stack: string, customersDir: string) {
  const rssFile = join(mkdtempSync(join(tmpdir(), "bench-rss-")), "peak");
  try {
    const run = await runStack({
      root: process.cwd(),
      stack,
      dryRun: false,
      configOverrides: { ...benchUnderTheEngine(), "nodepoint:customersDir": customersDir },
      create: realisticCreate,
      nodeArgs: ["--require", join(process.cwd(), "lib/bench/peakRss.cjs")],
      env: { NODEPOINT_PEAK_RSS_FILE: rssFile },
    });
    if (run.exitCode !== 0) throw new Error(`cmd/run exited ${run.exitCode}:\n${run.stderr.slice(-4000)}`);
    const perSite = [...siteInputBytes(run.engine.resources, run.engine.inputsOf).values()];
    return {
      ms: run.elapsedMs,
      resources: run.engine.resources.length,
      programRssMiB: MiB(Number(readFileSync(rssFile, "utf8")) * 1024),
      siteBytesMax: Math.max(...perSite),
      siteBytesMean: Math.round(perSite.reduce((a, b) => a + b, 0) / perSite.length),
      stackInputBytes: stackInputBytes(run.engine.resources, run.engine.inputsOf),
    };
  } finally {
    rmSync(join(rssFile, ".."), { recursive: true, force: true });
  }
}

const SDK_FLOOR_PROGRAM = "lib/bench/sdkFloorProgram.ts";

type Registered = Pick<RecordedResource, "type" | "name" | "custom">;

/** How many custom resources the floor registered: every one of the record, by type and name, or an error. */
function sameRegistrations(recorded: readonly Registered[], registered: readonly Registered[]): number {
  const key = (rs: readonly Registered[]) =>
    rs
      .filter((r) => r.custom)
      .map((r) => `${r.type}::${r.name}`)
      .sort();
  const [want, got] = [key(recorded), key(registered)];
  if (want.join("\n") !== got.join("\n"))
    throw new Error(`the SDK floor registered ${got.length} resources, not the record's ${want.length}`);
  return got.length;
}

/** The SDK's floor in-process: the offline runtime, as the offline plan runs the program. */
async function floor(stack: string, recordFile: string) {
  const records = JSON.parse(readFileSync(recordFile, "utf8")) as RecordedResource[];
  process.env[SDK_FLOOR_RECORD_VARIABLE] = recordFile;
  const t0 = performance.now();
  const result = await runOffline({
    project: "nodepoint",
    stack,
    config: {},
    secretKeys: [],
    loadProgram: () => import(join(process.cwd(), SDK_FLOOR_PROGRAM)),
  });
  const ms = performance.now() - t0;
  return { ms, resources: sameRegistrations(records, result.resources) };
}

/** The SDK's floor through `cmd/run`, started as the program is (Pulumi.yaml's runtime options). */
async function floorRuntime(stack: string, recordFile: string) {
  const records = JSON.parse(readFileSync(recordFile, "utf8")) as RecordedResource[];
  const run = await runStack({
    root: process.cwd(),
    stack,
    dryRun: false,
    program: SDK_FLOOR_PROGRAM,
    create: realisticCreate,
    // No ssh-agent: the floor runs no installer.
    env: { [SDK_FLOOR_RECORD_VARIABLE]: recordFile, SSH_AUTH_SOCK: "" },
  });
  if (run.exitCode !== 0) throw new Error(`cmd/run exited ${run.exitCode}:\n${run.stderr.slice(-4000)}`);
  return { ms: run.elapsedMs, resources: sameRegistrations(records, run.engine.resources) };
}

/**
 * The targeted set when one customer (the first generated file) changes plan: the program's record
 * of `customersDir` (its offline plan) is the desired state before, this process plans the changed
 * copy (a module is evaluated once per process: one plan per process).
 */
async function targets(stack: string, customersDir: string, recordFile: string) {
  const scratch = mkdtempSync(join(tmpdir(), "bench-targets-"));
  try {
    const changed = join(scratch, "customers");
    cpSync(customersDir, changed, { recursive: true });
    const file = readdirSync(changed).sort()[0]!;
    const text = readFileSync(join(changed, file), "utf8");
    writeFileSync(
      join(changed, file),
      /plan: premium/.test(text)
        ? text.replace("plan: premium", "plan: standard")
        : text.replace(/plan: \w+/, "plan: premium"),
    );
    const before = JSON.parse(readFileSync(recordFile, "utf8")) as RecordedResource[];
    const t0 = performance.now();
    const after = await runPlan({ stack, root: process.cwd(), customersDir: changed });
    const scope = deployScope(before, after.resources, [`customers/${file}`, desiredStateFile(stack)]);
    if (scope.mode !== "targeted") throw new Error(`a one-customer change deploys the whole stack: ${scope.reason}`);
    return { ms: performance.now() - t0, resources: after.resources.length, targets: scope.targets.length };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main() {
  const [mode, stack = "bench", a = "", b = ""] = process.argv.slice(2);
  const result =
    mode === "program"
      ? await program(stack, a, b)
      : mode === "runtime"
        ? await runtime(stack, a)
        : mode === "targets"
          ? await targets(stack, a, b)
          : mode === "floor"
            ? await floor(stack, a)
            : mode === "floorRuntime"
              ? await floorRuntime(stack, a)
              : await baseline(stack, a);
  clearInterval(timer);
  sample();
  console.log(
    JSON.stringify({ ...result, peakHeapMiB: MiB(peak), peakRssMiB: MiB(process.resourceUsage().maxRSS * 1024) }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
