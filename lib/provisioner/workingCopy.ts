/**
 * The provisioner's own clone of the project (`<stateDir>/repo`): reads the customer files at a
 * commit, writes the files an event changes, regenerates the committed desired state with the
 * clone's own `npm run plan` (so the commit passes the stale check of CI and the reviewer sees the
 * plan's diff), commits and pushes. Only the worker uses it, one step at a time.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  appendFileSync,
} from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { desiredStateFile, stackFileName } from "../config/stackFile";
import { stackConfigOf, projectStacks } from "../config/stacks";
import { topologyOf } from "../config/topology";
import { customerFileText, editCustomerText } from "../customers/customerChanges";
import { CUSTOMER_JSON_SCHEMA_PATH } from "../customers/jsonSchema";
import { CUSTOMER_FILE, parseCustomerText, type ParsedCustomerFile } from "../customers/loadCustomers";
import { baselineOf } from "../customers/baseline";
import { retireInStackText } from "../customers/retired";
import { validateCustomers } from "../customers/validateCustomers";
import { InvalidInputError, type InputProblem } from "../errors";
import type { Effect } from "./effects";
import { EVENT_TRAILER } from "./events";
import { Git, GitError } from "./git";
import type { Base } from "./ledger";

export interface WorkingCopyOptions {
  /** Where the clone lives. */
  dir: string;
  /** The remote (path or URL). */
  remote: string;
  stack: string;
  /** The zone of new sites; default: the stack's only zone. */
  zone?: string;
  /** The provisioner's own project root: its node_modules serve a clone with the same lock file. */
  ownRoot: string;
  /** Environment for git (see gitEnv) and for npm / the plan (secrets removed). */
  gitEnv: NodeJS.ProcessEnv;
  childEnv: NodeJS.ProcessEnv;
  author: { name: string; email: string };
  log: (msg: string) => void;
}

export type PushResult = { ok: true } | { ok: false; rejected: boolean; message: string };

export class WorkingCopy {
  readonly git: Git;
  /** Parsed customer files by `path\0blob`, so an unchanged file is never parsed twice. */
  private parsed = new Map<string, { file?: ParsedCustomerFile; problems: InputProblem[] }>();

  constructor(private readonly options: WorkingCopyOptions) {
    this.git = new Git(options.dir, options.gitEnv);
  }

  get dir(): string {
    return this.options.dir;
  }

  /** The stack file, relative to the project (removals retire IDs in it). */
  get stackFile(): string {
    return stackFileName(this.options.stack);
  }

