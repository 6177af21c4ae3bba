/**
 * Two pull requests that each add a customer from the same main take the same free VMID and IP:
 * each branch is valid alone, their merge is not. CI checks the merge result (pull-request.yml), so
 * the later one fails before it merges (README, "Review and delivery": branch protection).
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { stackConfigOf } from "../lib/config/stacks";
import { topologyOf } from "../lib/config/topology";
import { planNewCustomer } from "../lib/customers/addCustomer";
import { loadCustomerFiles } from "../lib/customers/loadCustomers";
import { validateCustomers } from "../lib/customers/validateCustomers";
import { FIXTURE_CUSTOMERS, ROOT } from "./helpers/offlinePlan";

const repo = mkdtempSync(join(tmpdir(), "merge-collision-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], {
    cwd: repo,
    encoding: "utf8",
  });
const config = stackConfigOf("prod", ROOT);
const topology = topologyOf(config);
const dir = join(repo, "customers");

/** What `customer add` does on a branch: decide the file from the branch's customers, write it, commit. */
function addOnBranch(branch: string, slug: string): { vmid: number; ip: string } {
  git("checkout", "-q", "-b", branch, "main");
  const r = planNewCustomer(
    config,
    topology,
    loadCustomerFiles(dir, repo).files,
    {
      slug,
      domain: `${slug}.nodepoint.eu`,
    },
    `customers/${slug}.yaml`,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  writeFileSync(join(dir, `${slug}.yaml`), stringify(r.file));
  git("add", "-A");
  git("commit", "-q", "-m", `add ${slug}`);
  return { vmid: r.file.vmid, ip: r.file.ip };
}

const problemsOfCheckout = () => {
  const loaded = loadCustomerFiles(dir, repo);
  return [...loaded.problems, ...validateCustomers(config, topology, loaded.files).problems].map(
    (p) => `${p.file}: ${p.field}: ${p.message}`,
  );
};

describe("two pull requests adding customers from the same main", () => {
  it("each is valid alone; their merge result is refused, naming the duplicate VMID and IP", () => {
    git("init", "-q", "-b", "main");
    cpSync(FIXTURE_CUSTOMERS, dir, { recursive: true });
    git("add", "-A");
    git("commit", "-q", "-m", "base");
    const a = addOnBranch("pr-a", "kaffeebar");
    expect(problemsOfCheckout()).toEqual([]);
    const b = addOnBranch("pr-b", "teestube");
    expect(problemsOfCheckout()).toEqual([]);
    expect(b).toEqual(a); // both took the lowest free VMID and IP

    // PR A merges; PR B's check runs on the merge of B into the new main (GitHub's merge commit).
    git("checkout", "-q", "main");
    git("merge", "-q", "--no-ff", "-m", "merge pr-a", "pr-a");
    git("checkout", "-q", "--detach", "main");
    git("merge", "-q", "--no-ff", "-m", "merge pr-b", "pr-b"); // no textual conflict: two new files
    expect(problemsOfCheckout()).toEqual([
      `customers/teestube.yaml: vmid: ${a.vmid} is already used by customers/kaffeebar.yaml`,
      `customers/teestube.yaml: ip: ${a.ip} is already used by customers/kaffeebar.yaml`,
    ]);
  });
});
