/**
 * The provisioner started as its own process (own process group, so a crash can take its git
 * children with it), for the tests and the benchmark: resolves once it listens.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export interface ProvisionerProcess {
  child: ChildProcess;
  /** Where it listens, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Everything it printed so far (pino JSON lines). */
  output(): string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
}

/** Runs `scripts/provisioner.ts` of `root` with `env` (PROVISIONER_*) added to this process's environment. */
export async function spawnProvisioner(root: string, env: Record<string, string>): Promise<ProvisionerProcess> {
  const child = spawn(join(root, "node_modules", ".bin", "tsx"), [join(root, "scripts", "provisioner.ts")], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => (out += d.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const m = /Server listening at (http:\/\/[\d.:[\]a-f]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`the provisioner exited (${code}) before listening:\n${out}`)));
  });
  return { child, url, output: () => out, exited };
}
