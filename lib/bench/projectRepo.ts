/**
 * A copy of this project as a fresh git repository (one commit), with customer files of one's
 * choosing: what the provisioner's tests and benchmark push to (served as a bare repository).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface ProjectRepoOptions {
  /** Replaces the customer files of customers/ (prod) with these (file name -> path to copy). */
  prodCustomers?: Record<string, string>;
  /** Fills a stack's customer directory (e.g. customers/bench) after the copy. */
  fill?: (dir: string) => void;
  /** Regenerate desired-state/prod.json for the copied customers (the copy then passes its stale check). */
  regenerate?: boolean;
}

/** Copies every tracked file of `root`'s working tree into `dest` and commits it on `main`. */
export function copyProjectRepo(root: string, dest: string, options: ProjectRepoOptions = {}): void {
  mkdirSync(dest, { recursive: true });
  const files = run("git", ["ls-files", "-z"], root).split("\0").filter(Boolean);
  for (const f of files) {
    if (options.prodCustomers && /^customers\/[^/]+\.ya?ml$/.test(f)) continue;
    try {
      mkdirSync(dirname(join(dest, f)), { recursive: true });
      cpSync(join(root, f), join(dest, f));
    } catch {
      // deleted in the working tree but still tracked: not part of the copy
    }
  }
  for (const [name, path] of Object.entries(options.prodCustomers ?? {})) cpSync(path, join(dest, "customers", name));
  options.fill?.(dest);
  symlinkSync(join(root, "node_modules"), join(dest, "node_modules"), "dir");
  // The committed desired state records the real customers, not the ones put in their place: it
  // is regenerated from them without it as baseline (a real customer missing is no removal here).
  if (options.regenerate) {
    if (options.prodCustomers) rmSync(join(dest, "desired-state", "prod.json"), { force: true });
    run("npm", ["run", "--silent", "plan", "--", "--json", "desired-state/prod.json"], dest);
  }
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=nodepoint", "-c", "user.email=nodepoint@example.org", ...args], dest);
  git("init", "--quiet", "-b", "main");
  writeFileSync(join(dest, ".git", "info", "exclude"), "/node_modules\n/.plan-out/\n");
  git("add", "--all");
  git("commit", "--quiet", "-m", "project");
}

/** A bare clone of `repo` at `bare` (the remote a provisioner is pointed at). */
export function bareCloneOf(repo: string, bare: string): void {
  rmSync(bare, { recursive: true, force: true });
  run("git", ["clone", "--quiet", "--bare", repo, bare], dirname(repo));
}

/** Names of the customer files (*.yaml) directly in a directory. */
export function customerFileNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".yaml"));
}
