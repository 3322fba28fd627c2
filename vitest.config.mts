import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file gets its own process: the Pulumi runtime (mocks, config) is global state.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Shared stack renders for the run, and a teardown that fails the run when a process a test started survives.
    globalSetup: ["test/global-setup.ts"],
  },
});
