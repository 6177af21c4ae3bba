/**
 * One benchmark measurement in a fresh process (fresh heap): the real program's offline plan, or
 * the baseline that registers the same custom resources with the same inputs straight through the
 * SDK's stock mocks (no components, no config parsing, no validation).
 *
 *   tsx scripts/benchWorker.ts program  <stack> <customersDir> <recordFile>
 *   tsx scripts/benchWorker.ts baseline <stack> <recordFile>
 * Prints one JSON line: { ms, peakHeapMiB, resources, invokes, depth? }.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { graphDepth } from "../lib/bench/graph";
import type { RecordedResource } from "../lib/plan/offlineRuntime";
import { runPlan } from "../lib/plan/runPlan";

let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
};
const timer = setInterval(sample, 2);

async function program(stack: string, customersDir: string, recordFile: string) {
  const t0 = performance.now();
  const result = await runPlan({ stack, root: process.cwd(), customersDir });
  const ms = performance.now() - t0;
  sample();
  writeFileSync(
    recordFile,
    JSON.stringify(result.resources.map((r) => ({ type: r.type, name: r.name, custom: r.custom, inputs: r.inputs }))),
  );
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

async function main() {
  const [mode, stack = "bench", a = "", b = ""] = process.argv.slice(2);
  const result = mode === "program" ? await program(stack, a, b) : await baseline(stack, a);
  clearInterval(timer);
  sample();
  console.log(JSON.stringify({ ...result, peakHeapMiB: Math.round((peak / 1024 / 1024) * 10) / 10 }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
