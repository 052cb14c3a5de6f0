import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { photocat, seedCatalogue } from "./support.js";

describe("photocat embed", () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("says that no embedder is configured, and queues nothing", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-embed-cli-"));
    await seedCatalogue(dir, [{ summary: "A red car." }]);
    const result = await photocat(["embed"], { PHOTOCAT_DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no embedder is configured: set PHOTOCAT_EMBEDDINGS/);
  });
});
