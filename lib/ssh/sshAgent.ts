/**
 * A private ssh-agent holding given keys, for runs that stand in for the deploy runner (whose
 * workflow step loads the installer key the same way: .github/workflows/deploy.yml): the
 * runtime-path harness and the bench's `pulumi up` through cmd/run, and the agent check's tests.
 * The agent runs in the foreground as this process's child (`ssh-agent -D -a SOCKET`), on a socket
 * in a new private directory; keys go to `ssh-add -` on stdin, never on a command line.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SshAgent {
  /** SSH_AUTH_SOCK for the processes that use it. */
  socket: string;
  /** Adds a private key (OpenSSH text) to the agent. */
  add(privateKey: string): void;
  /** Stops the agent and removes its socket's directory. */
  stop(): Promise<void>;
}

/** Starts an agent holding `keys`; resolves once it answers on its socket. */
export async function startSshAgent(keys: readonly string[] = []): Promise<SshAgent> {
  const dir = mkdtempSync(join(tmpdir(), "nodepoint-agent-"));
  const socket = join(dir, "agent.sock");
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`ssh-agent exited (${code}): ${stderr.trim()}`)));
      const poll = () => (existsSync(socket) ? resolve() : setTimeout(poll, 10));
      poll();
    });
    const add = (privateKey: string) => {
      const added = spawnSync("ssh-add", ["-q", "-"], {
        input: privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SSH_AUTH_SOCK: socket },
        encoding: "utf8",
      });
      if (added.status !== 0)
        throw new Error(`ssh-add refused the key: ${(added.stderr || String(added.error)).trim()}`);
    };
    for (const key of keys) add(key);
    return { socket, add, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
