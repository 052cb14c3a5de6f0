import { defineConfig } from "vitest/config";

// Load and fault tests (npm run test:faults): slow on purpose, one file at a time so timings are not
// distorted by each other, each bounded so the whole run stays within about ten minutes.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest-faults.json" }]],
  },
});
