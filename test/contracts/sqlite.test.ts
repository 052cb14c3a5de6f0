import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/adapters/sqlite/index.js";
import { runCatalogContract } from "./catalog.contract.js";
import { newImage } from "./fixtures.js";
import { runJobQueueContract } from "./job-queue.contract.js";

function memoryStore() {
  const store = openSqliteStore({ path: ":memory:" });
  return {
    catalog: store.catalog,
    queue: store.queue,
    addImage: async () => (await store.catalog.insertImage(newImage())).image.id,
    close: store.close,
  };
}

runCatalogContract("sqlite", async () => memoryStore());
runJobQueueContract("sqlite", async () => memoryStore());

describe("sqlite file store", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "photocat-sqlite-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates parent folders, uses WAL and keeps data across reopening", async () => {
    const file = path.join(dir, "nested", "deeper", "photocat.db");
    const first = openSqliteStore({ path: file });
    const { image } = await first.catalog.insertImage(newImage());
    await first.queue.enqueue(image.id);
    await first.close();

    const second = openSqliteStore({ path: file });
    expect((await second.catalog.getImage(image.id))?.id).toBe(image.id);
    expect((await second.queue.counts()).queued).toBe(1);
    await second.close();
  });

  it("shares one file between two stores (two processes) without duplicates", async () => {
    const file = path.join(dir, "shared.db");
    const a = openSqliteStore({ path: file });
    const b = openSqliteStore({ path: file });
    await Promise.all([a.ready, b.ready]);
    const image = newImage();
    const results = await Promise.all([
      a.catalog.insertImage(image),
      b.catalog.insertImage({ ...image, id: newImage().id }),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    await a.queue.enqueue(results[0].image.id);
    const claims = await Promise.all([a.queue.claim("wa", 60_000), b.queue.claim("wb", 60_000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it("says which database it cannot open", () => {
    const file = path.join(dir, "a-file");
    writeFileSync(file, "not a folder");
    expect(() => openSqliteStore({ path: path.join(file, "x.db") })).toThrow(/cannot open database/);
    expect(() => openSqliteStore({ path: "" })).toThrow(/missing option path/);
  });
});
