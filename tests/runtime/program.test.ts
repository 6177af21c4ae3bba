/**
 * The program on the path `pulumi preview` / `pulumi up` take: index.ts run by the SDK's
 * language-host entrypoint (`cmd/run`, TypeScript loader, config from the environment) against a
 * gRPC engine, compared with the in-process offline plan that `npm run plan` and the committed
 * desired state come from.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sanitizeWireValue, type OfflineRunResult } from "../../lib/plan/offlineRuntime";
import { planDocument, type PlanDocument } from "../../lib/plan/planJson";
import { plainWireValue } from "../../lib/runtimePath/dynamicProviderHost";
import { engineUrnOf, startFakeEngine } from "../../lib/runtimePath/fakeEngine";
import {
  nodeRuntimeOptions,
  projectRuntimeOptions,
  pulumiConfigEnv,
  runProgram,
  runStack,
  type StackRunResult,
} from "../../lib/runtimePath/languageHost";
import { SDK_DEBUG_LOGS_VARIABLE } from "../../lib/sdkDebugLogs";
import { fixtureProject } from "../helpers/fixtureProject";
import {
  FIXTURE_CUSTOMERS,
  INSTALLER_PUBLIC_KEY,
  offlinePlan,
  REAL_RUN_CONFIG,
  REAL_RUN_VALUES,
} from "../helpers/offlinePlan";

/** No time limit: each run loads and transpiles the whole program, and the machine is shared. */
const NO_LIMIT = 0;

