import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import BetterSqlite3 from "better-sqlite3";
import { analysisColumns, newImageRow } from "../src/adapters/sql/mapping.js";
import { encodeCursor } from "../src/adapters/sql/query.js";
import { openSqliteStore } from "../src/adapters/sqlite/index.js";
import { PROMPT_VERSION } from "../src/domain/analysis.js";
import { categorySlugs, DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";
import { seededRandom } from "../test/faults/support/photos.js";
import { startServerProcess } from "../test/faults/support/server-process.js";
import { log, percentile, type Row, round, type Section } from "./report.js";

export interface EndpointResult {
  path: string;
  requests: number;
  errors: number;
  rps: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** CPU time the server process spent per request (user + system, all its threads); null without /proc. */
  server_cpu_ms: number | null;
}

export interface ApiResults {
  records: number;
  seed_s: number;
  connections: number;
  duration_s: number;
  list_p95_ms: number;
  deep_page_p95_ms: number;
  category_p95_ms: number;
  search_p95_ms: number;
  search_rare_p95_ms: number;
  meaning_p95_ms: number;
  similar_p95_ms: number;
  /** Search blended with a remote embedder's vectors (query embedding cached), on a second server. */
  blended_p95_ms: number;
  /** The first blended search of a fresh process: it loads the vector index's sketches. */
  blended_first_ms: number;
  /** The first "similar" request of a fresh process: it loads every embedding into the index. */
  similar_first_ms: number;
  get_p95_ms: number;
  endpoints: Record<string, EndpointResult>;
  /** The same requests from a single connection. */
  one_connection: Record<string, EndpointResult>;
  /** Median time to the first thumbnail on screen in Chromium, cold cache; null without Chromium. */
  gallery_first_thumbnail_ms: number | null;
}

const ADJECTIVES = [
  "quiet",
  "busy",
  "sunny",
  "misty",
  "old",
  "modern",
  "colourful",
  "dark",
  "bright",
  "snowy",
];
const SUBJECTS = [
  "street",
  "beach",
  "market",
  "garden",
  "kitchen",
  "bridge",
  "forest",
  "station",
  "harbour",
  "church",
];
const EXTRAS = ["at dusk", "in the rain", "with people walking", "seen from above", "in winter", "at noon"];
/** In one record out of 100: the "rare word" search. */
const RARE_WORD = "lighthouse";
/** In one record out of 10: the usual search, many matches to sort. */
const COMMON_WORD = "harbour";
/** In one record out of 20, one of these: what a search by meaning ("animal") finds through WordNet. */
const ANIMALS = ["dog", "cat", "horse", "kitten", "sparrow", "cows"];
const MEANING_WORD = "animal";
/** Each record's embedding: one of EMBEDDING_KINDS kinds of picture plus noise, like the local analyser's. */
const EMBEDDING_SIZE = 720;
const EMBEDDING_KINDS = 200;
/** Each record's embedding by a remote embedder (search by meaning), as Bedrock's Titan gives them. */
const REMOTE_MODEL = "bench-remote";
const REMOTE_SIZE = 1024;

/**
 * Writes `count` analysed photo records the way the SQLite adapter does (its own row mapping, one prepared
 * statement, batched transactions): the catalogue port would take minutes per 100,000 rows.
 */
export function seedRecords(dbPath: string, count: number): void {
  const db = new BetterSqlite3(dbPath);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const random = seededRandom(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const slugs = categorySlugs(DEFAULT_TAXONOMY);
  const start = Date.UTC(2020, 0, 1);
  let insert: BetterSqlite3.Statement | null = null;
  let insertEmbedding: BetterSqlite3.Statement | null = null;
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const kinds = Array.from({ length: EMBEDDING_KINDS }, () =>
    Float32Array.from({ length: EMBEDDING_SIZE }, gauss),
  );
  // From a generator of their own, so the records are those seeded before remote vectors were.
  const remote = remoteVectors();
  let insertRemote: BetterSqlite3.Statement | null = null;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // One photo a minute from 2020 on: distinct, ordered creation times like a real library.
      const now = new Date(start + i * 60_000).toISOString();
      const subject = i % 10 === 0 ? COMMON_WORD : pick(SUBJECTS);
      const animal = i % 20 === 3 ? ` with a ${pick(ANIMALS)}` : "";
      const summary = `A ${pick(ADJECTIVES)} ${subject} ${pick(EXTRAS)}${animal}${i % 100 === 7 ? ` near a ${RARE_WORD}` : ""}.`;
      const row = {
        ...newImageRow(
          {
            id: randomUUID(),
            sha256: i.toString(16).padStart(64, "0"),
            originalName: `IMG_${String(i).padStart(7, "0")}.jpg`,
            mediaType: "image/jpeg",
            byteSize: 2_000_000 + (i % 1000),
            width: 4032,
            height: 3024,
            metadata: {
              takenAt: now,
              cameraMake: "Bench",
              cameraModel: "Cam 1",
              lens: null,
              gps: null,
              orientation: 1,
            },
            place: null,
            thumbhash: "3OcRJYB4d3h/iIeHeEh3eIhw+j2w",
            perceptualHash: null,
            sharpness: null,
          },
          now,
        ),
        ...analysisColumns(
          {
            summary,
            category: slugs[i % slugs.length]!,
            tags: [subject, pick(ADJECTIVES), "bench"],
            altText: summary.slice(0, 100),
            text: null,
            confidence: 0.8,
            provenance: {
              provider: "bench",
              model: "bench-1",
              promptVersion: PROMPT_VERSION,
              inputTokens: 1000,
              outputTokens: 80,
              costUsd: 0.0001,
              ms: 900,
            },
          },
          randomUUID(),
          now,
        ),
      };
      const columns = Object.keys(row);
      insert ??= db.prepare(
        `insert into images (${columns.join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`,
      );
      insert.run(row);
      const kind = kinds[Math.floor(random() * EMBEDDING_KINDS)]!;
      const vector = new Float32Array(EMBEDDING_SIZE);
      for (let d = 0; d < EMBEDDING_SIZE; d++) vector[d] = kind[d]! + gauss();
      insertEmbedding ??= db.prepare(
        "insert into embeddings (image_id, model, vector, changed_ms) values (?, 'bench-embedding', ?, ?)",
      );
      insertEmbedding.run(row.id, Buffer.from(vector.buffer), start + i * 60_000);
      insertRemote ??= db.prepare(
        `insert into embeddings (image_id, model, vector, changed_ms) values (?, 'ollama:${REMOTE_MODEL}', ?, ?)`,
      );
      // A millisecond older: "similar" keeps using the most recently written model, bench-embedding.
      insertRemote.run(row.id, Buffer.from(remote.next().buffer), start + i * 60_000 - 1);
    }
  });
  const BATCH = 10_000;
  for (let from = 0; from < count; from += BATCH) {
    batch(from, Math.min(count, from + BATCH));
    if ((from / BATCH) % 10 === 9) log(`api: ${from + BATCH} records written`);
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** Unit vectors of REMOTE_SIZE around EMBEDDING_KINDS kinds (`query`: one more, near the first kind). */
function remoteVectors() {
  const random = seededRandom(43);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const kinds = Array.from({ length: EMBEDDING_KINDS }, () =>
    Float32Array.from({ length: REMOTE_SIZE }, gauss),
  );
  const near = (kind: Float32Array) => {
    const vector = Float32Array.from(kind, (k) => k + 1.2 * gauss());
    const norm = Math.hypot(...vector);
    return vector.map((v) => v / norm);
  };
  return { next: () => near(kinds[Math.floor(random() * EMBEDDING_KINDS)]!), query: () => near(kinds[0]!) };
}

/** A stand-in for Ollama's /api/embed: every text gets the same vector. */
async function fakeOllama(): Promise<{ url: string; close(): Promise<void> }> {
  const reply = JSON.stringify({
    model: REMOTE_MODEL,
    embeddings: [Array.from(remoteVectors().query())],
    prompt_eval_count: 3,
  });
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(request.url === "/api/embed" ? 200 : 404, { "content-type": "application/json" });
      response.end(request.url === "/api/embed" ? reply : "{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** CPU milliseconds a process has used so far (user + system), from /proc; null where there is none. */
function cpuMsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const ticksPerSecond = 100; // USER_HZ on Linux.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

async function load(
  url: string,
  paths: readonly string[],
  connections: number,
  durationS: number,
  serverPid?: number,
): Promise<EndpointResult> {
  const cpuBefore = serverPid ? cpuMsOf(serverPid) : null;
  const times: number[] = [];
  let errors = 0;
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationS,
        requests: [
          {
            method: "GET",
            setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }),
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      times.push(responseTime);
      if (status >= 400) errors++;
    });
  });
  errors += result.errors + result.timeouts;
  const cpuAfter = serverPid ? cpuMsOf(serverPid) : null;
  return {
    path: paths[0]!,
    requests: times.length,
    errors,
    rps: round(times.length / durationS, 0),
    p50_ms: round(percentile(times, 50), 2),
    p95_ms: round(percentile(times, 95), 2),
    p99_ms: round(percentile(times, 99), 2),
    server_cpu_ms:
      cpuBefore !== null && cpuAfter !== null && times.length > 0
        ? round((cpuAfter - cpuBefore) / times.length, 2)
        : null,
  };
}