  /** Clones the remote when there is no clone yet; keeps the clone's origin pointing at the remote. */
  async ensure(): Promise<void> {
    const { dir, remote } = this.options;
    if (!existsSync(join(dir, ".git"))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dirname(dir), { recursive: true });
      await this.git.run(["clone", "--quiet", "--no-checkout", remote, dir], { cwd: dirname(dir) });
    } else {
      await this.git.run(["remote", "set-url", "origin", remote]);
    }
    // The clone's node_modules may be a symlink, which .gitignore's `node_modules/` does not match.
    const exclude = join(dir, ".git", "info", "exclude");
    mkdirSync(dirname(exclude), { recursive: true });
    if (!existsSync(exclude) || !readFileSync(exclude, "utf8").includes("/node_modules\n"))
      appendFileSync(exclude, "/node_modules\n/.plan-out/\n");
  }

  /** Fetches the given branches of the remote into `refs/remotes/origin/*`; a missing one is skipped. */
  async fetch(branches: readonly string[]): Promise<void> {
    const refspecs = branches.map((b) => `+refs/heads/${b}:refs/remotes/origin/${b}`);
    const r = await this.git.run(["fetch", "--quiet", "--prune", "origin", ...refspecs], { allowFailure: true });
    if (r.code === 0) return;
    // One missing branch (no proposal branch yet) fails the whole fetch: fetch the others alone.
    for (const spec of refspecs) {
      const one = await this.git.run(["fetch", "--quiet", "origin", spec], { allowFailure: true });
      if (one.code !== 0 && !/couldn't find remote ref/i.test(one.stderr))
        throw new GitError(["fetch", "origin", spec], one);
      if (one.code !== 0)
        await this.git.run(["update-ref", "-d", spec.slice(spec.indexOf(":") + 1)], { allowFailure: true });
    }
  }

  remoteHead(branch: string): Promise<string | undefined> {
    return this.git.revParse(`refs/remotes/origin/${branch}`);
  }

  /** Puts the working tree at `commit` (a local branch `provisioner-work`), nothing left over. */
  async checkout(commit: string): Promise<void> {
    await this.git.run(["checkout", "--quiet", "--force", "-B", "provisioner-work", commit]);
    await this.git.run(["clean", "-fdq", "-e", "/node_modules"]);
  }

  /**
   * The customer files and stack config at `commit` (which must be checked out), validated as the
   * program validates them. Problems are returned, not thrown: the branch may be broken by hand.
   */
  async loadBase(commit: string): Promise<Base> {
    const root = this.options.dir;
    const config = stackConfigOf(this.options.stack, root);
    const topology = topologyOf(config);
    const { files, problems } = await this.customerFilesAt(commit, config.customersDir);
    // The committed desired state is the baseline the replacement guard compares with, as in the program.
    const desiredFile = desiredStateFile(this.options.stack);
    const desired = join(root, desiredFile);
    const read = existsSync(desired) ? baselineOf(readFileSync(desired, "utf8"), desiredFile) : { problems: [] };
    const checked = validateCustomers(config, topology, files, read.baseline, stackFileName(this.options.stack));
    const takenElsewhere = new Set<string>();
    for (const stack of projectStacks(root)) {
      if (stack === this.options.stack) continue;
      let dir: string;
      try {
        dir = stackConfigOf(stack, root).customersDir;
      } catch {
        continue; // another stack's config problems are that stack's business
      }
      for (const f of (await this.customerFilesAt(commit, dir)).files) takenElsewhere.add(f.data.domain.toLowerCase());
    }
    return {
      commit,
      config,
      topology,
      files,
      problems: [...problems, ...read.problems, ...checked.problems],
      takenElsewhere,
      zone: this.zoneOf(Object.keys(config.cloudflare.zones)),
    };
  }

  private zoneOf(zones: string[]): string {
    const zone = this.options.zone ?? (zones.length === 1 ? zones[0] : undefined);
    if (!zone)
      throw new InvalidInputError([
        {
          file: stackFileName(this.options.stack),
          field: "nodepoint:cloudflare.zones",
          message: `the stack has several zones (${zones.join(", ")}): set PROVISIONER_ZONE to the one new sites get their domain in`,
        },
      ]);
    if (!zones.includes(zone))
      throw new InvalidInputError([
        {
          file: "PROVISIONER_ZONE",
          field: "(environment)",
          message: `${zone} is not a Cloudflare zone of stack ${this.options.stack} (${zones.join(", ")})`,
        },
      ]);
    return zone;
  }

  /** Customer files directly inside `dir` at `commit`, parsed (from git's objects, cached by blob). */
  private async customerFilesAt(
    commit: string,
    dir: string,
  ): Promise<{ files: ParsedCustomerFile[]; problems: InputProblem[] }> {
    const prefix = `${posix.normalize(dir.replaceAll("\\", "/")).replace(/\/+$/, "")}/`;
    const listing = await this.git.text(["ls-tree", commit, "--", prefix]);
    const entries = listing
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [meta = "", path = ""] = line.split("\t");
        const [, type, blob] = meta.split(" ");
        return { type, blob: blob ?? "", path, name: posix.basename(path) };
      })
      .filter((e) => e.type === "blob" && CUSTOMER_FILE.test(e.name))
      .sort((a, b) => a.name.localeCompare(b.name));
    const missing = entries.filter((e) => !this.parsed.has(`${e.path}\0${e.blob}`));
    const texts = await this.git.blobs(missing.map((e) => e.blob));
    for (const e of missing)
      this.parsed.set(`${e.path}\0${e.blob}`, parseCustomerText(texts.get(e.blob) ?? "", e.name, e.path));
    const files: ParsedCustomerFile[] = [];
    const problems: InputProblem[] = [];
    for (const e of entries) {
      const p = this.parsed.get(`${e.path}\0${e.blob}`)!;
      if (p.file) files.push(p.file);
      problems.push(...p.problems);
    }
    return { files, problems };
  }

  /** Writes what an effect does to the working tree. */
  writeEffect(effect: Effect): void {
    if (effect.kind !== "write" && effect.kind !== "remove") return;
    const path = join(this.options.dir, effect.file);
    if (effect.kind === "remove") {
      if (existsSync(path)) unlinkSync(path);
      // Its VMID and IP are retired in the same commit (lib/customers/retired.ts), as customer remove does.
      const stack = join(this.options.dir, this.stackFile);
      writeFileSync(stack, retireInStackText(readFileSync(stack, "utf8"), effect.retire));
      return;
    }
    if (effect.created || !existsSync(path)) {
      const schemaRef = posix.relative(posix.dirname(effect.file), CUSTOMER_JSON_SCHEMA_PATH);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, customerFileText(effect.data, schemaRef));
    } else {
      writeFileSync(path, editCustomerText(readFileSync(path, "utf8"), effect.data));
    }
  }

  /** `desired-state/<stack>.json` when the project commits it (prod does), else undefined. */
  async desiredStateFile(): Promise<string | undefined> {
    const file = desiredStateFile(this.options.stack);
    const r = await this.git.run(["ls-files", "--error-unmatch", "--", file], { allowFailure: true });
    return r.code === 0 ? file : undefined;
  }

  /** Regenerates the committed desired state with the clone's own program (`npm run plan -- --json`). */
  async regenerateDesiredState(file: string): Promise<void> {
    await this.ensureDependencies();
    await this.runChecked("npm", ["run", "--silent", "plan", "--", "--stack", this.options.stack, "--json", file]);
  }

  /**
   * The clone needs the project's dependencies to run its plan. With the same lock file as the
   * running provisioner, its node_modules serve (a symlink); otherwise `npm ci` in the clone.
   */
  private async ensureDependencies(): Promise<void> {
    const { dir, ownRoot } = this.options;
    const hash = (p: string) => (existsSync(p) ? createHash("sha256").update(readFileSync(p)).digest("hex") : "");
    const lock = hash(join(dir, "package-lock.json"));
    const modules = join(dir, "node_modules");
    const isLink = existsSync(modules) && lstatSync(modules).isSymbolicLink();
    if (lock !== "" && lock === hash(join(ownRoot, "package-lock.json"))) {
      if (!isLink) {
        rmSync(modules, { recursive: true, force: true });
        symlinkSync(relative(dir, join(ownRoot, "node_modules")) || join(ownRoot, "node_modules"), modules, "dir");
      }
      return;
    }
    if (isLink) unlinkSync(modules);
    const marker = join(modules, ".provisioner-lock-sha256");
    if (existsSync(marker) && readFileSync(marker, "utf8") === lock) return;
    this.options.log(`package-lock.json differs from the provisioner's: npm ci in ${dir}`);
    await this.runChecked("npm", ["ci", "--no-audit", "--no-fund"]);
    writeFileSync(marker, lock);
  }

  private runChecked(command: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: this.options.dir,
        env: this.options.childEnv,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const output: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => output.push(d));
      child.stderr.on("data", (d: Buffer) => output.push(d));
      child.on("error", reject);
      child.on("close", (code) => {
        if (code === 0) resolve();
        else {
          const tail = Buffer.concat(output).toString("utf8").trim().split("\n").slice(-15).join("\n");
          reject(new Error(`${command} ${args.join(" ")} failed (${code}) in the working copy:\n${tail}`));
        }
      });
    });
  }

  /** Stages the customer directory and the desired state, commits; returns the commit, or undefined when nothing changed. */
  async commit(paths: readonly string[], message: string): Promise<string | undefined> {
    await this.git.run(["add", "--all", "--", ...paths]);
    const staged = await this.git.run(["diff", "--cached", "--quiet"], { allowFailure: true });
    if (staged.code === 0) return undefined;
    const { name, email } = this.options.author;
    await this.git.run(
      ["-c", `user.name=${name}`, "-c", `user.email=${email}`, "commit", "--quiet", "--no-verify", "-F", "-"],
      {
        input: message,
      },
    );
    return this.git.text(["rev-parse", "HEAD"]);
  }

  /** Pushes HEAD to `branch`; `expect` turns it into a forced push that only replaces that commit (or creates the branch). */
  async push(branch: string, expect?: { old: string | undefined }): Promise<PushResult> {
    const args = ["push", "--porcelain", "origin", `HEAD:refs/heads/${branch}`];
    if (expect) args.splice(2, 0, `--force-with-lease=refs/heads/${branch}:${expect.old ?? ""}`);
    const r = await this.git.run(args, { allowFailure: true });
    if (r.code === 0) return { ok: true };
    const text = `${r.stdout}\n${r.stderr}`;
    // "[rejected]" (non-fast-forward, fetch first, stale info) or a ref the remote could not lock at
    // the old value: the branch moved, so apply again on its new head. Any other "[remote rejected]"
    // (a hook, branch protection) is not a race: it is reported.
    const rejected =
      /\[rejected\]/.test(text) || /cannot lock ref|failed to update ref|incorrect old value|stale info/i.test(text);
    return { ok: false, rejected, message: text.trim().split("\n").slice(-4).join(" / ") };
  }

  /** Event ids named in the trailers of the commits in `range` (e.g. `old..new`), with the commit each is in. */
  async eventIdsIn(range: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (range.length === 0) return out;
    const log = await this.git.text([
      "log",
      `--format=%H%x1f%(trailers:key=${EVENT_TRAILER},valueonly,separator=%x1e)%x1d`,
      ...range,
    ]);
    for (const entry of log.split("\x1d")) {
      const [commit, ids] = entry.trim().split("\x1f");
      if (!commit || !ids) continue;
      for (const id of ids.split("\x1e")) if (id.trim()) out.set(id.trim(), commit);
    }
    return out;
  }

  /** Whether `ancestor` is an ancestor of (or equal to) `commit`. */
  async isAncestor(ancestor: string, commit: string): Promise<boolean> {
    return (await this.git.run(["merge-base", "--is-ancestor", ancestor, commit], { allowFailure: true })).code === 0;
  }
}
