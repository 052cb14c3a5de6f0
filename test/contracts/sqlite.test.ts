import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/adapters/sql/migrations.js";
import { migrations, openSqliteStore } from "../../src/adapters/sqlite/index.js";
import { silentLogger } from "../../src/logger.js";
import { runCatalogContract } from "./catalog.contract.js";
import { analysis, newImage } from "./fixtures.js";
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
    await first.queue.enqueue("analyse", { imageId: image.id });
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
    await a.queue.enqueue("analyse", { imageId: results[0].image.id });
    const claims = await Promise.all([a.queue.claim("wa", 60_000), b.queue.claim("wb", 60_000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it("migrates the jobs of an older database: each becomes an analyse job of its photo", async () => {
    const file = path.join(dir, "old.db");
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    const before = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => name < "0003_typed_jobs"),
    );
    await migrate(old, before, silentLogger(), "old");
    await old.destroy();
    const imageId = newImage().id;
    const raw = new BetterSqlite3(file);
    raw
      .prepare(
        `insert into images (id, sha256, status, original_name, media_type, byte_size, width, height,
           captured_at, created_at, updated_at) values (?, 'abc', 'queued', 'a.jpg', 'image/jpeg', 1, 1, 1, 'x', 'x', 'x')`,
      )
      .run(imageId);
    raw
      .prepare(
        `insert into jobs (id, image_id, state, attempts, max_attempts, run_at, created_at, updated_at)
         values ('job-1', ?, 'queued', 0, 5, 0, 'x', 'x')`,
      )
      .run(imageId);
    raw.close();

    const migrated = openSqliteStore({ path: file });
    await migrated.queue.enqueue("analyse", { imageId }); // still pending: a no-op
    expect(await migrated.queue.counts(["analyse"])).toMatchObject({ queued: 1 });
    expect(await migrated.queue.claim("w", 60_000)).toMatchObject({
      id: "job-1",
      kind: "analyse",
      payload: { imageId },
      imageId,
    });
    await migrated.close();
  });

  it("pages a search with many matches newest added first, from the index's own order, with no gap or duplicate", async () => {
    const file = path.join(dir, "many.db");
    const store = openSqliteStore({ path: file });
    await store.ready;
    const raw = new BetterSqlite3(file);
    // 6000 rows, every other one about a harbour (many chunks of the index); one row in 7 claims a creation time
    // hours before rows inserted earlier (a clock step), and rows 3 apart share a creation time.
    raw.exec(`
      with recursive n(i) as (select 1 union all select i + 1 from n where i < 6000)
      insert into images (id, sha256, status, original_name, media_type, byte_size, width, height,
        captured_at, created_at, updated_at, summary, category)
      select printf('%08x-0000-4000-8000-%012x', (i * 7919) % 100003, i), printf('%064x', i), 'done', 'IMG_' || i || '.jpg',
        'image/jpeg', 1, 1, 1, ts, ts, ts,
        case when i % 2 = 0 then 'A harbour at dusk' else 'A quiet street' end,
        case i % 3 when 0 then 'nature' else 'people' end
      from (select i, strftime('%Y-%m-%dT%H:%M:%fZ', 1600000000 + (i / 3) * 60 - (case when i % 7 = 0 then 10800 else 0 end), 'unixepoch') as ts from n)
    `);
    // Search pages follow the order photos were added (seq), which is upload time order but for clock steps.
    const expected = (where: string) =>
      (
        raw.prepare(`select id from images where ${where} order by seq desc`).all() as {
          id: string;
        }[]
      ).map((r) => r.id);
    const pages = async (query: { q: string; category?: string }) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.catalog.listImages({ ...query, limit: 120, cursor });
        ids.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    expect(await pages({ q: "harbour" })).toEqual(expected("summary like '%harbour%'"));
    expect(await pages({ q: "harb", category: "nature" })).toEqual(
      expected("summary like '%harbour%' and category = 'nature'"),
    );
    raw.close();
    await store.close();
  });

  it("finds by meaning the words another process wrote after this one last searched", async () => {
    const file = path.join(dir, "meaning.db");
    const reader = openSqliteStore({ path: file });
    const writer = openSqliteStore({ path: file });
    await Promise.all([reader.ready, writer.ready]);
    const { image } = await writer.catalog.insertImage(newImage());
    const found = async () =>
      (await reader.catalog.listImages({ limit: 10, q: "animal" })).items.map((i) => i.id);
    expect(await found()).toEqual([]);
    await writer.catalog.saveAnalysis(
      image.id,
      analysis({ summary: "A kitten on a sofa.", category: "other", tags: [] }),
      "job-1",
    );
    expect(await found()).toEqual([image.id]);
    await Promise.all([reader.close(), writer.close()]);
  });

  it("says which database it cannot open", () => {
    const file = path.join(dir, "a-file");
    writeFileSync(file, "not a folder");
    expect(() => openSqliteStore({ path: path.join(file, "x.db") })).toThrow(/cannot open database/);
    expect(() => openSqliteStore({ path: "" })).toThrow(/missing option path/);
  });
});