/** The catalogue at scale: seeded records served by a separate `photocat serve` process under load. */
export async function benchApi(options: { quick: boolean; records: number }): Promise<Section<ApiResults>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "photocat-bench-api-"));
  try {
    const dbPath = path.join(dataDir, "photocat.db");
    const store = openSqliteStore({ path: dbPath });
    await store.ready;
    await store.close();
    const seedStarted = performance.now();
    seedRecords(dbPath, options.records);
    const seedS = (performance.now() - seedStarted) / 1000;
    log(`api: ${options.records} records seeded in ${round(seedS)} s`);

    const probe = new BetterSqlite3(dbPath, { readonly: true });
    const deep = probe
      .prepare("select created_at, id from images order by created_at desc, id desc limit 1 offset ?")
      .get(Math.floor(options.records * 0.9)) as { created_at: string; id: string };
    const sample = probe
      .prepare("select id from images where rowid % ? = 0 limit 2000")
      .all(Math.max(1, Math.floor(options.records / 2000))) as { id: string }[];
    probe.close();

    const gallery = await import("./gallery.js");
    await gallery.writeNewestThumbnails(dbPath, path.join(dataDir, "blobs"));
    const server = await startServerProcess({ dataDir, args: ["--no-worker"] });
    const connections = 8;
    const durationS = options.quick ? 5 : 15;
    const endpoints: Record<string, string[]> = {
      list: ["/api/images?limit=50"],
      deep_page: [`/api/images?limit=50&cursor=${encodeCursor({ createdAt: deep.created_at, id: deep.id })}`],
      category: ["/api/images?limit=50&category=food"],
      search: [`/api/images?limit=50&q=${COMMON_WORD}`],
      search_rare: [`/api/images?limit=50&q=${RARE_WORD}`],
      meaning: [`/api/images?limit=50&q=${MEANING_WORD}`],
      similar: sample.map((s) => `/api/images/${s.id}/similar?limit=12`),
      get: sample.map((s) => `/api/images/${s.id}`),
    };
    const measured: Record<string, EndpointResult> = {};
    const alone: Record<string, EndpointResult> = {};
    /** Each endpoint at `connections`, then alone, on one server. */
    const measure = async (serving: typeof server, named: Record<string, string[]>) => {
      for (const [name, paths] of Object.entries(named)) {
        const check = await fetch(`${serving.url}${paths[0]}`);
        const body = (await check.json()) as { items?: unknown[]; id?: string };
        if (check.status !== 200 || (body.items ? body.items.length === 0 : !body.id)) {
          throw new Error(`${paths[0]} answered ${check.status} with no photo`);
        }
        await load(serving.url, paths, connections, 1); // warm-up
        measured[name] = await load(serving.url, paths, connections, durationS, serving.pid);
        // One client at a time: the service time itself, without queueing behind other requests.
        alone[name] = await load(serving.url, paths, 1, options.quick ? 3 : 10);
        log(
          `api: ${name} p95 ${measured[name].p95_ms} ms at ${connections} connections (${alone[name].p95_ms} ms alone), ${measured[name].rps} req/s, server CPU ${measured[name].server_cpu_ms ?? "?"} ms per request, load ${loadavg()
            .map((l) => round(l, 2))
            .join(" ")}`,
        );
      }
    };
    let firstPaint: Awaited<ReturnType<typeof gallery.firstThumbnailMs>> | null = null;
    let similarFirstMs = Number.NaN;
    try {
      const firstStarted = performance.now();
      const first = await fetch(`${server.url}${endpoints.similar![0]}`);
      similarFirstMs = round(performance.now() - firstStarted, 0);
      if (first.status !== 200) throw new Error(`similar answered ${first.status}: ${await first.text()}`);
      log(`api: first similar request (loads ${options.records} embeddings) ${similarFirstMs} ms`);
      await measure(server, endpoints);
      try {
        firstPaint = await gallery.firstThumbnailMs(server.url, options.records, options.quick ? 3 : 5);
        log(`api: gallery first thumbnail p50 ${firstPaint.first_thumbnail_p50_ms} ms (cold cache)`);
      } catch (error) {
        log(`api: gallery first thumbnail not measured: ${(error as Error).message}`);
      }
    } finally {
      await server.stop();
    }
    // Search by meaning with a remote embedder: another server, whose searches are blended with vectors.
    const ollama = await fakeOllama();
    let blendedFirstMs = Number.NaN;
    try {
      const blending = await startServerProcess({
        dataDir,
        args: ["--no-worker"],
        env: {
          PHOTOCAT_EMBEDDINGS: "ollama",
          PHOTOCAT_EMBEDDING_MODEL: REMOTE_MODEL,
          OLLAMA_HOST: ollama.url,
        },
      });
      try {
        // The server loads the similar-photo index as it starts: its work kept out of the blended figures.
        await fetch(`${blending.url}${endpoints.similar![0]}`);
        const blended = `/api/images?limit=50&q=${COMMON_WORD}`;
        const firstStarted = performance.now();
        const first = await fetch(`${blending.url}${blended}`);
        blendedFirstMs = round(performance.now() - firstStarted, 0);
        if (first.status !== 200) throw new Error(`blended answered ${first.status}: ${await first.text()}`);
        log(`api: first blended search (loads ${options.records} vector sketches) ${blendedFirstMs} ms`);
        await measure(blending, { blended: [blended] });
      } finally {
        await blending.stop();
      }
    } finally {
      await ollama.close();
    }
    const results: ApiResults = {
      records: options.records,
      seed_s: round(seedS),
      connections,
      duration_s: durationS,
      list_p95_ms: measured.list!.p95_ms,
      deep_page_p95_ms: measured.deep_page!.p95_ms,
      category_p95_ms: measured.category!.p95_ms,
      search_p95_ms: measured.search!.p95_ms,
      search_rare_p95_ms: measured.search_rare!.p95_ms,
      get_p95_ms: measured.get!.p95_ms,
      meaning_p95_ms: measured.meaning!.p95_ms,
      similar_p95_ms: measured.similar!.p95_ms,
      similar_first_ms: similarFirstMs,
      blended_p95_ms: measured.blended!.p95_ms,
      blended_first_ms: blendedFirstMs,
      endpoints: measured,
      one_connection: alone,
      gallery_first_thumbnail_ms: firstPaint?.first_thumbnail_p50_ms ?? null,
    };
    const labels: Record<string, { label: string; target: number }> = {
      list: { label: "first page (50)", target: 20 },
      deep_page: { label: "deep cursor page (90% down)", target: 20 },
      category: { label: "category filter", target: 20 },
      search: { label: `full-text search "${COMMON_WORD}" (10% match)`, target: 50 },
      search_rare: { label: `full-text search "${RARE_WORD}" (1% match)`, target: 50 },
      get: { label: "single photo", target: 20 },
      meaning: { label: `search by meaning "${MEANING_WORD}" (5% match, via narrower words)`, target: 50 },
      similar: { label: "similar photos (12 nearest of all)", target: 50 },
      blended: {
        label: `search "${COMMON_WORD}" blended with a remote embedder's ${REMOTE_SIZE}-float vectors`,
        target: 50,
      },
    };
    const area = `api ${options.records.toLocaleString("en")}`;
    const rows: Row[] = Object.entries(measured).flatMap(([name, r]) => {
      const single = alone[name]!;
      return [
        {
          area,
          measure: `${labels[name]!.label}, ${connections} conns: p50/p95/p99 ms, req/s, server CPU ms/req${r.errors ? `, ${r.errors} errors` : ""}`,
          value: `${r.p50_ms}/${r.p95_ms}/${r.p99_ms}, ${r.rps}, ${r.server_cpu_ms ?? "?"}`,
          target: `p95 < ${labels[name]!.target}`,
          ok: r.p95_ms < labels[name]!.target && r.errors === 0,
        },
        {
          area,
          measure: `  same, 1 connection: p50/p95/p99 ms, req/s`,
          value: `${single.p50_ms}/${single.p95_ms}/${single.p99_ms}, ${single.rps}`,
        },
      ];
    });
    rows.push({
      area,
      measure: "similar photos: first request of a process (loads the index), ms",
      value: String(similarFirstMs),
      target: "< 10000",
      ok: similarFirstMs < 10_000,
    });
    rows.push({
      area,
      measure: "blended search: first request of a process (loads the vector sketches), ms",
      value: String(blendedFirstMs),
      target: "< 10000",
      ok: blendedFirstMs < 10_000,
    });
    rows.push({
      area,
      measure: "gallery: first thumbnail on screen, cold cache (median ms)",
      value: firstPaint
        ? `${firstPaint.first_thumbnail_p50_ms} (max ${firstPaint.first_thumbnail_max_ms})`
        : "not measured",
      target: "< 1000",
      ok: firstPaint ? firstPaint.first_thumbnail_p50_ms < 1000 : false,
    });
    return { results, rows };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
