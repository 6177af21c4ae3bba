/**
 * A thin runner for the git CLI: arguments as an array (no shell), an environment without the
 * provisioner's secrets, no prompts. An HTTPS token reaches git through a credential helper that
 * reads it from git's own environment, never from a command line.
 */
import { spawn } from "node:child_process";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: GitResult,
  ) {
    super(`git ${args.join(" ")} failed (${result.code}): ${result.stderr.trim().split("\n").slice(-3).join(" / ")}`);
    this.name = "GitError";
  }
}

/** Name of the variable the credential helper reads the token from (in git's environment only). */
const TOKEN_VAR = "NODEPOINT_GIT_TOKEN";

/**
 * The environment git runs with: `base` (already free of the provisioner's secrets), no terminal
 * prompt, a fixed locale (messages are parsed), and with a token a credential helper for HTTPS.
 */
export function gitEnv(base: NodeJS.ProcessEnv, httpsToken?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  if (httpsToken) {
    env[TOKEN_VAR] = httpsToken;
    env["GIT_CONFIG_COUNT"] = "2";
    env["GIT_CONFIG_KEY_0"] = "credential.helper";
    env["GIT_CONFIG_VALUE_0"] = "";
    env["GIT_CONFIG_KEY_1"] = "credential.helper";
    env["GIT_CONFIG_VALUE_1"] =
      `!f() { test "$1" = get && printf 'username=x-access-token\\npassword=%s\\n' "$${TOKEN_VAR}"; }; f`;
  }
  return env;
}

export class Git {
  constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Runs git; throws GitError on a non-zero exit unless `allowFailure`. */
  async run(
    args: string[],
    options: { input?: string; allowFailure?: boolean; cwd?: string } = {},
  ): Promise<GitResult> {
    const result = await new Promise<GitResult>((resolve, reject) => {
      const input = options.input;
      const child = spawn("git", args, {
        cwd: options.cwd ?? this.dir,
        env: this.env,
        stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on("data", (d: Buffer) => out.push(d));
      child.stderr!.on("data", (d: Buffer) => err.push(d));
      child.on("error", reject);
      child.on("close", (code) =>
        resolve({
          code: code ?? 1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
      if (input !== undefined) {
        child.stdin!.on("error", () => undefined); // git may exit without reading it; its exit code tells
        child.stdin!.end(input);
      }
    });
    if (result.code !== 0 && !options.allowFailure) throw new GitError(args, result);
    return result;
  }

  async text(args: string[]): Promise<string> {
    return (await this.run(args)).stdout.trim();
  }

  /** The commit a ref points at, or undefined. */
  async revParse(ref: string): Promise<string | undefined> {
    const r = await this.run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { allowFailure: true });
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  /** Contents of many blobs at once (`git cat-file --batch`), by object id. */
  async blobs(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn("git", ["cat-file", "--batch"], { cwd: this.dir, env: this.env });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => chunks.push(d));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`git cat-file exited ${code}`)),
      );
      child.stdin.on("error", () => undefined);
      child.stdin.end(ids.map((id) => `${id}\n`).join(""));
    });
    let at = 0;
    for (const id of ids) {
      const nl = raw.indexOf(0x0a, at);
      const header = raw.subarray(at, nl).toString("utf8").split(" ");
      const size = Number(header[2]);
      if (header[1] !== "blob" || !Number.isInteger(size))
        throw new Error(`git cat-file: unexpected answer for ${id}: ${header.join(" ")}`);
      out.set(id, raw.subarray(nl + 1, nl + 1 + size).toString("utf8"));
      at = nl + 1 + size + 1;
    }
    return out;
  }
}
