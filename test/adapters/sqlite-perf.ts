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
import { PERF_ALBUMS, timeGalleryQueries, timeOrganiseQueries } from "./perf-queries.js";

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
// Capture times scattered over 15 years (unlike upload times); one photo in three geotagged at one of 200
// places; albums of 100 to 5,000 photos.
raw.exec(
  `update images set captured_at = strftime('%Y-%m-%dT%H:%M:%fZ', 1000000000 + ((seq * 7919) % 100003) * 4700, 'unixepoch')`,
);
raw.exec(`update images set place = 'Place ' || (seq % 200), gps_lat = (seq % 200) * 0.85 - 85,
  gps_lon = (seq % 200) * 1.8 - 180 where seq % 3 = 0`);
const albumIds = Array.from(
  { length: PERF_ALBUMS },
  (_, k) => `a1b00000-0000-4000-8000-${String(k).padStart(12, "0")}`,
);
for (const [k, id] of albumIds.entries()) {
  raw
    .prepare("insert into albums (id, name, created_at, updated_at) values (?, ?, 'x', 'x')")
    .run(id, `Album ${k}`);
  raw
    .prepare(
      "insert into album_images (album_id, image_id, added_at) select ?, id, 'x' from images where seq % 2000 < ?",
    )
    .run(id, 2 * (k + 1));
}
raw.exec("analyze");
raw.close();
const seedMs = performance.now() - seedStart;

const deepCursor = (offset: number, where = "1 = 1") => {
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
await timeGalleryQueries(store.catalog, rows, async (offset, where) => deepCursor(offset, where));
await timeOrganiseQueries(store.catalog, albumIds);
await store.close();
if (process.env.KEEP_DB) console.log(`kept ${file}`);
else rmSync(dir, { recursive: true, force: true });
