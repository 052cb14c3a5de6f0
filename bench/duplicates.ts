/**
 * Near-duplicate lookup at catalogue scale: `records` photos with perceptual hashes in a SQLite catalogue
 * (and PostgreSQL with --postgres), then the lookup ingest does for each new photo (hash index keys ->
 * candidates -> distances) and GET /api/duplicates' grouping, timed.
 *
 *   npx tsx bench/duplicates.ts [--records 100000] [--postgres postgres://...]
 *
 * Hashes are synthetic: random whole frames, windows a few bits from their frame as in real photos; 2% of
 * the photos are near-copies of another. Real hashes are less uniform, so buckets can be fuller.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { openPostgresStore } from "../src/adapters/postgres/index.js";
import type { SqlStore } from "../src/adapters/sql/lifecycle.js";
import { newImageRow } from "../src/adapters/sql/mapping.js";
import { openSqliteStore } from "../src/adapters/sqlite/index.js";
import { HASH_WINDOWS, hashKeys } from "../src/domain/near-duplicates.js";
import { listDuplicateGroups, recordNearDuplicates } from "../src/services/duplicates.js";
import { percentile, round, type Section } from "./report.js";

function seededRandom(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function flip(hex: string, bits: number, random: () => number): string {
  let value = BigInt(`0x${hex}`);
  for (let i = 0; i < bits; i++) value ^= 1n << BigInt(Math.floor(random() * 64));
  return value.toString(16).padStart(16, "0");
}

function syntheticHash(random: () => number, near?: string): string {
  const hex = () => Array.from({ length: 16 }, () => Math.floor(random() * 16).toString(16)).join("");
  const full = near ? flip(near.slice(0, 16), 4, random) : hex();
  return [full, ...Array.from({ length: HASH_WINDOWS - 1 }, () => flip(full, 10, random))].join("");
}

interface Photo {
  id: string;
  hash: string;
}

function makePhotos(count: number, random: () => number): Photo[] {
  const photos: Photo[] = [];
  for (let i = 0; i < count; i++) {
    const original = i % 50 === 49 ? photos[Math.floor(random() * photos.length)] : undefined;
    photos.push({ id: randomUUID(), hash: syntheticHash(random, original?.hash) });
  }
  return photos;
}

function row(photo: Photo, i: number) {
  const now = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString();
  return newImageRow(
    {
      id: photo.id,
      sha256: i.toString(16).padStart(64, "0"),
      originalName: `IMG_${i}.jpg`,
      mediaType: "image/jpeg",
      byteSize: 2_000_000,
      width: 4032,
      height: 3024,
      metadata: { takenAt: now, cameraMake: null, cameraModel: null, lens: null, gps: null, orientation: 1 },
      place: null,
      thumbhash: null,
      perceptualHash: photo.hash,
      sharpness: 10,
    },
    now,
  );
}

function seedSqlite(file: string, photos: Photo[]): void {
  const db = new BetterSqlite3(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const first = row(photos[0]!, 0);
  const columns = Object.keys(first);
  const insertImage = db.prepare(
    `insert into images (${columns.join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`,
  );
  const insertKey = db.prepare("insert or ignore into image_hash_keys (key, image_id) values (?, ?)");
  db.transaction(() => {
    photos.forEach((photo, i) => {
      insertImage.run(row(photo, i));
      for (const key of new Set(hashKeys(photo.hash))) insertKey.run(key, photo.id);
    });
  })();
  db.close();
}

async function seedPostgres(store: SqlStore, photos: Photo[]): Promise<void> {
  // Through the port, in parallel: slower than COPY, but the same writes ingest makes.
  const chunk = 16;
  for (let i = 0; i < photos.length; i += chunk) {
    await Promise.all(
      photos.slice(i, i + chunk).map((photo, n) => {
        const r = row(photo, i + n);
        return store.catalog.insertImage({
          id: r.id,
          sha256: r.sha256,
          originalName: r.original_name,
          mediaType: "image/jpeg",
          byteSize: r.byte_size,
          width: r.width,
          height: r.height,
          metadata: {
            takenAt: r.taken_at,
            cameraMake: null,
            cameraModel: null,
            lens: null,
            gps: null,
            orientation: 1,
          },
          place: null,
          thumbhash: null,
          perceptualHash: photo.hash,
          sharpness: 10,
        });
      }),
    );
  }
}

async function measure(store: SqlStore, photos: Photo[], label: string) {
  const random = seededRandom(7);
  // New photos: 9 in 10 unrelated to any stored one, 1 in 10 a near-copy of one.
  const queries = Array.from({ length: 400 }, (_, i) => {
    const near = i % 10 === 0 ? photos[Math.floor(random() * photos.length)]! : undefined;
    return { id: randomUUID(), hash: syntheticHash(random, near?.hash), near: near?.id };
  });
  // Warm-up, as a running server would be.
  for (const q of queries.slice(0, 20)) await store.catalog.hashCandidates([1], q.id);
  const times: number[] = [];
  let candidates = 0;
  let found = 0;
  let expected = 0;
  for (const q of queries) {
    const counting = {
      ...store.catalog,
      hashCandidates: async (keys: readonly number[], exclude: string) => {
        const result = await store.catalog.hashCandidates(keys, exclude);
        candidates += result.length;
        return result;
      },
      // Timing the lookup only: the pairs are not written.
      addDuplicatePairs: async () => {},
    };
    const started = performance.now();
    const pairs = await recordNearDuplicates({ catalog: counting }, q.id, q.hash);
    times.push(performance.now() - started);
    if (q.near) {
      expected++;
      if (pairs.some((p) => p.b === q.near)) found++;
    }
  }
  const groupsStarted = performance.now();
  const groups = await listDuplicateGroups(store);
  const groupsMs = performance.now() - groupsStarted;
  return {
    label,
    p50_ms: round(percentile(times, 50), 2),
    p95_ms: round(percentile(times, 95), 2),
    candidates_per_lookup: round(candidates / queries.length, 1),
    near_copies_found: `${found}/${expected}`,
    groups: groups.length,
    list_groups_ms: Math.round(groupsMs),
  };
}

async function runSql(url: string, statement: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function benchDuplicates(options: {
  records: number;
  postgres?: string;
}): Promise<Section<Record<string, unknown>>> {
  const photos = makePhotos(options.records, seededRandom(42));
  const dir = await mkdtemp(path.join(tmpdir(), "photocat-bench-dup-"));
  const results: Record<string, unknown>[] = [];
  try {
    const file = path.join(dir, "photocat.db");
    const created = openSqliteStore({ path: file });
    await created.ready;
    await created.close();
    seedSqlite(file, photos);
    const store = openSqliteStore({ path: file });
    // Every photo's pairs, as ingest would have recorded them, for the grouping figure.
    for (const [i, photo] of photos.entries()) {
      if (i % 50 === 49) await recordNearDuplicates(store, photo.id, photo.hash);
    }
    results.push(await measure(store, photos, "sqlite"));
    await store.close();
    if (options.postgres) {
      const schema = `bench_dup_${process.pid}`;
      const pg = await openPostgresStore({ url: options.postgres, schema });
      try {
        await seedPostgres(pg, photos);
        // As autovacuum would have by now: the planner needs to know the tables' sizes.
        await runSql(options.postgres, `analyze ${schema}.images; analyze ${schema}.image_hash_keys`);
        for (const [i, photo] of photos.entries()) {
          if (i % 50 === 49) await recordNearDuplicates(pg, photo.id, photo.hash);
        }
        results.push(await measure(pg, photos, "postgres"));
      } finally {
        await pg.close();
        await runSql(options.postgres, `drop schema ${schema} cascade`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    results: { records: options.records, stores: results },
    rows: results.map((r) => ({
      area: "duplicates",
      measure: `${r.label}: near-duplicate lookup per new photo at ${options.records} photos, p50 / p95`,
      value: `${r.p50_ms} / ${r.p95_ms} ms (${r.candidates_per_lookup} candidates, found ${r.near_copies_found})`,
      target: "< 50 ms",
      ok: Number(r.p95_ms) < 50,
    })),
  };
}

if (process.argv[1]?.endsWith("duplicates.ts")) {
  const { values } = parseArgs({
    options: { records: { type: "string", default: "100000" }, postgres: { type: "string" } },
  });
  const measured = await benchDuplicates({ records: Number(values.records), postgres: values.postgres });
  console.log(JSON.stringify(measured.results, null, 2));
}
