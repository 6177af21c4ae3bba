import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // A scratch directory shared by the provisioner's tests (tests/provisioner/globalSetup.ts).
    globalSetup: ["tests/provisioner/globalSetup.ts"],
  },
});
