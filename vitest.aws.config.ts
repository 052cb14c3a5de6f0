import { defineConfig } from "vitest/config";

// The AWS edition end to end against moto_server (npm run test:aws): one file, its steps in order.
export default defineConfig({
  test: {
    include: ["test/aws/e2e.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 90_000,
    pool: "forks",
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest-aws.json" }]],
  },
});