/** Every leaf where two JSON values differ, as `path: left != right`. */
function differences(left: unknown, right: unknown, path = ""): string[] {
  if (left && right && typeof left === "object" && typeof right === "object") {
    const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
    return [...keys].flatMap((k) =>
      differences((left as Record<string, unknown>)[k], (right as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return JSON.stringify(left) === JSON.stringify(right)
    ? []
    : [`${path}: ${JSON.stringify(left)} != ${JSON.stringify(right)}`];
}

/** Differences between two plan documents, resource by resource (by URN). */
function planDifferences(runtime: PlanDocument, offline: PlanDocument): string[] {
  const byUrn = new Map(offline.resources.map((r) => [r.urn, r]));
  const extra = runtime.resources.filter((r) => !byUrn.has(r.urn)).map((r) => `only through cmd/run: ${r.urn}`);
  const runtimeUrns = new Set(runtime.resources.map((r) => r.urn));
  const missing = offline.resources.filter((r) => !runtimeUrns.has(r.urn)).map((r) => `only offline: ${r.urn}`);
  const changed = runtime.resources.flatMap((r) => {
    const o = byUrn.get(r.urn);
    return o ? differences(r, o).map((d) => `${r.name}${d}`) : [];
  });
  return [...extra, ...missing, ...changed];
}

let offline: OfflineRunResult;
let preview: StackRunResult;
let update: StackRunResult;
let project: ReturnType<typeof fixtureProject> | undefined;
beforeAll(async () => {
  offline = await offlinePlan({ set: REAL_RUN_VALUES });
  // The test fixtures, as the offline plan uses them, in a copy of the project whose desired state
  // is theirs: never the project's own customers/ (the program reads desired-state/ where it runs).
  // A run under the engine refuses the stack file's stand-in IP and zone ID: real-looking ones, on both sides.
  project = fixtureProject();
  const fixtures = { "nodepoint:customersDir": "tests/fixtures/customers", ...REAL_RUN_CONFIG };
  preview = await runStack({ root: project.root, stack: "prod", dryRun: true, configOverrides: fixtures });
  update = await runStack({ root: project.root, stack: "prod", dryRun: false, configOverrides: fixtures });
}, NO_LIMIT);
afterAll(() => project?.cleanup());

describe("index.ts through cmd/run against a gRPC engine", () => {
  test("both runs exit 0 and log no warning or error", () => {
    for (const run of [preview, update]) {
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.engine.logs.filter((l) => l.severity === "error" || l.severity === "warning")).toEqual([]);
    }
  });

  test("pulumi up: registers exactly what the offline plan reports (resources, inputs, options)", () => {
    const runtime = planDocument("prod", update.engine.resources);
    expect(runtime.resources.length).toBe(offline.resources.length);
    expect(planDifferences(runtime, planDocument("prod", offline.resources))).toEqual([]);
  });

  test("pulumi up: the stack outputs are the offline plan's", () => {
    const outputs = sanitizeWireValue(update.engine.stackOutputs) as Record<string, unknown>;
    expect(differences(outputs, offline.outputs)).toEqual([]);
  });

  test("pulumi preview: the same, except values derived from outputs not created yet, which are unknown", () => {
    const runtime = planDocument("prod", preview.engine.resources);
    const found = planDifferences(runtime, planDocument("prod", offline.resources));
    // A first preview cannot know a RandomPassword's result: inputs built from it are unknown (not
    // secret strings) on the real path, where the offline plan shows what they will be. Both tokens
    // and the installer key come from the stack config, so the providers' and installers' inputs are known.
    const expected = [
      ...["acme-bakery", "nordlicht", "studio-kern"].flatMap((slug) => [
        `${slug}-ct.inputs.initialization.userAccount.password: "[unknown]" != "[secret]"`,
        `${slug}-wordpress.inputs.stdin: "[unknown]" != "[secret]"`,
      ]),
    ];
    expect(found.sort()).toEqual(expected.sort());
  });

  test("the installer logs in through the ssh-agent (no key, no password stored); the create command also serves updates", () => {
    for (const slug of ["acme-bakery", "nordlicht", "studio-kern"]) {
      const urn = update.engine.resources.find((r) => r.name === `${slug}-wordpress`)!.urn;
      const inputs = plainWireValue(update.engine.inputsOf(urn)) as Record<string, any>;
      expect(inputs["connection"]).toEqual({
        host: expect.stringMatching(/^192\.168\.1\.\d+$/),
        user: "root",
        port: 22,
        dialErrorLimit: 20,
        perDialTimeout: 15, // the SDK's default, filled in by @pulumi/command
      });
      expect(inputs["update"]).toBeUndefined();
      const ct = update.engine.resources.find((r) => r.name === `${slug}-ct`)!.urn;
      const account = (plainWireValue(update.engine.inputsOf(ct)) as any).initialization.userAccount;
      expect(account.keys).toEqual([INSTALLER_PUBLIC_KEY]);
    }
  });

  test("the source positions of the sites' resources reach the engine (they are declared with the stack depth at 0)", () => {
    for (const run of [preview, update]) {
      const ofSites = run.engine.resources.filter((r) => r.custom && r.parent.includes("WordPressSite"));
      expect(ofSites.length).toBeGreaterThan(20);
      for (const r of ofSites)
        expect(run.engine.sourcePositionOf(r.urn), r.urn).toMatch(/\/components\/WordPressSite\.ts#\d+,\d+$/);
    }
  });

  test("the SDK's debug lines about the program's resources (three each, sent one at a time) do not reach the engine", () => {
    // Only those sent before index.ts runs: the TypeScript loader's and the root stack's registration.
    for (const run of [preview, update]) {
      const debug = run.engine.logs.filter((l) => l.severity === "debug");
      expect(debug.filter((l) => / t=(?!pulumi:pulumi:Stack,)/.test(l.message))).toEqual([]);
      expect(debug.length).toBeLessThan(10);
    }
  });

  test(
    `with ${SDK_DEBUG_LOGS_VARIABLE} set, the SDK's debug lines reach the engine as the SDK sends them`,
    async () => {
      const fixtures = { "nodepoint:customersDir": "tests/fixtures/customers", ...REAL_RUN_CONFIG };
      const traced = await runStack({
        root: project!.root,
        stack: "prod",
        dryRun: true,
        configOverrides: fixtures,
        env: { [SDK_DEBUG_LOGS_VARIABLE]: "1" },
      });
      expect(traced.exitCode, traced.stderr).toBe(0);
      const registering = traced.engine.logs.filter(
        (l) => l.severity === "debug" && l.message.startsWith("Registering resource:"),
      );
      expect(registering).toHaveLength(traced.engine.resources.length);
    },
    NO_LIMIT,
  );

  test("no provider function call (data source) is made", () => {
    expect(preview.engine.invokes).toBe(0);
    expect(update.engine.invokes).toBe(0);
  });
});

describe("input errors under the CLI", () => {
  test(
    "a bad customer file prints as one clean message (no stack frames, no object dump) and declares nothing",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "customers-"));
      try {
        cpSync(FIXTURE_CUSTOMERS, dir, { recursive: true });
        const file = join(dir, "nordlicht.yaml");
        writeFileSync(file, readFileSync(file, "utf8").replace(/^plan: .*$/m, "plan: platinum"));

        const run = await runStack({
          root: project!.root,
          stack: "prod",
          dryRun: true,
          configOverrides: { "nodepoint:customersDir": dir, ...REAL_RUN_CONFIG },
        });

        expect(run.exitCode).toBe(32); // "already reported": the CLI adds nothing
        const errors = run.engine.logs.filter((l) => l.severity === "error");
        expect(errors).toHaveLength(1);
        const message = errors[0]!.message;
        expect(message).toMatch(/^1 input problem:\n {2}- .*nordlicht\.yaml: plan: .*\nNothing was declared\.$/);
        expect(message).not.toMatch(/\n\s+at |problems: \[|Running program/);
        expect(message).not.toContain("\u001b["); // no colour codes
        expect(run.engine.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    NO_LIMIT,
  );
});

describe("the harness's own rules", () => {
  test("config keys reach the program as namespace:config:key, values as text", () => {
    expect(JSON.parse(pulumiConfigEnv({ "nodepoint:npm": '{"a":1}', "proxmoxve:apiToken": "t" }))).toEqual({
      "nodepoint:config:npm": '{"a":1}',
      "proxmoxve:config:apiToken": "t",
    });
    expect(() => pulumiConfigEnv({ plain: "x" })).toThrow("config key plain has no namespace");
  });

  test("Pulumi.yaml's runtime options as the language host reads them: typescript, tsconfig, nodeargs", () => {
    expect(nodeRuntimeOptions("name: p\nruntime: nodejs\n")).toEqual({ typescript: true, nodeArgs: [] });
    expect(
      nodeRuntimeOptions(
        "runtime:\n  name: nodejs\n  options:\n    typescript: false\n    tsconfig: t.json\n    nodeargs: ' --a=1   --b '\n",
      ),
    ).toEqual({ typescript: false, tsconfig: "t.json", nodeArgs: ["--a=1", "--b"] });
    expect(() => nodeRuntimeOptions("runtime:\n  options:\n    typescript: 'yes'\n")).toThrow(
      "typescript must be a boolean",
    );
    expect(() => nodeRuntimeOptions("runtime:\n  options:\n    nodeargs: [a]\n")).toThrow("nodeargs must be a string");
    expect(() => nodeRuntimeOptions("runtime:\n  options:\n    nodeargs: --x='a b'\n")).toThrow("quotes");
    // This project: transpiled only (npm test type-checks it), a larger young generation, Node's compile cache.
    expect(projectRuntimeOptions(".")).toEqual({
      typescript: true,
      tsconfig: "tsconfig.pulumi.json",
      nodeArgs: ["--max-semi-space-size=256", "--require", "./lib/nodeCompileCache.cjs"],
    });
    const pulumiTsconfig = JSON.parse(readFileSync("tsconfig.pulumi.json", "utf8")) as Record<string, unknown>;
    expect(pulumiTsconfig).toEqual({ extends: "./tsconfig.json", compilerOptions: { noCheck: true } });
  });

  test(
    "the runtime options reach the program's process: nodeargs go to node, tsconfig to the SDK's TypeScript loader",
    async () => {
      const engine = await startFakeEngine({ project: "nodepoint", stack: "prod", dryRun: true });
      try {
        const run = (runtimeOptions: Parameters<typeof runProgram>[0]["runtimeOptions"]) =>
          runProgram({
            root: project!.root,
            project: "nodepoint",
            stack: "prod",
            config: {},
            secretKeys: [],
            dryRun: true,
            engineAddress: engine.address,
            ...(runtimeOptions ? { runtimeOptions } : {}),
          });
        const preload = await run({ typescript: true, nodeArgs: ["--require", "./no-such-preload.cjs"] });
        expect(preload.exitCode).not.toBe(0);
        expect(preload.stderr).toContain("no-such-preload.cjs");
        const tsconfig = await run({ typescript: true, tsconfig: "no-such-tsconfig.json", nodeArgs: [] });
        expect(tsconfig.exitCode).not.toBe(0);
        expect(`${tsconfig.stderr}\n${engine.logs.map((l) => l.message).join("\n")}`).toContain(
          "tsconfig path was set to no-such-tsconfig.json but the file was not found",
        );
      } finally {
        await engine.close();
      }
    },
    NO_LIMIT,
  );

  test("URNs: plain type under the stack, the parent's type chain under a component", () => {
    const stack = engineUrnOf("prod", "p", "", "pulumi:pulumi:Stack", "p-prod");
    expect(stack).toBe("urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod");
    const site = engineUrnOf("prod", "p", stack, "x:y:Site", "a");
    expect(site).toBe("urn:pulumi:prod::p::x:y:Site::a");
    const child = engineUrnOf("prod", "p", site, "random:index/randomPassword:RandomPassword", "a-pw");
    expect(child).toBe("urn:pulumi:prod::p::x:y:Site$random:index/randomPassword:RandomPassword::a-pw");
    expect(engineUrnOf("prod", "p", child, "t:m:T", "b")).toBe(
      "urn:pulumi:prod::p::x:y:Site$random:index/randomPassword:RandomPassword$t:m:T::b",
    );
  });
});
