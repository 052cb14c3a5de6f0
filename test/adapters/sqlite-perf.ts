/**
 * Performance check of the SQLite catalogue (not a test): seeds N photos, then times the gallery's
 * queries. Run: npx tsx test/adapters/sqlite-perf.ts [rows=100000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import BetterSqlite3 from "better-sqlite3";
import { encodeCursor } from "../../src/adapters/sql/query.js";
import { openSqliteStore } from "../../src/adapters/sqlite/index.js";
import type { ImageQuery } from "../../src/ports/catalog.js";

const rows = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(path.join(tmpdir(), "photocat-perf-"));
const file = path.join(dir, "perf.db");

const store = openSqliteStore({ path: file });
await store.ready;

// Seeding through SQL (the FTS triggers still run): three photos share each upload time, one in
// 10,000 mentions a zeppelin (a rare word), categories rotate, a few edits override them.
const seedStart = performance.now();
const raw = new BetterSqlite3(file);
raw.exec(`
  with recursive n(i) as (select 1 union all select i + 1 from n where i < ${rows})
  insert into images (id, sha256, status, original_name, media_type, byte_size, width, height,
    captured_at, created_at, updated_at, summary, category, tags, alt_text, confidence,
    provider, model, prompt_version, input_tokens, output_tokens, cost_usd, ms, analysed_at, analysis_job_id)
  select printf('%08x-0000-4000-8000-%012x', i, i), printf('%064x', i),
    case when i % 50 = 0 then 'failed' else 'done' end,
    'IMG_' || i || '.jpg', 'image/jpeg', 2000000, 4000, 3000, ts, ts, ts,
    case when i % 10000 = 7 then 'A zeppelin over the harbour.'
      else 'A ' || (case i % 7 when 0 then 'cat' when 1 then 'dog' when 2 then 'red car' when 3 then 'mountain lake'
        when 4 then 'plate of pasta' when 5 then 'church tower' else 'handwritten letter' end)
      || ' in the ' || (case i % 3 when 0 then 'morning' when 1 then 'rain' else 'snow' end) || '.' end,
    (case i % 10 when 0 then 'people' when 1 then 'animals' when 2 then 'food' when 3 then 'vehicles'
      when 4 then 'nature' when 5 then 'architecture' when 6 then 'objects' when 7 then 'documents'
      when 8 then 'art' else 'other' end),
    '["tag' || (i % 100) || '","photo"]', 'alt', 0.8, 'local', 'centernet', 'v1', 1000, 100, 0.001, 150, ts, 'job-' || i
  from (select i, strftime('%Y-%m-%dT%H:%M:%fZ', 1600000000 + (i / 3) * 60, 'unixepoch') as ts from n)
`);
raw.exec(`update images set edit_category = 'art', edited_at = updated_at where seq % 97 = 0`);
raw.exec("analyze");
raw.close();
const seedMs = performance.now() - seedStart;

async function time(label: string, query: ImageQuery, runs = 30) {
  const samples: number[] = [];
  let count = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const page = await store.catalog.listImages(query);
    samples.push(performance.now() - start);
    count = page.items.length;
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(runs / 2)]!;
  const p95 = samples[Math.floor(runs * 0.95)]!;
  console.log(
    `${label.padEnd(44)} median ${median.toFixed(2).padStart(7)} ms   p95 ${p95.toFixed(2).padStart(7)} ms   (${count} items)`,
  );
}

// A cursor 90% of the way down the newest-first order: as deep as anyone pages.
const deepKey = (offset: number, where = "1 = 1") => {
  const db = new BetterSqlite3(file, { readonly: true });
  const row = db
    .prepare(
      `select created_at, id from images where ${where} order by created_at desc, id desc limit 1 offset ?`,
    )
    .get(offset) as { created_at: string; id: string };
  db.close();
  return encodeCursor({ createdAt: row.created_at, id: row.id });
};

console.log(
  `SQLite catalogue, ${rows.toLocaleString("en")} photos (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
);
const limit = 50;
await time("first page", { limit });
await time("deep cursor page (90%)", { limit, cursor: deepKey(Math.floor(rows * 0.9)) });
await time("category filter, first page", { limit, category: "documents" });
await time("category filter, deep cursor page", {
  limit,
  category: "documents",
  cursor: deepKey(Math.floor(rows * 0.09), "category_effective = 'documents'"),
});
await time("edited category (art), first page", { limit, category: "art" });
await time("status filter (failed, 2%)", { limit, status: "failed" });
await time("date range (five days)", { limit, from: "2020-09-20", to: "2020-09-24" });
await time("FTS common word: cat", { limit, q: "cat" });
await time("FTS two words: red car", { limit, q: "red car" });
await time("FTS prefix: mount", { limit, q: "mount" });
await time("FTS rare word: zeppelin", { limit, q: "zeppelin" });
await time("FTS + category: snow / nature", { limit, q: "snow", category: "nature" });
await time("FTS no match: xylophone", { limit, q: "xylophone" });
for (const [label, run] of [
  ["categoryCounts", () => store.catalog.categoryCounts()],
  ["stats", () => store.catalog.stats()],
] as const) {
  const start = performance.now();
  await run();
  console.log(`${label.padEnd(44)} ${(performance.now() - start).toFixed(1).padStart(7)} ms (one run)`);
}

await store.close();
rmSync(dir, { recursive: true, force: true });
