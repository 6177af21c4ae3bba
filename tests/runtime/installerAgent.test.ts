/**
 * `pulumi up` checks, before anything is declared, that the ssh-agent at SSH_AUTH_SOCK holds the
 * installer key (lib/ssh/installerAgent.ts): against real ssh-agents started here, then the whole
 * program through cmd/run. A preview connects to nothing and needs no agent.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INSTALLER_SSH_KEY } from "../../lib/config/secrets";
import { runStack, type StackRunResult } from "../../lib/runtimePath/languageHost";
import { installerAgentProblem, listedKeyBlobs } from "../../lib/ssh/installerAgent";
import { installerPublicKey, throwawayInstallerKey } from "../../lib/ssh/installerKey";
import { startSshAgent, type SshAgent } from "../../lib/ssh/sshAgent";
import { fixtureProject } from "../helpers/fixtureProject";
import { REAL_RUN_CONFIG } from "../helpers/offlinePlan";

const NO_LIMIT = 0;
const key = throwawayInstallerKey();
const other = throwawayInstallerKey();
const agents: SshAgent[] = [];
const agentWith = async (...keys: string[]) => {
  const agent = await startSshAgent(keys);
  agents.push(agent);
  return agent;
};
afterAll(async () => {
  for (const agent of agents) await agent.stop();
});

describe("the installer key in the ssh-agent", () => {
  const publicKey = installerPublicKey(key);

  test("an agent holding it (among others) passes", async () => {
    const agent = await agentWith(other, key);
    expect(installerAgentProblem(publicKey, { SSH_AUTH_SOCK: agent.socket })).toBeUndefined();
  });

  test.each([
    ["an empty agent", async () => (await agentWith()).socket, "does not hold the installer key"],
    ["an agent with another key", async () => (await agentWith(other)).socket, "does not hold the installer key"],
    ["no SSH_AUTH_SOCK", async () => "", "SSH_AUTH_SOCK is not set"],
    ["a socket no agent listens on", async () => "/nonexistent/agent.sock", "no ssh-agent answers"],
  ])("%s: the named error, with the command that loads the key", async (_what, socket, reason) => {
    const problem = installerAgentProblem(publicKey, { SSH_AUTH_SOCK: await socket() });
    expect(problem).toContain(reason);
    expect(problem).toContain(INSTALLER_SSH_KEY);
    expect(problem).toContain(`pulumi config get ${INSTALLER_SSH_KEY} | ssh-add -t 2h -`);
  });

  test("ssh-add -L's lines give their key blobs", () => {
    expect(listedKeyBlobs(`ssh-ed25519 AAAA1 a@b\nssh-rsa AAAA2\n\necdsa-sha2-nistp256 AAAA3 x y\n`)).toEqual([
      "AAAA1",
      "AAAA2",
      "AAAA3",
    ]);
    expect(listedKeyBlobs("The agent has no identities.\n")).toEqual([]);
  });
});

describe("pulumi up without the installer key in an agent", () => {
  let project: ReturnType<typeof fixtureProject> | undefined;
  let up: StackRunResult;
  let preview: StackRunResult;
  beforeAll(async () => {
    project = fixtureProject();
    const run = (dryRun: boolean) =>
      runStack({
        root: project!.root,
        stack: "prod",
        dryRun,
        configOverrides: { "nodepoint:customersDir": "tests/fixtures/customers", ...REAL_RUN_CONFIG },
        env: { SSH_AUTH_SOCK: "" },
      });
    [up, preview] = [await run(false), await run(true)];
  }, NO_LIMIT);
  afterAll(() => project?.cleanup());

  test("fails naming nodepoint:installerSshKey and declares nothing", () => {
    expect(up.exitCode, up.stderr).toBe(32);
    const errors = up.engine.logs
      .filter((l) => l.severity === "error")
      .map((l) => l.message)
      .join("\n");
    expect(errors).toContain(`Pulumi.prod.yaml: ${INSTALLER_SSH_KEY}: no ssh-agent (SSH_AUTH_SOCK is not set)`);
    expect(errors).toContain(`pulumi config get ${INSTALLER_SSH_KEY} | ssh-add -t 2h -`);
    expect(errors).toContain("Nothing was declared.");
    expect(up.engine.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  test("a preview connects to nothing: it needs no agent", () => {
    expect(preview.exitCode, preview.stderr).toBe(0);
  });
});
