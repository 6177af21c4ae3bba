/**
 * One scratch directory for the whole test run, where the first provisioner test that needs the
 * project template builds it (under a lock) and the others reuse it; removed when the run ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    provisionerScratch: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "provisioner-run-"));
  project.provide("provisionerScratch", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
