import { readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * Two tiers of tests (README, "Tests"); CI runs both.
 * - `unit` (`npm test`): pure functions, components under Pulumi's mocks, the offline program, the
 *   fakes of NPM and PVE, the generated-file check.
 * - `integration` (`npm run test:integration`): the CLIs as processes, the provisioner service
 *   against git remotes and a GitHub API on loopback, the runtime path (the SDK's language host and
 *   dynamic-provider host over gRPC).
 */
const PROVISIONER_SERVICE = readdirSync("tests/provisioner")
  .filter((f) => f.endsWith(".test.ts") && f !== "units.test.ts")
  .map((f) => `tests/provisioner/${f}`);
const INTEGRATION = ["tests/runtime/**/*.test.ts", "tests/*Cli.test.ts", ...PROVISIONER_SERVICE];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // A scratch directory shared by the provisioner's tests (tests/provisioner/globalSetup.ts).
    globalSetup: ["tests/provisioner/globalSetup.ts"],
    projects: [
      {
        extends: true,
        // Files share their workers (no re-import of the SDK per file: a third of the tier's time);
        // a test that evaluates the program afresh resets the module registry first.
        test: { name: "unit", include: ["tests/**/*.test.ts"], exclude: INTEGRATION, isolate: false },
      },
      {
        extends: true,
        test: { name: "integration", include: INTEGRATION },
      },
    ],
  },
});
