/**
 * Search by meaning's vector search alone: `npx tsx bench/vector-search.ts [vectors] [dimensions] [queries]`
 * (default 100,000 x 1024, 100 queries). Seeds a SQLite file with clustered unit vectors, then times the top
 * 300 (the blended search's pool), one query at a time, by SQLite's index (sqlite-vec: a 1-bit Hamming scan of
 * sketches in memory, then exact cosine, at several oversampling factors), by the earlier plan (the same two
 * steps in SQL over a table of sketches), sqlite-vec's exact scan and a vec0 table (for comparison) and by the
 * in-memory index (the fallback); prints p50/p95 and the recall of each approximate plan against the exact
 * answer: of the exact top 20 in its top 20 and in its whole pool, and of the exact top 300 in its pool.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import { openSqliteStore } from "../src/adapters/sqlite/index.js";
import { createSqliteVectorIndex } from "../src/adapters/sqlite/vector-index.js";
import { silentLogger } from "../src/logger.js";
import { MemoryVectorIndex } from "../src/services/similar.js";
import { seededRandom } from "../test/faults/support/photos.js";
import { percentile, round } from "./report.js";

const count = Number(process.argv[2] ?? 100_000);
const size = Number(process.argv[3] ?? 1024);
const queries = Number(process.argv[4] ?? 100);
const POOL = 300;
const MODEL = "bench:embed-1";
// The vectors' shape: kinds of picture, the noise around each, and a direction all of them share (real
// embeddings have one, which leaves each value's sign less telling): VECTOR_KINDS, VECTOR_NOISE, VECTOR_SHARED.
const KINDS = Number(process.env.VECTOR_KINDS ?? 200);
const NOISE = Number(process.env.VECTOR_NOISE ?? 1.2);
const SHARED = Number(process.env.VECTOR_SHARED ?? 0);

const random = seededRandom(11);
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const unit = (v: Float32Array) => {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
// Drawn only when asked for, so the default vectors are those measured before it existed.
const shared = SHARED ? Float32Array.from({ length: size }, () => SHARED * gauss()) : new Float32Array(size);
const centres = Array.from({ length: KINDS }, () =>
  Float32Array.from({ length: size }, (_, i) => shared[i]! + gauss()),
);
const near = () => {
  const centre = centres[Math.floor(random() * KINDS)]!;
  return unit(Float32Array.from(centre, (c) => c + NOISE * gauss()));
};

const dir = await mkdtemp(path.join(tmpdir(), "photocat-vector-bench-"));
const file = path.join(dir, "catalog.db");
try {
  const store = openSqliteStore({ path: file });
  await store.ready;
  // Rows written directly (no photo records: foreign keys off for this connection), in batches.
  const raw = new BetterSqlite3(file);
  raw.pragma("foreign_keys = OFF");
  sqliteVec.load(raw);
  raw.exec(`create virtual table vec_bench using vec0(embedding float[${size}] distance_metric=cosine)`);
  const insert = raw.prepare(
    "insert into embeddings (image_id, model, vector, changed_ms) values (?, ?, ?, ?)",
  );
  const insertVec0 = raw.prepare("insert into vec_bench (rowid, embedding) values (?, ?)");
  const seedStarted = performance.now();
  const batch = raw.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const bytes = Buffer.from(near().buffer);
      // One a minute, as photos come: the in-memory index re-reads only the last two seconds of writes.
      insert.run(`p${String(i).padStart(7, "0")}`, MODEL, bytes, i * 60_000);
      insertVec0.run(BigInt(i), bytes);
    }
  });
  for (let from = 0; from < count; from += 10_000) batch(from, Math.min(count, from + 10_000));
  console.error(
    `seeded ${count} vectors of ${size} floats in ${round((performance.now() - seedStarted) / 1000)} s`,
  );

  const probes = Array.from({ length: queries }, near);
  const time = async (label: string, run: (probe: Float32Array) => Promise<string[]>) => {
    await run(probes[0]!); // warm: loads the in-memory index, pages in the file
    const ms: number[] = [];
    const answers: string[][] = [];
    for (const probe of probes) {
      const started = performance.now();
      answers.push(await run(probe));
      ms.push(performance.now() - started);
    }
    console.log(
      `${label.padEnd(46)} p50 ${round(percentile(ms, 50))} ms   p95 ${round(percentile(ms, 95))} ms`,
    );
    return answers;
  };

  const scan = raw.prepare<[Buffer, string, number, number], { id: string; distance: number }>(
    `select image_id as id, vec_distance_cosine(vector, ?) as distance from embeddings
     where model = ? and length(vector) = ? order by distance limit ?`,
  );
  // The exact top 300 that blended search could list by meaning alone (cosine 0.3 or more), per query.
  const listable: string[][] = [];
  const exact = await time("sqlite-vec exact scan (comparison)", async (probe) => {
    const bytes = Buffer.from(probe.buffer);
    const rows = scan.all(bytes, MODEL, bytes.byteLength, POOL);
    listable.push(rows.filter((r) => r.distance <= 0.7).map((r) => r.id));
    return rows.map((r) => r.id);
  });
  listable.shift(); // the warm-up's
  const vec0 = raw.prepare("select rowid from vec_bench where embedding match ? and k = ?").pluck();
  await time("sqlite-vec vec0 table (comparison)", async (probe) =>
    (vec0.all(Buffer.from(probe.buffer), POOL) as bigint[]).map((r) => `p${String(r).padStart(7, "0")}`),
  );
  const recall = (answers: string[][], top: number, within = top) => {
    let found = 0;
    for (const [i, answer] of answers.entries()) {
      const truth = new Set(exact[i]!.slice(0, top));
      found += answer.slice(0, within).filter((id) => truth.has(id)).length;
    }
    return round((100 * found) / (top * queries));
  };
  const listableRecall = (answers: string[][]) => {
    let found = 0;
    let wanted = 0;
    for (const [i, answer] of answers.entries()) {
      const pool = new Set(answer);
      wanted += listable[i]!.length;
      found += listable[i]!.filter((id) => pool.has(id)).length;
    }
    return `${wanted ? round((100 * found) / wanted) : "-"} % (of ${round(wanted / queries)} a query)`;
  };
  const recalls = (label: string, answers: string[][]) =>
    console.log(
      `${label} recall: exact top 20 in its top 20 ${recall(answers, 20)} %, in its ${POOL} ${recall(answers, 20, POOL)} %; exact top ${POOL} in its ${POOL} ${recall(answers, POOL)} %, those of cosine >= 0.3 ${listableRecall(answers)}`,
    );

  // The earlier plan, for comparison: sketches in a table, the Hamming scan and the exact step in one query.
  raw.exec(`create table embedding_bits (model text not null, image_id text not null, bits blob not null,
    primary key (model, image_id))`);
  raw.exec(`insert into embedding_bits select model, image_id, vec_quantize_binary(vector) from embeddings`);
  const inSql = raw
    .prepare(
      `select image_id from embeddings where model = @model and length(vector) = @floatBytes and image_id in (
         select image_id from embedding_bits where model = @model
         order by vec_distance_hamming(vec_bit(bits), vec_quantize_binary(@probe)) limit @candidates)
       order by vec_distance_cosine(vector, @probe) limit @wanted`,
    )
    .pluck();
  const sqlPlan = await time("bits table, then cosine, in SQL (x10)", async (probe) => {
    const bytes = Buffer.from(probe.buffer);
    return inSql.all({
      model: MODEL,
      probe: bytes,
      floatBytes: bytes.byteLength,
      candidates: POOL * 10,
      wanted: POOL,
    }) as string[];
  });
  recalls("bits table x10", sqlPlan);

  const loadStarted = performance.now();
  await store.vectors!.nearest(MODEL, probes[0]!, 1);
  console.log(`SQLite's index: sketches load          ${round(performance.now() - loadStarted)} ms`);
  const twoStep = await time("bits in memory, then cosine (SQLite's index)", async (probe) =>
    (await store.vectors!.nearest(MODEL, probe, POOL)).map((h) => h.id),
  );
  recalls("SQLite's index", twoStep);
  // Sketches picked by Hamming distance, and vectors read, per wanted hit (x10 and x10 read all: Hamming alone).
  const sweep = (process.env.SWEEP ?? "2/2,4/4,10/10,6/2,10/1.5,10/2,10/3,20/2").split(",");
  for (const [sketched, read] of sweep.map((p) => p.split("/").map(Number) as [number, number])) {
    const index = createSqliteVectorIndex(raw, Promise.resolve(), silentLogger(), { sketched, read })!;
    const answers = await time(`  same, sketched x${sketched}, read x${read}`, async (probe) =>
      (await index.nearest(MODEL, probe, POOL)).map((h) => h.id),
    );
    recalls(`  x${sketched}/x${read}`, answers);
  }
  const memoryStarted = performance.now();
  const memory = new MemoryVectorIndex(store.catalog);
  await memory.nearest(MODEL, probes[0]!, 1);
  console.log(`in-memory index load                ${round(performance.now() - memoryStarted)} ms`);
  const approximate = await time("in-memory index (the fallback)", async (probe) =>
    (await memory.nearest(MODEL, probe, POOL)).map((h) => h.id),
  );
  recalls("in-memory", approximate);
  console.log(
    `load average: ${loadavg()
      .map((l) => round(l, 2))
      .join(", ")} (${queries} queries, top ${POOL}; ${KINDS} kinds, noise ${NOISE}, shared ${SHARED})`,
  );
  raw.close();
  await store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
