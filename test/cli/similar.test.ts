import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/adapters/sqlite/index.js";
import { analysis, newImage } from "../contracts/fixtures.js";
import { photocat } from "./support.js";

describe("photocat similar", () => {
  let dir: string;
  let env: Record<string, string>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-similar-"));
    env = { PHOTOCAT_DATA_DIR: dir };
    // Photos as the local analyser leaves them: a description and an embedding each (the last has none).
    const store = openSqliteStore({ path: path.join(dir, "photocat.db") });
    const photos: [string, number[] | null][] = [
      ["dog", [1, 0, 0]],
      ["puppy", [0.9, 0.1, 0]],
      ["cat", [0.5, 0.5, 0]],
      ["car", [0, 0, 1]],
      ["bare", null],
    ];
    for (const [name, vector] of photos) {
      const { image } = await store.catalog.insertImage(newImage({ originalName: `${name}.jpg` }));
      await store.catalog.saveAnalysis(
        image.id,
        analysis({
          summary: `A ${name}.`,
          ...(vector ? { embedding: { model: "local-test", vector } } : {}),
        }),
        `job-${name}`,
      );
      ids[name] = image.id;
    }
    await store.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lists the nearest photos with their cosine, by id prefix, as a table or JSON", async () => {
    const table = await photocat(["similar", ids.dog!.slice(0, 8), "-n", "2"], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^COSINE {2}ID/);
    expect(lines[1]).toMatch(/^ 0\.99\d {2}[0-9a-f]{8}.*A puppy\./);
    expect(lines[2]).toMatch(/^ 0\.70\d {2}[0-9a-f]{8}.*A cat\./);
    expect(lines).toHaveLength(3);

    const json = await photocat(["similar", ids.dog!, "--format", "json"], env);
    const names = json.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { original_name: string }).original_name);
    expect(names).toEqual(["puppy.jpg", "cat.jpg", "car.jpg"]);
  });

  it("says why when the photo has no embedding or does not exist", async () => {
    const bare = await photocat(["similar", ids.bare!], env);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/no embedding yet/);
    const unknown = await photocat(["similar", "ffffffff"], env);
    expect(unknown.code).not.toBe(0);
  });
});
