/**
 * Performance check of the PostgreSQL catalogue (not a test): seeds N photos in a scratch schema, times
 * the gallery's queries, drops the schema. Run: npx tsx test/adapters/postgres-perf.ts [rows=100000]
 * (PHOTOCAT_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import { openPostgresStore } from "../../src/adapters/postgres/index.js";
import { encodeCursor } from "../../src/adapters/sql/query.js";
import { PERF_ALBUMS, timeGalleryQueries, timeOrganiseQueries } from "./perf-queries.js";

const rows = Number(process.argv[2] ?? 100_000);
const url = process.env.PHOTOCAT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `photocat_perf_${process.pid}`;

const store = await openPostgresStore({ url, schema });
const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
await admin.connect();
try {
  // The same data as sqlite-perf.ts.
  const seedStart = performance.now();
  await admin.query(`
    insert into images (id, sha256, status, original_name, media_type, byte_size, width, height,
      captured_at, created_at, updated_at, summary, category, tags, alt_text, confidence,
      provider, model, prompt_version, input_tokens, output_tokens, cost_usd, ms, analysed_at, analysis_job_id,
      edit_category, edited_at)
    select lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), lpad(to_hex(i), 64, '0'),
      case when i % 50 = 0 then 'failed' else 'done' end,
      'IMG_' || i || '.jpg', 'image/jpeg', 2000000, 4000, 3000, ts, ts, ts,
      case when i % 10000 = 7 then 'A zeppelin over the harbour.'
        else 'A ' || (array['cat','dog','red car','mountain lake','plate of pasta','church tower','handwritten letter'])[i % 7 + 1]
          || ' in the ' || (array['morning','rain','snow'])[i % 3 + 1] || '.' end,
      (array['people','animals','food','vehicles','nature','architecture','objects','documents','art','other'])[i % 10 + 1],
      '["tag' || (i % 100) || '","photo"]', 'alt', 0.8, 'local', 'centernet', 'v1', 1000, 100, 0.001, 150, ts, 'job-' || i,
      case when i % 97 = 0 then 'art' end, case when i % 97 = 0 then ts end
    from (select i, to_char(to_timestamp(1600000000 + (i / 3) * 60) at time zone 'utc',
      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ts from generate_series(1, ${rows}) as i) as seed`);
  // As in sqlite-perf.ts: capture times over 15 years, a third geotagged at 200 places, 50 albums.
  await admin.query(`update images set captured_at = to_char(to_timestamp(1000000000 +
    (((('x' || substr(id, 1, 8))::bit(32)::int)::bigint * 7919) % 100003) * 4700) at time zone 'utc',
    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
  await admin.query(`update images set place = 'Place ' || (n % 200), gps_lat = (n % 200) * 0.85 - 85,
    gps_lon = (n % 200) * 1.8 - 180
    from (select id as key, ('x' || substr(id, 1, 8))::bit(32)::int as n from images) as numbered
    where images.id = numbered.key and n % 3 = 0`);
  const albumIds = Array.from(
    { length: PERF_ALBUMS },
    (_, k) => `a1b00000-0000-4000-8000-${String(k).padStart(12, "0")}`,
  );
  for (const [k, id] of albumIds.entries()) {
    await admin.query("insert into albums (id, name, created_at, updated_at) values ($1, $2, 'x', 'x')", [
      id,
      `Album ${k}`,
    ]);
    await admin.query(
      `insert into album_images (album_id, image_id, added_at) select $1, id, 'x' from images
       where ('x' || substr(id, 1, 8))::bit(32)::int % 2000 < $2`,
      [id, 2 * (k + 1)],
    );
  }
  await admin.query("vacuum analyze images");
  await admin.query("analyze album_images");
  const seedMs = performance.now() - seedStart;
  console.log(
    `PostgreSQL catalogue, ${rows.toLocaleString("en")} photos (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
  );
  await timeGalleryQueries(store.catalog, rows, async (offset, where = "true") => {
    const { rows: found } = await admin.query(
      `select created_at, id from images where ${where} order by created_at desc, id desc limit 1 offset $1`,
      [offset],
    );
    return encodeCursor({ createdAt: found[0].created_at, id: found[0].id });
  });
  await timeOrganiseQueries(store.catalog, albumIds);
} finally {
  await store.close();
  if (!process.env.KEEP_SCHEMA) await admin.query(`drop schema "${schema}" cascade`);
  await admin.end();
}
