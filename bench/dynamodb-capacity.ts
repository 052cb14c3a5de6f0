/**
 * Read capacity the DynamoDB catalogue consumes for each listing and search, whatever the catalogue size:
 * `npx tsx bench/dynamodb-capacity.ts --records 100000` (default 1000). Seeds a table on dynalite (in
 * process, on disk in a temporary folder) with BatchWriteItem, then asks DynamoDB (ReturnConsumedCapacity
 * TOTAL) what each request cost. Dynalite counts capacity as DynamoDB bills it: every item a query
 * evaluates, filtered out or not, rounded up to 4 KB per request, halved for eventually consistent reads.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { openDynamoStore } from "../src/adapters/dynamodb/index.js";
import {
  COUNTER_SHARDS,
  counterContributions,
  deriveItem,
  type ImageItem,
  imageKey,
  newImageRecord,
  shardOf,
  toStored,
  vocabularyKey,
  wordItems,
} from "../src/adapters/dynamodb/items.js";
import type { Analysis } from "../src/domain/analysis.js";
import type { ImageRecord } from "../src/domain/image.js";
import type { Catalog, ImageQuery } from "../src/ports/catalog.js";

const { values } = parseArgs({
  options: { records: { type: "string", default: "1000" }, page: { type: "string", default: "50" } },
});
const records = Number(values.records);
const pageSize = Number(values.page);
if (!Number.isInteger(records) || records < 100) throw new Error("--records must be a whole number >= 100");

/** A deterministic stream of numbers in [0, 1): the same catalogue on every run. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(42);
const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)] as T;

const CATEGORIES = ["nature", "people", "animals", "food", "architecture", "vehicles", "documents", "art"];
const PLACES = [
  ["Paris, France", 48.85, 2.35],
  ["Lima, Peru", -12.05, -77.04],
  ["Utrecht, Netherlands", 52.09, 5.12],
  ["Kyoto, Japan", 35.01, 135.77],
] as const;
// 3,000 made-up words, drawn with a skew (a few common, most rare), as words in descriptions are.
const VOCABULARY = Array.from(
  { length: 3000 },
  (_, i) => `w${createHash("md5").update(String(i)).digest("hex").slice(0, 6)}`,
);
const word = () => VOCABULARY[Math.floor(VOCABULARY.length * rand() ** 3)] as string;

/** One photo as ingest and analysis would leave it; "harbour" in 15%, "sunset" in 10%, "lighthouse" in 0.05%. */
function photo(i: number): ImageItem {
  const createdAt = new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString();
  const takenAt =
    rand() < 0.8 ? new Date(Date.UTC(2015, 0, 1) + rand() * 10 * 365 * 86_400_000).toISOString() : null;
  const place = rand() < 0.3 ? pick(PLACES) : null;
  const id = createHash("sha256").update(`id ${i}`).digest("hex");
  const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-8${id.slice(17, 20)}-${id.slice(20, 32)}`;
  const rec: ImageRecord = newImageRecord(
    {
      id: uuid,
      sha256: createHash("sha256").update(`bytes ${i}`).digest("hex"),
      originalName: `IMG_${i}.jpg`,
      mediaType: "image/jpeg",
      byteSize: 2_400_000,
      width: 4032,
      height: 3024,
      metadata: {
        takenAt,
        cameraMake: "Apple",
        cameraModel: "iPhone 13",
        lens: null,
        gps: place ? { latitude: place[1], longitude: place[2], altitude: null } : null,
        orientation: 1,
      },
      place: place ? place[0] : null,
      thumbhash: "1QcSHQRnh493V4dIh4eXh1h4kJUI",
      perceptualHash: null,
      sharpness: null,
    },
    createdAt,
  );
  const r = rand();
  const status = r < 0.92 ? "done" : r < 0.96 ? "queued" : r < 0.99 ? "failed" : "running";
  let analysis: Analysis | null = null;
  if (status === "done") {
    const extra = [
      ...(rand() < 0.15 ? ["harbour"] : []),
      ...(rand() < 0.1 ? ["sunset"] : []),
      ...(rand() < 0.0005 ? ["lighthouse"] : []),
    ];
    analysis = {
      summary: `A ${[word(), word(), word(), ...extra, word(), word()].join(" ")}.`,
      category: CATEGORIES[Math.floor(CATEGORIES.length * rand() ** 2)] as string,
      tags: [word(), word(), word(), word()],
      altText: "A photo",
      text: null,
      confidence: 0.9,
      provenance: {
        provider: "bedrock",
        model: "claude-haiku-4-5",
        promptVersion: "bench",
        inputTokens: 1600,
        outputTokens: 120,
        costUsd: 0.0022,
        ms: 2100,
      },
    };
  }
  return deriveItem({
    ...imageKey(uuid),
    v: 1,
    rec: { ...rec, status, analysis, error: status === "failed" ? "provider said no" : null },
    st: status,
    jobId: analysis ? `job-${i}` : null,
    spentIn: analysis ? 1600 : 0,
    spentOut: analysis ? 120 : 0,
    spentCost: analysis ? 0.0022 : 0,
    words: [],
    embModels: [],
    hashKeys: [],
  });
}

async function seed(doc: DynamoDBDocumentClient, table: string) {
  const counters = new Map<string, Record<string, number | string>>();
  const vocabulary = new Set<string>();
  let pending: Record<string, unknown>[] = [];
  let written = 0;
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const flush = async (items: Record<string, unknown>[]) => {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  };
  const put = async (item: Record<string, unknown>) => {
    pending.push(item);
    if (pending.length < 25) return;
    const batch = pending;
    pending = [];
    const p = flush(batch).then(() => {
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  };
  for (let i = 0; i < records; i++) {
    const item = photo(i);
    await put(toStored(item));
    for (const row of wordItems(item)) await put(row);
    for (const w of item.words) {
      if (!vocabulary.has(w)) {
        vocabulary.add(w);
        await put(vocabularyKey(w));
      }
    }
    const shard = shardOf(item.rec.id);
    for (const [sk, contribution] of counterContributions(item)) {
      const key = `STATS#${shard}\n${sk}`;
      const sums = counters.get(key) ?? { PK: `STATS#${shard}`, SK: sk };
      for (const [attr, n] of Object.entries(contribution)) sums[attr] = Number(sums[attr] ?? 0) + n;
      counters.set(key, sums);
    }
    written++;
    if (written % 10_000 === 0) {
      console.error(`  seeded ${written} photos in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  for (const counter of counters.values()) await put(counter);
  if (pending.length) await flush(pending);
  await Promise.all(inFlight);
  return { counters: counters.size, shards: COUNTER_SHARDS, seconds: (performance.now() - started) / 1000 };
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "photocat-dynalite-"));
  const { default: dynalite } = await import("dynalite");
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const table = "photocat-bench";
  const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
  let units = 0;
  let requests = 0;
  const store = await openDynamoStore({
    table,
    endpoint,
    region: "us-east-1",
    credentials,
    createTable: true,
    onCapacity: (consumed) => {
      units += consumed;
      requests++;
    },
  });
  const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    console.error(`Seeding ${records} photos into dynalite (${dir})...`);
    const seeded = await seed(doc, table);
    console.error(`  done in ${seeded.seconds.toFixed(0)} s`);
    const catalog: Catalog = store.catalog;

    const measure = async (name: string, work: () => Promise<number>) => {
      units = 0;
      requests = 0;
      const returned = await work();
      return { name, units, requests, returned };
    };
    const list = (query: Omit<ImageQuery, "limit">) => async () =>
      (await catalog.listImages({ limit: pageSize, ...query })).items.length;

    // The cursor of a page halfway down the newest-first listing, reached page by page (not measured).
    let deep: string | null = null;
    for (let page = 0; page < Math.floor(records / pageSize / 2); page++) {
      deep = (await catalog.listImages({ limit: pageSize, cursor: deep })).nextCursor;
    }
    const anyId = (await catalog.listImages({ limit: 1 })).items[0]?.id ?? "";
    const range = { from: "2019-01-01", to: "2019-12-31" };
    const rows = [
      await measure("first page (newest added)", list({})),
      await measure(`deep page (~${Math.floor(records / 2)} down)`, list({ cursor: deep })),
      await measure("first page, newest taken", list({ order: "taken" })),
      await measure("category = nature", list({ category: "nature" })),
      await measure("status = failed", list({ status: "failed" })),
      await measure("category + status", list({ category: "art", status: "done" })),
      await measure("place", list({ place: "Kyoto, Japan" })),
      await measure("date range (2019)", list(range)),
      await measure("common word (harbour, 15%)", list({ q: "harbour" })),
      await measure("rare word (lighthouse, 0.05%)", list({ q: "lighthouse" })),
      await measure("prefix (harb)", list({ q: "harb" })),
      await measure("two words (harbour sunset)", list({ q: "harbour sunset" })),
      await measure("word + category + dates", list({ q: "harbour", category: "nature", ...range })),
      await measure("one photo", async () => ((await catalog.getImage(anyId)) ? 1 : 0)),
      await measure("category counts", async () => (await catalog.categoryCounts()).length),
      await measure("statistics", async () => (await catalog.stats()).images),
    ];
    console.log(`\nDynamoDB catalogue: consumed read capacity, ${records} photos, pages of ${pageSize}\n`);
    console.log("| request | RCU | requests | returned |");
    console.log("|---|---:|---:|---:|");
    for (const r of rows) console.log(`| ${r.name} | ${r.units} | ${r.requests} | ${r.returned} |`);
  } finally {
    client.destroy();
    await store.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
