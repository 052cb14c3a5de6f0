import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/aws/e2e.test.ts runs alone (npm run test:aws); the stack test is quick and runs here.
    exclude: ["test/faults/**", "test/aws/e2e.test.ts", "node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll gives up after 1 s by default: too short for a browser page on 2 cores busy with the rest of
    // the suite (CI failed the Trash suite on it). A poll that can pass early still returns at once.
    expect: { poll: { timeout: 10_000 } },
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest.json" }]],
  },
});
