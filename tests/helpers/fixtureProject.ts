/**
 * A copy of the project whose customers/ holds the test fixtures and whose desired state is theirs:
 * what tests run the program in under the Pulumi engine's path (cmd/run), where the program reads
 * customers/ and desired-state/ of its working directory, so the project's own customers never
 * matter to a test. Copied from the working tree's tracked files (lib/bench/projectRepo.ts).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyProjectRepo } from "../../lib/bench/projectRepo";
import { FIXTURE_CUSTOMERS, ROOT } from "./offlinePlan";

export function fixtureProject(): { root: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "fixture-project-"));
  const root = join(dir, "project");
  copyProjectRepo(ROOT, root, {
    prodCustomers: Object.fromEntries(readdirSync(FIXTURE_CUSTOMERS).map((f) => [f, join(FIXTURE_CUSTOMERS, f)])),
    regenerate: true,
  });
  return { root, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
