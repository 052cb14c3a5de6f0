import { hostname } from "node:os";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { type Analysis, addTags } from "../../domain/analysis.js";
import { PhotocatError } from "../../domain/errors.js";
import { IMAGE_STATUSES, type ImageRecord, type ImageStatus } from "../../domain/image.js";
import { hashKeys } from "../../domain/near-duplicates.js";
import type {
  Catalog,
  CatalogStats,
  DuplicatePair,
  EmbeddingChange,
  ImageFilters,
  ImagePage,
  ImageQuery,
  ImagesChange,
  ImagesChanged,
  NewEmbedding,
  NewImage,
  SessionRecord,
} from "../../ports/catalog.js";
import { decodeFloats, decodeVector, encodeVector, storableText } from "../sql/mapping.js";
import {
  checkLimit,
  checkStatus,
  fromBound,
  MAX_PAGE_SIZE,
  normaliseCaptureTime,
  searchTerms,
  toBoundExclusive,
} from "../sql/query.js";
import {
  COUNTER_SHARDS,
  counterDeltas,
  deriveItem,
  foldWords,
  fromStored,
  type ImageItem,
  imageKey,
  newImageRecord,
  type StoredImageItem,
  shaKey,
  shardOf,
  storedAnalysis,
  toStored,
  vocabularyKey,
  wordItems,
} from "./items.js";
import { type GsiName, indexNameOf } from "./table.js";

/** Sort key of an embedding in its model's change order: the time written (zero-padded), then the photo. */
function embeddingChangeKey(change: EmbeddingChange): string {
  return `${String(change.changedMs).padStart(15, "0")}#${change.imageId}`;
}

const MAX_ERROR_CHARS = 2000;
const PROCESS_ID = `${hostname()}:${process.pid}`;
/** A search's last word matches as a prefix of at most this many known words (alphabetically first). */
export const MAX_PREFIX_WORDS = 8;
/** Optimistic writes retried this many times before giving up (a photo changed by many writers at once). */
const MAX_ATTEMPTS = 12;
/** Photos written back in one transaction by a bulk change (with their counters: at most 100 items). */
const PHOTOS_PER_TRANSACTION = 25;
/** Writes to many photos (bulk changes) run this many at once. */
const PARALLEL_WRITES = 8;

/**
 * What the catalogue cannot do on DynamoDB yet. Album methods throw a not_implemented error; a search matches
 * the words given (and, for the last, words it begins), not their WordNet synonyms and narrower words.
 */
export const DYNAMODB_CAPABILITIES = {
  albums: false,
  meaningSearch: false,
} as const;

const notFound = (id: string) => new PhotocatError("not_found", `no photo with id ${id}`);
const notSupported = (what: string) =>
  new PhotocatError("not_implemented", `the DynamoDB catalogue does not support ${what} yet`);
const badCursor = () =>
  new PhotocatError("invalid_request", "cursor is invalid: pass the next_cursor of a previous page");

export interface DynamoCatalogOptions {
  client: DynamoDBClient;
  table: string;
  /** Called with the capacity units each request consumed (benchmarks); asks DynamoDB to report them. */
  onCapacity?: (units: number, operation: string) => void;
  close: () => Promise<void>;
}

/** A page cursor: the index it was read from, the last item's sort key and id. */
type Cursor = { index: GsiName | "W"; sort: string; id: string };

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.index, cursor.sort, cursor.id])).toString("base64url");
}

function decodeCursor(value: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      parsed.every((p) => typeof p === "string") &&
      /^(G[1-6]|W)$/.test(String(parsed[0]))
    ) {
      const [index, sort, id] = parsed as [Cursor["index"], string, string];
      return { index, sort, id };
    }
  } catch {
    // Reported below.
  }
  throw badCursor();
}

/** Conditions on attributes every listed item carries (photos and word items alike). */
interface ItemFilter {
  category?: string | null;
  status?: string | null;
  place?: string | null;
  from?: string | null;
  toExclusive?: string | null;
  /** Whole words the item's word list must hold, and a word start. */
  words?: string[];
  prefix?: string | null;
}

function filterExpression(filter: ItemFilter) {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const add = (attr: string, op: string, value: unknown) => {
    const n = `#f${parts.length}`;
    const v = `:f${parts.length}`;
    names[n] = attr;
    values[v] = value;
    parts.push(op === "contains" ? `contains(${n}, ${v})` : `${n} ${op} ${v}`);
  };
  if (filter.category) add("cat", "=", filter.category);
  if (filter.status) add("st", "=", filter.status);
  if (filter.place) add("pl", "=", filter.place);
  if (filter.from) add("cap", ">=", filter.from);
  if (filter.toExclusive) add("cap", "<", filter.toExclusive);
  for (const word of filter.words ?? []) add("ws", "contains", ` ${word} `);
  if (filter.prefix) add("ws", "contains", ` ${filter.prefix}`);
  if (parts.length === 0) return {};
  return {
    FilterExpression: parts.join(" AND "),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === "ConditionalCheckFailedException";
}

/** Why a transaction was cancelled, item by item ("ConditionalCheckFailed", "TransactionConflict", "None"). */
function cancellationReasons(error: unknown): string[] | null {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name === "TransactionConflictException") return ["TransactionConflict"];
  if (e?.name !== "TransactionCanceledException") return null;
  return (e.CancellationReasons ?? []).map((r) => r.Code ?? "None");
}

const pause = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, items.length) }, worker));
  return results;
}

type Key = Record<string, string>;
/** A word item as a search reads it: its sort key, photo and the photo's words (" a b c "). */
type WordRow = { SK: string; id: string; ws: string };

export function createDynamoCatalog(options: DynamoCatalogOptions): Catalog {
  const TableName = options.table;
  const doc = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const metering = options.onCapacity ? ({ ReturnConsumedCapacity: "TOTAL" } as const) : {};
  const nowIso = () => new Date().toISOString();

  function meter(operation: string, consumed: unknown) {
    if (!options.onCapacity || !consumed) return;
    const list = Array.isArray(consumed) ? consumed : [consumed];
    const units = list.reduce(
      (sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0),
      0,
    );
    options.onCapacity(units, operation);
  }

  async function get<T>(key: Key, consistent = true): Promise<T | null> {
    const out = await doc.send(
      new GetCommand({ TableName, Key: key, ConsistentRead: consistent, ...metering }),
    );
    meter("GetItem", out.ConsumedCapacity);
    return (out.Item as T | undefined) ?? null;
  }

  async function query<T>(input: Omit<QueryCommandInput, "TableName">): Promise<{
    items: T[];
    last: Record<string, unknown> | undefined;
  }> {
    try {
      const out = await doc.send(new QueryCommand({ TableName, ...input, ...metering }));
      meter("Query", out.ConsumedCapacity);
      return { items: (out.Items ?? []) as T[], last: out.LastEvaluatedKey };
    } catch (error) {
      // A cursor outside the query's range (a forged one, or from another date range).
      if ((error as { name?: string }).name === "ValidationException" && input.ExclusiveStartKey) {
        throw badCursor();
      }
      throw error;
    }
  }

  /** Every item of a query, page after page (bulk operations and small partitions only). */
  async function queryAll<T>(input: Omit<QueryCommandInput, "TableName">): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await query<T>({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) });
      items.push(...page.items);
      start = page.last;
    } while (start);
    return items;
  }

  async function batchGet<T>(keys: readonly Key[], consistent = false): Promise<T[]> {
    const found: T[] = [];
    for (const part of chunks(keys, 100)) {
      let pending: Key[] = part;
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await doc.send(
          new BatchGetCommand({
            RequestItems: { [TableName]: { Keys: pending, ConsistentRead: consistent } },
            ...metering,
          }),
        );
        meter("BatchGetItem", out.ConsumedCapacity);
        found.push(...((out.Responses?.[TableName] ?? []) as T[]));
        pending = (out.UnprocessedKeys?.[TableName]?.Keys ?? []) as Key[];
        if (pending.length > 0) await pause(attempt);
      }
    }
    return found;
  }

  async function batchWrite(puts: readonly Record<string, unknown>[], deletes: readonly Key[] = []) {
    const requests = [
      ...puts.map((Item) => ({ PutRequest: { Item } })),
      ...deletes.map((Key) => ({ DeleteRequest: { Key } })),
    ];
    for (const part of chunks(requests, 25)) {
      let pending: typeof part = part;
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await doc.send(
          new BatchWriteCommand({ RequestItems: { [TableName]: pending }, ...metering }),
        );
        meter("BatchWriteItem", out.ConsumedCapacity);
        pending = (out.UnprocessedItems?.[TableName] ?? []) as typeof part;
        if (pending.length > 0) await pause(attempt);
      }
    }
  }

  /** The counter updates of some writes (photo id, state before, state after), as transaction items. */
  function counterUpdates(...changes: [string, ImageItem | null, ImageItem | null][]) {
    const merged = new Map<string, Record<string, number>>();
    for (const [id, before, after] of changes) {
      const shard = shardOf(id);
      for (const [sk, delta] of counterDeltas(before, after)) {
        const key = `STATS#${shard}\n${sk}`;
        const sums = merged.get(key) ?? {};
        for (const [attr, d] of Object.entries(delta)) sums[attr] = (sums[attr] ?? 0) + d;
        merged.set(key, sums);
      }
    }
    return [...merged].map(([key, delta]) => {
      const [pk, sk] = key.split("\n") as [string, string];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const adds = Object.entries(delta).map(([attr, d], i) => {
        names[`#a${i}`] = attr;
        values[`:a${i}`] = d;
        return `#a${i} :a${i}`;
      });
      return {
        Update: {
          TableName,
          Key: { PK: pk, SK: sk },
          UpdateExpression: `ADD ${adds.join(", ")}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      };
    });
  }

  async function transact(items: Record<string, unknown>[]) {
    const out = await doc.send(
      new TransactWriteCommand({
        TransactItems: items as never,
        ...metering,
      }),
    );
    meter("TransactWriteItems", out.ConsumedCapacity);
  }

  async function getItem(id: string): Promise<ImageItem | null> {
    const item = await get<StoredImageItem>(imageKey(id));
    return item ? fromStored(item) : null;
  }

  /**
   * Read, change, write back if nobody wrote in between (else again), with the counters in the same
   * transaction; then the word index and side items follow. `change` returns null for "nothing to do".
   */
  async function mutate(
    id: string,
    change: (rec: ImageRecord, item: ImageItem) => Partial<ImageItem> | null,
  ): Promise<{ before: ImageItem; after: ImageItem } | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const before = await getItem(id);
      if (!before) return null;
      const patch = change(structuredClone(before.rec), before);
      if (!patch) return { before, after: before };
      const after = deriveItem({ ...before, ...patch, v: before.v + 1 });
      try {
        await transact([
          {
            Put: {
              TableName,
              Item: toStored(after),
              ConditionExpression: "v = :v",
              ExpressionAttributeValues: { ":v": before.v },
            },
          },
          ...counterUpdates([id, before, after]),
        ]);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        await pause(attempt);
        continue;
      }
      await followUp([before, after]);
      return { before, after };
    }
    throw new PhotocatError("busy", `the photo ${id} is being changed by many writers: try again`, {
      retryAfterS: 1,
    });
  }

  /**
   * `mutate` for many photos: read in batches, written back PHOTOS_PER_TRANSACTION at a time with their
   * counters merged; a batch someone else wrote into meanwhile is redone photo by photo.
   */
  async function mutateMany(
    ids: readonly string[],
    change: (rec: ImageRecord, item: ImageItem) => Partial<ImageItem> | null,
  ): Promise<ImageItem[]> {
    const results: ImageItem[] = [];
    for (const group of chunks(ids, PHOTOS_PER_TRANSACTION)) {
      const befores = (await batchGet<StoredImageItem>(group.map(imageKey), true)).map(fromStored);
      const writes: { before: ImageItem; after: ImageItem }[] = [];
      for (const before of befores) {
        const patch = change(structuredClone(before.rec), before);
        if (patch) writes.push({ before, after: deriveItem({ ...before, ...patch, v: before.v + 1 }) });
        else results.push(before);
      }
      if (writes.length === 0) continue;
      const counters = counterUpdates(
        ...writes.map((w): [string, ImageItem, ImageItem] => [w.before.rec.id, w.before, w.after]),
      );
      let written = writes.length + counters.length <= 100;
      if (written) {
        try {
          await transact([
            ...writes.map((w) => ({
              Put: {
                TableName,
                Item: toStored(w.after),
                ConditionExpression: "v = :v",
                ExpressionAttributeValues: { ":v": w.before.v },
              },
            })),
            ...counters,
          ]);
        } catch (error) {
          if (!cancellationReasons(error)) throw error;
          written = false;
        }
      }
      if (written) {
        await followUp(...writes.map((w): [ImageItem, ImageItem] => [w.before, w.after]));
        results.push(...writes.map((w) => w.after));
      } else {
        const one = await inParallel(writes, (w) => mutate(w.before.rec.id, change));
        results.push(...one.flatMap((r) => (r ? [r.after] : [])));
      }
    }
    return results;
  }

  /** Brings the word index and the embeddings' correction keys in step with a photo's new state. */
  async function followUp(...changes: [before: ImageItem | null, after: ImageItem | null][]) {
    const puts = new Map<string, Record<string, unknown>>();
    const deletes = new Map<string, Key>();
    const keyOf = (item: { PK: string; SK: string }) => `${item.PK}\n${item.SK}`;
    for (const [before, after] of changes) {
      const oldRows = before ? wordItems(before) : [];
      const newRows = after ? wordItems(after) : [];
      const oldByWord = new Map(oldRows.map((r) => [r.PK, r]));
      for (const row of newRows) {
        const old = oldByWord.get(row.PK);
        const same =
          old !== undefined &&
          old.ws === row.ws &&
          old.st === row.st &&
          old.cap === row.cap &&
          old.cat === row.cat &&
          old.pl === row.pl;
        if (!same) puts.set(keyOf(row), row);
        // New to this photo: the word may be new to the vocabulary too (a put is idempotent).
        if (!old) puts.set(keyOf(vocabularyKey(row.PK.slice(2))), vocabularyKey(row.PK.slice(2)));
      }
      const kept = new Set(newRows.map((r) => r.PK));
      for (const row of oldRows) {
        if (!kept.has(row.PK)) deletes.set(keyOf(row), { PK: row.PK, SK: row.SK });
      }
    }
    for (const key of puts.keys()) deletes.delete(key);
    await batchWrite([...puts.values()], [...deletes.values()]);

    for (const [before, after] of changes) {
      if (!after || after.embModels.length === 0) continue;
      const corrected = (item: ImageItem | null) =>
        item && !item.rec.trashedAt && item.rec.edits?.category ? item.rec.edits.category : null;
      if (corrected(before) !== corrected(after)) {
        for (const model of after.embModels) await setCorrectionKeys(after, model);
      }
    }
  }

  async function setCorrectionKeys(item: ImageItem, model: string) {
    const category = !item.rec.trashedAt ? item.rec.edits?.category : undefined;
    const key = { PK: item.PK, SK: `EMB#${model}` };
    await doc
      .send(
        new UpdateCommand({
          TableName,
          Key: key,
          ...(category
            ? {
                UpdateExpression: "SET G6PK = :pk, G6SK = :sk, category = :c",
                ExpressionAttributeValues: {
                  ":pk": `CORR#${model}`,
                  ":sk": `${item.rec.createdAt}#${item.rec.id}`,
                  ":c": category,
                },
              }
            : { UpdateExpression: "REMOVE G6PK, G6SK, category" }),
          ConditionExpression: "attribute_exists(PK)",
        }),
      )
      .catch((error) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  async function getImage(id: string): Promise<ImageRecord | null> {
    return (await getItem(id))?.rec ?? null;
  }

  async function findBySha256(sha256: string): Promise<ImageRecord | null> {
    const pointer = await get<{ id: string }>(shaKey(sha256));
    return pointer ? getImage(pointer.id) : null;
  }

  /** The stored records of `ids` (any order). */
  async function recordsOf(ids: readonly string[]): Promise<ImageRecord[]> {
    const items = (await batchGet<StoredImageItem>([...new Set(ids)].map(imageKey))).map(fromStored);
    return items.map((i) => i.rec);
  }

  async function counterItems(prefix: string) {
    const shards = await Promise.all(
      Array.from({ length: COUNTER_SHARDS }, (_, shard) =>
        queryAll<Record<string, number | string>>({
          KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
          ExpressionAttributeValues: { ":pk": `STATS#${shard}`, ":prefix": prefix },
        }),
      ),
    );
    const merged = new Map<string, Record<string, number>>();
    for (const item of shards.flat()) {
      const sk = String(item.SK);
      const sums = merged.get(sk) ?? {};
      for (const [attr, value] of Object.entries(item)) {
        if (typeof value === "number") sums[attr] = (sums[attr] ?? 0) + value;
      }
      merged.set(sk, sums);
    }
    return merged;
  }

  /**
   * How many live photos each counter holds (summed over its shards), to read a page from the smallest
   * index: `CAT#...` and `PLACE#...` items, and `st_<status>` on the TOTAL item. One BatchGetItem.
   */
  async function partitionSizes(counters: string[]): Promise<Map<string, number>> {
    const keys = [...new Set(counters.map((c) => (c.startsWith("st_") ? "TOTAL" : c)))];
    const items = await batchGet<Record<string, unknown>>(
      keys.flatMap((SK) => Array.from({ length: COUNTER_SHARDS }, (_, s) => ({ PK: `STATS#${s}`, SK }))),
    );
    const sizes = new Map<string, number>(counters.map((c) => [c, 0]));
    for (const item of items) {
      for (const counter of counters) {
        const n = counter.startsWith("st_")
          ? item.SK === "TOTAL"
            ? item[counter]
            : 0
          : item.SK === counter
            ? item.n
            : 0;
        sizes.set(counter, (sizes.get(counter) ?? 0) + Number(n ?? 0));
      }
    }
    return sizes;
  }

  /**
   * Up to `want` photos of one index partition in its order (newest first), after `cursor`, that pass
   * `filter`. Reads grow page by page while a filter drops items.
   */
  async function indexPage(
    index: GsiName,
    partition: string,
    range: { from?: string | null; toExclusive?: string | null },
    filter: ItemFilter,
    cursor: Cursor | null,
    want: number,
  ): Promise<ImageItem[]> {
    const pk = `${index}PK`;
    const sk = `${index}SK`;
    const names: Record<string, string> = { "#pk": pk };
    const values: Record<string, unknown> = { ":pk": partition };
    let condition = "#pk = :pk";
    if (range.from || range.toExclusive) names["#sk"] = sk;
    if (range.from && range.toExclusive) {
      // An item's sort key is "<time>#<id>": above the bare upper time when its time equals it.
      condition += " AND #sk BETWEEN :lo AND :hi";
      values[":lo"] = range.from;
      values[":hi"] = range.toExclusive;
    } else if (range.from) {
      condition += " AND #sk >= :lo";
      values[":lo"] = range.from;
    } else if (range.toExclusive) {
      condition += " AND #sk < :hi";
      values[":hi"] = range.toExclusive;
    }
    const filtering = filterExpression(filter);
    const items: ImageItem[] = [];
    let start: Record<string, unknown> | undefined = cursor
      ? { PK: `IMG#${cursor.id}`, SK: "#", [pk]: partition, [sk]: cursor.sort }
      : undefined;
    let limit = want;
    for (;;) {
      const page = await query<StoredImageItem>({
        IndexName: indexNameOf(index),
        KeyConditionExpression: condition,
        ExpressionAttributeNames: { ...names, ...filtering.ExpressionAttributeNames },
        ExpressionAttributeValues: { ...values, ...filtering.ExpressionAttributeValues },
        ...(filtering.FilterExpression ? { FilterExpression: filtering.FilterExpression } : {}),
        ScanIndexForward: false,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      items.push(...page.items.map(fromStored));
      if (items.length >= want || !page.last) return items.slice(0, want);
      start = page.last;
      limit = Math.min(1000, limit * 4);
    }
  }

  /**
   * Up to `want` word items of one word, newest added first, older than `before`, passing `filter`;
   * `complete` when they are all there are.
   */
  async function wordPage(word: string, filter: ItemFilter, before: string | null, want: number) {
    const filtering = filterExpression(filter);
    const rows: WordRow[] = [];
    let start: Record<string, unknown> | undefined;
    let limit = want;
    for (;;) {
      const page = await query<WordRow>({
        KeyConditionExpression: before ? "PK = :pk AND SK < :before" : "PK = :pk",
        ExpressionAttributeValues: {
          ":pk": `W#${word}`,
          ...(before ? { ":before": before } : {}),
          ...filtering.ExpressionAttributeValues,
        },
        ...(filtering.ExpressionAttributeNames
          ? { ExpressionAttributeNames: filtering.ExpressionAttributeNames }
          : {}),
        ...(filtering.FilterExpression ? { FilterExpression: filtering.FilterExpression } : {}),
        ProjectionExpression: "SK, id, ws",
        ScanIndexForward: false,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      rows.push(...page.items);
      if (!page.last) return { rows: rows.slice(0, want), complete: rows.length <= want };
      if (rows.length >= want) return { rows: rows.slice(0, want), complete: false };
      start = page.last;
      limit = Math.min(1000, limit * 4);
    }
  }

  /** The known words starting with `prefix`, alphabetically, at most MAX_PREFIX_WORDS. */
  async function wordsStartingWith(prefix: string): Promise<string[]> {
    const { items } = await query<{ SK: string }>({
      KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
      ExpressionAttributeValues: { ":pk": vocabularyKey(prefix).PK, ":prefix": prefix },
      ProjectionExpression: "SK",
      Limit: MAX_PREFIX_WORDS,
    });
    return items.map((i) => i.SK);
  }

  /**
   * A search page: the photos holding every word (the last one as a prefix), newest added first. Each whole
   * word's first items are read; a word with no more than a page of them gives the whole answer (its items
   * hold the photo's word list to check the others against). Else the longest word's items are read on,
   * filtered by their word lists; with only a prefix, the items of each word it starts are merged.
   */
  async function searchPage(
    terms: string[],
    filter: ItemFilter,
    cursor: Cursor | null,
    limit: number,
  ): Promise<ImagePage> {
    const want = limit + 1;
    const prefix = terms.at(-1) as string;
    const whole = [...new Set(terms.slice(0, -1))];
    const before = cursor ? cursor.sort : null;
    const holdsAll = (row: WordRow) =>
      whole.every((w) => row.ws.includes(` ${w} `)) && row.ws.includes(` ${prefix}`);
    let rows: WordRow[];
    if (whole.length > 0) {
      const probes = await Promise.all(whole.map((w) => wordPage(w, filter, before, want)));
      const complete = probes.filter((p) => p.complete).sort((a, b) => a.rows.length - b.rows.length)[0];
      if (complete) {
        rows = complete.rows.filter(holdsAll);
      } else {
        const driver = [...whole].sort((a, b) => b.length - a.length)[0] as string;
        const others = { ...filter, words: whole.filter((w) => w !== driver), prefix };
        rows = (await wordPage(driver, others, before, want)).rows;
      }
    } else {
      const words = await wordsStartingWith(prefix);
      const runs = await Promise.all(words.map((w) => wordPage(w, filter, before, want)));
      const byId = new Map<string, WordRow>();
      for (const row of runs.flatMap((r) => r.rows)) byId.set(row.id, row);
      rows = [...byId.values()].sort((a, b) => (a.SK < b.SK ? 1 : a.SK > b.SK ? -1 : 0)).slice(0, want);
    }
    const page = rows.slice(0, limit);
    const items = (await batchGet<StoredImageItem>(page.map((r) => imageKey(r.id)))).map(fromStored);
    const byId = new Map(items.map((i) => [i.rec.id, i]));
    // The word index follows each write: an item a slower writer left behind is checked against the photo.
    const holds = (item: ImageItem) =>
      !item.rec.trashedAt &&
      whole.every((w) => item.words.includes(w)) &&
      item.words.some((w) => w.startsWith(prefix));
    const last = page.at(-1);
    return {
      items: page.flatMap((r) => {
        const item = byId.get(r.id);
        return item && holds(item) ? [item.rec] : [];
      }),
      nextCursor:
        rows.length > limit && last ? encodeCursor({ index: "W", sort: last.SK, id: last.id }) : null,
    };
  }

  function toPage(items: ImageItem[], limit: number, index: GsiName): ImagePage {
    const page = items.slice(0, limit);
    const last = page.at(-1);
    const sk = `${index}SK` as const;
    return {
      items: page.map((i) => i.rec),
      nextCursor:
        items.length > limit && last
          ? encodeCursor({
              index,
              sort: String((last as unknown as Record<string, unknown>)[sk]),
              id: last.rec.id,
            })
          : null,
    };
  }

  async function listImages(query: ImageQuery): Promise<ImagePage> {
    const limit = checkLimit(query.limit);
    const order = query.order ?? "added";
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (query.album) throw notSupported("albums");
    const filter: ItemFilter = {
      category: query.category || null,
      status: query.status ? checkStatus(query.status) : null,
      place: query.place || null,
      from: query.from ? fromBound(query.from) : null,
      toExclusive: query.to ? toBoundExclusive(query.to) : null,
    };
    if (query.ids) return listOfIds(query.ids, filter, order, limit);
    if (query.q?.trim()) {
      const terms = searchTerms(query.q).flatMap(foldWords);
      if (terms.length === 0) return { items: [], nextCursor: null };
      if (order === "taken") throw notSupported("a search in capture-time order");
      if (cursor && cursor.index !== "W") throw badCursor();
      return searchPage(terms, filter, cursor, limit);
    }
    const want = limit + 1;
    const range = { from: filter.from, toExclusive: filter.toExclusive };
    const unranged = { ...filter, from: null, toExclusive: null };
    if (order === "taken") {
      if (cursor && cursor.index !== "G2")
        throw new PhotocatError("invalid_request", "cursor is from a listing in another order");
      return toPage(await indexPage("G2", "TAKEN", range, unranged, cursor, want), limit, "G2");
    }
    // Newest added first: from the smallest partition among the filters' indexes.
    const candidates: { index: GsiName; partition: string; counter: string }[] = [];
    if (filter.category)
      candidates.push({
        index: "G3",
        partition: `CAT#${filter.category}`,
        counter: `CAT#${filter.category}`,
      });
    if (filter.place)
      candidates.push({ index: "G5", partition: `PL#${filter.place}`, counter: `PLACE#${filter.place}` });
    if (filter.status)
      candidates.push({ index: "G4", partition: `ST#${filter.status}`, counter: `st_${filter.status}` });
    if (candidates.length === 0) {
      if (range.from || range.toExclusive) {
        // Only dates: read that stretch of the capture-time index (so newest taken first).
        if (cursor && cursor.index !== "G2") throw badCursor();
        return toPage(await indexPage("G2", "TAKEN", range, unranged, cursor, want), limit, "G2");
      }
      if (cursor && cursor.index !== "G1")
        throw new PhotocatError("invalid_request", "cursor is from a listing in another order");
      return toPage(await indexPage("G1", "ADDED", {}, filter, cursor, want), limit, "G1");
    }
    let chosen = candidates[0] as (typeof candidates)[number];
    if (cursor) {
      const same = candidates.find((c) => c.index === cursor.index);
      if (!same) throw new PhotocatError("invalid_request", "cursor is from a listing in another order");
      chosen = same;
    } else if (candidates.length > 1) {
      const sizes = await partitionSizes(candidates.map((c) => c.counter));
      chosen = [...candidates].sort((a, b) => (sizes.get(a.counter) ?? 0) - (sizes.get(b.counter) ?? 0))[0]!;
    }
    const rest: ItemFilter = {
      ...filter,
      ...(chosen.index === "G3" ? { category: null } : {}),
      ...(chosen.index === "G4" ? { status: null } : {}),
      ...(chosen.index === "G5" ? { place: null } : {}),
    };
    return toPage(
      await indexPage(chosen.index, chosen.partition, {}, rest, cursor, want),
      limit,
      chosen.index,
    );
  }

  /** A listing restricted to a few named photos (search by meaning): filtered here, as the index pages would. */
  async function listOfIds(
    ids: readonly string[],
    filter: ItemFilter,
    order: "added" | "taken",
    limit: number,
  ): Promise<ImagePage> {
    if (ids.length > MAX_PAGE_SIZE) {
      throw new PhotocatError("invalid_request", `ids: at most ${MAX_PAGE_SIZE} photos at once`);
    }
    const items = (await batchGet<StoredImageItem>([...new Set(ids)].map(imageKey))).map(fromStored);
    const matching = items.filter(
      (i) =>
        !i.rec.trashedAt &&
        (!filter.category || i.cat === filter.category) &&
        (!filter.status || i.st === filter.status) &&
        (!filter.place || i.pl === filter.place) &&
        (!filter.from || i.cap >= filter.from) &&
        (!filter.toExclusive || i.cap < filter.toExclusive),
    );
    const key = (i: ImageItem) => (order === "taken" ? i.cap : i.rec.createdAt);
    matching.sort((a, b) => (key(a) === key(b) ? (a.rec.id < b.rec.id ? 1 : -1) : key(a) < key(b) ? 1 : -1));
    return { items: matching.slice(0, limit).map((i) => i.rec), nextCursor: null };
  }

  /** Every photo a listing's filters find (newest first), a page at a time: for timeline and places. */
  async function everyMatch(filters: ImageFilters, order: "added" | "taken"): Promise<ImageRecord[]> {
    const all: ImageRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await listImages({ ...filters, order, limit: 500, cursor });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  const hasFilters = (f: ImageFilters) =>
    Boolean(f.category || f.status || f.place || f.from || f.to || f.q?.trim() || f.album);

  async function saveEmbedding(item: ImageItem, model: string, vector: ArrayLike<number>) {
    const changedMs = Date.now();
    const category = !item.rec.trashedAt ? item.rec.edits?.category : undefined;
    await doc.send(
      new PutCommand({
        TableName,
        Item: {
          PK: item.PK,
          SK: `EMB#${model}`,
          id: item.rec.id,
          vector: encodeVector(vector),
          changedMs,
          // The similar-photo index reads a model's embeddings in the order written (GSI5 holds places
          // for photo items; embedding items use it under their own partition).
          G5PK: `EMBCHG#${model}`,
          G5SK: embeddingChangeKey({ imageId: item.rec.id, changedMs }),
          ...(category
            ? { G6PK: `CORR#${model}`, G6SK: `${item.rec.createdAt}#${item.rec.id}`, category }
            : {}),
        },
      }),
    );
  }

  async function saveFingerprint(id: string, fingerprint: Pick<ImageRecord, "perceptualHash" | "sharpness">) {
    const item = await getItem(id);
    if (!item) return;
    const keys = fingerprint.perceptualHash ? [...new Set(hashKeys(fingerprint.perceptualHash))] : [];
    const stale = item.hashKeys.filter((k) => !keys.includes(k));
    // The index first, the sharpness last: a photo without sharpness is fingerprinted again.
    await batchWrite(
      keys.map((key) => ({
        PK: item.PK,
        SK: `HASH#${key}`,
        id,
        ph: fingerprint.perceptualHash,
        G6PK: `HASH#${key}`,
        G6SK: id,
      })),
      stale.map((key) => ({ PK: item.PK, SK: `HASH#${key}` })),
    );
    await mutate(id, (rec) => ({
      rec: { ...rec, perceptualHash: fingerprint.perceptualHash, sharpness: fingerprint.sharpness },
      hashKeys: keys,
    }));
    if (fingerprint.sharpness !== null) {
      await doc.send(new DeleteCommand({ TableName, Key: { PK: item.PK, SK: "NOFP" } }));
    }
  }

  function changeOf(change: ImagesChange, now: string) {
    return (rec: ImageRecord): Partial<ImageItem> | null => {
      switch (change.kind) {
        case "category":
          return {
            rec: {
              ...rec,
              edits: { ...rec.edits, category: storableText(change.category), editedAt: now },
              updatedAt: now,
            },
          };
        case "addTags": {
          const current = rec.edits?.tags ?? rec.analysis?.tags ?? [];
          const tags = addTags(current, change.tags).map((t) => storableText(t));
          return { rec: { ...rec, edits: { ...rec.edits, tags, editedAt: now }, updatedAt: now } };
        }
        case "trash":
          return rec.trashedAt ? null : { rec: { ...rec, trashedAt: now, updatedAt: now } };
        case "restore":
          return rec.trashedAt ? { rec: { ...rec, trashedAt: null, updatedAt: now } } : null;
        default:
          throw notSupported("albums");
      }
    };
  }

  async function insertOnce(image: NewImage): Promise<{ image: ImageRecord; created: boolean }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // New bytes are the common case: the pointer is read only once a write found it taken.
      const existing = attempt === 0 ? null : await get<{ id: string }>(shaKey(image.sha256));
      if (existing) {
        const stored = await getImage(existing.id);
        if (stored) return { image: stored, created: false };
        // A pointer to a photo that is gone (deleted meanwhile): taken over below.
      }
      const now = nowIso();
      const item = deriveItem({
        ...imageKey(image.id),
        v: 1,
        rec: newImageRecord(image, now),
        st: "queued",
        jobId: null,
        spentIn: 0,
        spentOut: 0,
        spentCost: 0,
        words: [],
        embModels: [],
        hashKeys: [],
      });
      try {
        await transact([
          {
            Put: {
              TableName,
              Item: { ...shaKey(image.sha256), id: image.id },
              ...(existing
                ? { ConditionExpression: "id = :old", ExpressionAttributeValues: { ":old": existing.id } }
                : { ConditionExpression: "attribute_not_exists(PK)" }),
            },
          },
          { Put: { TableName, Item: toStored(item), ConditionExpression: "attribute_not_exists(PK)" } },
          { Put: { TableName, Item: { PK: item.PK, SK: "ID", G6PK: "ID", G6SK: image.id } } },
          ...(image.sharpness === null
            ? [{ Put: { TableName, Item: { PK: item.PK, SK: "NOFP", G6PK: "NOFP", G6SK: image.id } } }]
            : []),
          ...counterUpdates([image.id, null, item]),
        ]);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        if (reasons[1] === "ConditionalCheckFailed") {
          throw new PhotocatError("conflict", `a photo with id ${image.id} already exists`);
        }
        if (reasons[0] !== "ConditionalCheckFailed") await pause(attempt);
        continue;
      }
      await followUp([null, item]);
      if (image.sharpness === null) return { image: item.rec, created: true };
      await saveFingerprint(image.id, image);
      return { image: (await getImage(image.id)) ?? item.rec, created: true };
    }
    throw new PhotocatError("busy", "the catalogue is busy storing the same photo: try again", {
      retryAfterS: 1,
    });
  }

  async function deleteImage(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const before = await getItem(id);
      if (!before) return false;
      try {
        await transact([
          {
            Delete: {
              TableName,
              Key: imageKey(id),
              ConditionExpression: "v = :v",
              ExpressionAttributeValues: { ":v": before.v },
            },
          },
          {
            Delete: {
              TableName,
              Key: shaKey(before.rec.sha256),
              ConditionExpression: "attribute_not_exists(PK) OR id = :id",
              ExpressionAttributeValues: { ":id": id },
            },
          },
          ...counterUpdates([id, before, null]),
        ]);
      } catch (error) {
        if (!cancellationReasons(error)) throw error;
        await pause(attempt);
        continue;
      }
      await followUp([before, null]);
      // Side items (embeddings, hash keys, markers) and the pairs it was part of.
      const side = await queryAll<{ PK: string; SK: string }>({
        KeyConditionExpression: "PK = :pk",
        ExpressionAttributeValues: { ":pk": `IMG#${id}` },
        ProjectionExpression: "PK, SK",
      });
      const pairs = side
        .filter((s) => s.SK.startsWith("DUP#"))
        .map((s) => pairKey(id, s.SK.slice("DUP#".length)));
      await batchWrite(
        [],
        [...side.map((s) => ({ PK: s.PK, SK: s.SK })), ...pairs, ...pairs.map((p) => mirrorKey(p, id))],
      );
      return true;
    }
    throw new PhotocatError("busy", `the photo ${id} is being changed by many writers: try again`, {
      retryAfterS: 1,
    });
  }

  const pairKey = (a: string, b: string) => {
    const [x, y] = [a, b].sort() as [string, string];
    return { PK: "DUPS", SK: `${x}#${y}` };
  };
  /** The side item, under the other photo of a pair, that lets deleting either photo find the pair. */
  const mirrorKey = (pair: { SK: string }, deleted: string) => {
    const [x, y] = pair.SK.split("#") as [string, string];
    const other = x === deleted ? y : x;
    return { PK: `IMG#${other}`, SK: `DUP#${deleted}` };
  };

  async function sessionItem(idHash: string) {
    return get<{ idHash: string; createdAt: number; expiresAt: number; revokedAt?: number | null }>({
      PK: `SESSION#${idHash}`,
      SK: "#",
    });
  }

  const expiryKey = (ms: number) => String(ms).padStart(16, "0");

  async function revokeSessionAt(idHash: string, now: number): Promise<boolean> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: { PK: `SESSION#${idHash}`, SK: "#" },
          UpdateExpression: "SET revokedAt = :now",
          ConditionExpression: "attribute_exists(PK) AND attribute_not_exists(revokedAt)",
          ExpressionAttributeValues: { ":now": now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  return {
    kind: "dynamodb",

    async insertImage(image: NewImage) {
      return insertOnce(image);
    },

    getImage,
    findBySha256,
    listImages,

    async setStatus(id: string, status: ImageStatus, error?: string | null) {
      const checked = checkStatus(status);
      await mutate(id, (rec) => ({
        rec: {
          ...rec,
          status: checked,
          error: error ? storableText(error, MAX_ERROR_CHARS) : null,
          updatedAt: nowIso(),
        },
      }));
    },

    async saveAnalysis(id: string, analysis: Analysis, jobId: string) {
      const current = await getItem(id);
      if (!current) throw notFound(id);
      if (current.jobId === jobId) return;
      // The embedding first: a crash before the record is written is repaired when the same job runs again.
      if (analysis.embedding) {
        await saveEmbedding(current, analysis.embedding.model, analysis.embedding.vector);
      }
      const p = analysis.provenance;
      const changed = await mutate(id, (rec, item) => {
        if (item.jobId === jobId) return null;
        const models = analysis.embedding
          ? [...new Set([...item.embModels, analysis.embedding.model])]
          : item.embModels;
        return {
          rec: {
            ...rec,
            analysis: storedAnalysis(analysis),
            status: "done",
            error: null,
            updatedAt: nowIso(),
          },
          jobId,
          embModels: models,
          spentIn: item.spentIn + p.inputTokens,
          spentOut: item.spentOut + p.outputTokens,
          spentCost: item.spentCost + p.costUsd,
        };
      });
      if (!changed) throw notFound(id);
    },

    async saveEmbedding(id: string, embedding: NewEmbedding) {
      const current = await getItem(id);
      if (!current) throw notFound(id);
      const { model } = embedding;
      await saveEmbedding(current, model, embedding.vector);
      // The photo lists its models, so that deleting it deletes this embedding too.
      const changed = await mutate(id, (rec, item) =>
        item.embModels.includes(model) ? null : { rec, embModels: [...item.embModels, model] },
      );
      if (!changed) throw notFound(id);
      if (embedding.inputTokens <= 0 && embedding.costUsd <= 0) return;
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: { PK: `STATS#${shardOf(id)}`, SK: `EMBMODEL#${model}` },
          UpdateExpression: "ADD n :n, inputTokens :t, cost :c",
          ExpressionAttributeValues: {
            ":n": current.embModels.includes(model) ? 0 : 1,
            ":t": Math.max(0, Math.round(embedding.inputTokens)),
            ":c": Math.max(0, embedding.costUsd),
          },
        }),
      );
    },

    async analysisJobId(id: string) {
      return (await getItem(id))?.jobId ?? null;
    },

    async saveEdits(id, edits) {
      const set: Omit<ImageRecord["edits"] & object, "editedAt"> = {};
      if (edits.summary !== undefined) set.summary = storableText(edits.summary);
      if (edits.category !== undefined) set.category = storableText(edits.category);
      if (edits.tags !== undefined) set.tags = edits.tags.map((t) => storableText(t));
      if (edits.altText !== undefined) set.altText = storableText(edits.altText);
      if (Object.keys(set).length === 0) return getImage(id);
      const result = await mutate(id, (rec) => {
        const now = nowIso();
        return { rec: { ...rec, edits: { ...rec.edits, ...set, editedAt: now }, updatedAt: now } };
      });
      return result?.after.rec ?? null;
    },

    deleteImage,

    async trashImage(id: string) {
      const now = nowIso();
      const result = await mutate(id, (rec) =>
        rec.trashedAt ? null : { rec: { ...rec, trashedAt: now, updatedAt: now } },
      );
      return result?.after.rec ?? null;
    },

    async restoreImage(id: string) {
      const result = await mutate(id, (rec) =>
        rec.trashedAt ? { rec: { ...rec, trashedAt: null, updatedAt: nowIso() } } : null,
      );
      return result?.after.rec ?? null;
    },

    async listTrash(q) {
      const limit = checkLimit(q.limit);
      const cursor = q.cursor ? decodeCursor(q.cursor) : null;
      if (cursor && cursor.index !== "G1") throw badCursor();
      const items = await indexPage(
        "G1",
        "TRASH",
        { toExclusive: q.trashedBefore ?? null },
        {},
        cursor,
        limit + 1,
      );
      return toPage(items, limit, "G1");
    },

    async changeImages(ids: readonly string[], change: ImagesChange): Promise<ImagesChanged> {
      if (change.kind === "addToAlbum" || change.kind === "removeFromAlbum") throw notSupported("albums");
      const wanted = [...new Set(ids)];
      const found = new Map((await recordsOf(wanted)).map((r) => [r.id, r]));
      const missing = wanted.filter((id) => !found.has(id));
      const touchesTrash = change.kind === "trash" || change.kind === "restore";
      const inTrash = touchesTrash ? [] : wanted.filter((id) => found.get(id)?.trashedAt);
      const targets = wanted.filter((id) => found.has(id) && !inTrash.includes(id));
      const now = nowIso();
      // Each photo changes atomically; a bulk change is not one transaction (DynamoDB's hold 100 items).
      const results = await mutateMany(targets, changeOf(change, now));
      return {
        changed: results.map((r) => r.rec),
        missing,
        inTrash,
      };
    },

    async timeline(filters: ImageFilters) {
      if (filters.album) throw notSupported("albums");
      const months = new Map<string, number>();
      if (!hasFilters(filters)) {
        for (const [sk, sums] of await counterItems("MONTH#")) {
          if ((sums.n ?? 0) > 0) months.set(sk.slice("MONTH#".length), sums.n ?? 0);
        }
      } else {
        // Filtered: every match is read (through the indexes, never a Scan).
        const order = filters.q?.trim() ? "added" : "taken";
        for (const rec of await everyMatch(filters, order)) {
          const month = normaliseCaptureTime(rec.metadata.takenAt, rec.createdAt).slice(0, 7);
          months.set(month, (months.get(month) ?? 0) + 1);
        }
      }
      return [...months]
        .map(([month, count]) => ({ month, count }))
        .sort((a, b) => (a.month < b.month ? 1 : -1));
    },

    async places(filters: ImageFilters) {
      if (filters.album) throw notSupported("albums");
      const places = new Map<string, { n: number; lat: number; lon: number }>();
      if (!hasFilters(filters)) {
        for (const [sk, sums] of await counterItems("PLACE#")) {
          if ((sums.n ?? 0) > 0)
            places.set(sk.slice("PLACE#".length), { n: sums.n ?? 0, lat: sums.lat ?? 0, lon: sums.lon ?? 0 });
        }
      } else {
        for (const rec of await everyMatch(filters, "added")) {
          const gps = rec.metadata.gps;
          if (!rec.place || !gps) continue;
          const p = places.get(rec.place) ?? { n: 0, lat: 0, lon: 0 };
          places.set(rec.place, { n: p.n + 1, lat: p.lat + gps.latitude, lon: p.lon + gps.longitude });
        }
      }
      return [...places]
        .map(([place, p]) => ({ place, lat: p.lat / p.n, lon: p.lon / p.n, count: p.n }))
        .sort((a, b) => b.count - a.count || (a.place < b.place ? -1 : 1));
    },

    async createAlbum() {
      throw notSupported("albums");
    },
    async getAlbum() {
      throw notSupported("albums");
    },
    async listAlbums() {
      throw notSupported("albums");
    },
    async updateAlbum() {
      throw notSupported("albums");
    },
    async deleteAlbum() {
      throw notSupported("albums");
    },

    async categoryCounts() {
      const counts = [...(await counterItems("CAT#"))]
        .map(([sk, sums]) => ({ category: sk.slice("CAT#".length), count: sums.n ?? 0 }))
        .filter((c) => c.count > 0);
      return counts.sort((a, b) => b.count - a.count || (a.category < b.category ? -1 : 1));
    },

    async stats(): Promise<CatalogStats> {
      const [totals, models, embeddingModels] = await Promise.all([
        counterItems("TOTAL"),
        counterItems("MODEL#"),
        counterItems("EMBMODEL#"),
      ]);
      // Photos embedded since the first paid embedding (trashed and deleted ones included: no counter follows them).
      const byEmbeddingModel = [...embeddingModels]
        .map(([sk, sums]) => ({
          model: sk.slice("EMBMODEL#".length),
          images: sums.n ?? 0,
          inputTokens: sums.inputTokens ?? 0,
          costUsd: sums.cost ?? 0,
        }))
        .sort((a, b) => (a.model < b.model ? -1 : 1));
      const t = totals.get("TOTAL") ?? {};
      const byStatus = Object.fromEntries(IMAGE_STATUSES.map((s) => [s, t[`st_${s}`] ?? 0])) as Record<
        ImageStatus,
        number
      >;
      return {
        images: t.images ?? 0,
        byStatus,
        inputTokens: t.inputTokens ?? 0,
        outputTokens: t.outputTokens ?? 0,
        costUsd: t.costUsd ?? 0,
        byModel: [...models]
          .filter(([, sums]) => (sums.n ?? 0) > 0)
          .map(([sk, sums]) => {
            const [provider = "", model = ""] = sk.slice("MODEL#".length).split("\t");
            return { provider, model, images: sums.n ?? 0, costUsd: sums.cost ?? 0 };
          })
          .sort((a, b) =>
            a.provider === b.provider ? (a.model < b.model ? -1 : 1) : a.provider < b.provider ? -1 : 1,
          ),
        embeddingCostUsd: byEmbeddingModel.reduce((sum, m) => sum + m.costUsd, 0),
        byEmbeddingModel,
      };
    },

    async selectIds(filter) {
      if (!filter.all && !filter.status && !filter.category) return [];
      const [index, partition] = filter.category
        ? (["G3", `CAT#${filter.category}`] as const)
        : filter.status
          ? (["G4", `ST#${checkStatus(filter.status)}`] as const)
          : (["G1", "ADDED"] as const);
      const filtering = filterExpression(filter.category && filter.status ? { status: filter.status } : {});
      const items = await queryAll<{ PK: string }>({
        IndexName: indexNameOf(index),
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": `${index}PK`, ...filtering.ExpressionAttributeNames },
        ExpressionAttributeValues: { ":pk": partition, ...filtering.ExpressionAttributeValues },
        ...(filtering.FilterExpression ? { FilterExpression: filtering.FilterExpression } : {}),
        ProjectionExpression: "PK",
      });
      return items.map((i) => i.PK.slice("IMG#".length));
    },

    async correctionExamples(embeddingModel: string) {
      const items = await queryAll<{ id: string; category: string; vector: Uint8Array }>({
        IndexName: indexNameOf("G6"),
        KeyConditionExpression: "G6PK = :pk",
        ExpressionAttributeValues: { ":pk": `CORR#${embeddingModel}` },
      });
      return items.map((i) => ({ imageId: i.id, category: i.category, vector: decodeVector(i.vector) }));
    },

    async embeddingsOf(id: string) {
      const items = await queryAll<{ SK: string; vector: Uint8Array; changedMs?: number }>({
        KeyConditionExpression: "PK = :pk AND begins_with(SK, :emb)",
        ExpressionAttributeValues: { ":pk": `IMG#${id}`, ":emb": "EMB#" },
        ConsistentRead: true,
      });
      return items
        .sort((a, b) => (b.changedMs ?? 0) - (a.changedMs ?? 0))
        .map((i) => ({ model: i.SK.slice("EMB#".length), vector: decodeFloats(i.vector) }));
    },

    async changedEmbeddings(model: string, since: EmbeddingChange | null, limit: number) {
      const { items } = await query<{ id: string; vector: Uint8Array; changedMs: number }>({
        IndexName: indexNameOf("G5"),
        KeyConditionExpression: since ? "G5PK = :pk AND G5SK > :since" : "G5PK = :pk",
        ExpressionAttributeValues: {
          ":pk": `EMBCHG#${model}`,
          ...(since ? { ":since": embeddingChangeKey(since) } : {}),
        },
        Limit: limit,
      });
      return items.map((i) => ({ imageId: i.id, changedMs: i.changedMs, vector: decodeFloats(i.vector) }));
    },

    async probeWrite() {
      await doc.send(
        new PutCommand({ TableName, Item: { PK: `PROBE#${PROCESS_ID}`, SK: "#", probedAt: nowIso() } }),
      );
    },

    async createSession(session, now) {
      const expired = await queryAll<{ PK: string; SK: string }>({
        IndexName: indexNameOf("G1"),
        KeyConditionExpression: "G1PK = :pk AND G1SK < :now",
        ExpressionAttributeValues: { ":pk": "SESSIONS", ":now": expiryKey(now) },
        ProjectionExpression: "PK, SK",
      });
      await batchWrite(
        [],
        expired.map((e) => ({ PK: e.PK, SK: e.SK })),
      );
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: {
              PK: `SESSION#${session.idHash}`,
              SK: "#",
              idHash: session.idHash,
              createdAt: session.createdAt,
              expiresAt: session.expiresAt,
              ttl: Math.ceil(session.expiresAt / 1000) + 86_400,
              G1PK: "SESSIONS",
              G1SK: `${expiryKey(session.expiresAt)}#${session.idHash}`,
            },
            ConditionExpression: "attribute_not_exists(PK)",
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) throw new PhotocatError("conflict", "a session with this id exists");
        throw error;
      }
    },

    async findSession(idHash): Promise<SessionRecord | null> {
      const item = await sessionItem(idHash);
      if (!item) return null;
      return {
        idHash: item.idHash,
        createdAt: Number(item.createdAt),
        expiresAt: Number(item.expiresAt),
        revokedAt: item.revokedAt === undefined || item.revokedAt === null ? null : Number(item.revokedAt),
      };
    },

    revokeSession: revokeSessionAt,

    async revokeAllSessions(now) {
      const active = await queryAll<{ idHash: string }>({
        IndexName: indexNameOf("G1"),
        KeyConditionExpression: "G1PK = :pk AND G1SK >= :now",
        FilterExpression: "attribute_not_exists(revokedAt)",
        ExpressionAttributeValues: { ":pk": "SESSIONS", ":now": expiryKey(now) },
        ProjectionExpression: "idHash",
      });
      const revoked = await inParallel(active, (s) => revokeSessionAt(s.idHash, now));
      return revoked.filter(Boolean).length;
    },

    saveFingerprint,

    async idsWithoutFingerprint(limit: number, after?: string | null) {
      const { items } = await query<{ G6SK: string }>({
        IndexName: indexNameOf("G6"),
        KeyConditionExpression: after ? "G6PK = :pk AND G6SK > :after" : "G6PK = :pk",
        ExpressionAttributeValues: { ":pk": "NOFP", ...(after ? { ":after": after } : {}) },
        Limit: checkLimit(limit),
      });
      return items.map((i) => i.G6SK);
    },

    async hashCandidates(keys: readonly number[], excludeId: string) {
      const found = new Map<string, string>();
      const runs = await inParallel([...new Set(keys)], (key) =>
        queryAll<{ id: string; ph: string }>({
          IndexName: indexNameOf("G6"),
          KeyConditionExpression: "G6PK = :pk",
          ExpressionAttributeValues: { ":pk": `HASH#${key}` },
          ProjectionExpression: "id, ph",
        }),
      );
      for (const item of runs.flat()) if (item.id !== excludeId && item.ph) found.set(item.id, item.ph);
      return [...found].map(([id, perceptualHash]) => ({ id, perceptualHash }));
    },

    async addDuplicatePairs(pairs: readonly DuplicatePair[]) {
      const fresh = pairs.filter((p) => p.a !== p.b);
      if (fresh.length === 0) return;
      const ids = [...new Set(fresh.flatMap((p) => [p.a, p.b]))];
      const existing = new Set((await recordsOf(ids)).map((r) => r.id));
      for (const pair of fresh) {
        // A pair with a photo deleted meanwhile is of no use.
        if (!existing.has(pair.a) || !existing.has(pair.b)) continue;
        const key = pairKey(pair.a, pair.b);
        const [a, b] = key.SK.split("#") as [string, string];
        try {
          await doc.send(
            new PutCommand({
              TableName,
              Item: { ...key, a, b, distance: pair.distance },
              ConditionExpression: "attribute_not_exists(PK)",
            }),
          );
        } catch (error) {
          if (isConditionFailure(error)) continue;
          throw error;
        }
        await batchWrite([
          { PK: `IMG#${a}`, SK: `DUP#${b}` },
          { PK: `IMG#${b}`, SK: `DUP#${a}` },
        ]);
      }
    },

    async duplicatePairs() {
      // Every pair recorded (the review screen shows them all), then the photos' trash state.
      const pairs = await queryAll<{ a: string; b: string; distance: number; dismissedAt?: string }>({
        KeyConditionExpression: "PK = :pk",
        FilterExpression: "attribute_not_exists(dismissedAt)",
        ExpressionAttributeValues: { ":pk": "DUPS" },
      });
      const records = new Map(
        (await recordsOf([...new Set(pairs.flatMap((p) => [p.a, p.b]))])).map((r) => [r.id, r]),
      );
      const live = (id: string) => {
        const rec = records.get(id);
        return rec !== undefined && !rec.trashedAt;
      };
      return pairs
        .filter((p) => live(p.a) && live(p.b))
        .map((p) => ({ a: p.a, b: p.b, distance: Number(p.distance) }));
    },

    async dismissDuplicates(ids: readonly string[]) {
      const unique = [...new Set(ids)].sort();
      const keys: { PK: string; SK: string }[] = [];
      for (let i = 0; i < unique.length; i++)
        for (let j = i + 1; j < unique.length; j++) keys.push(pairKey(unique[i]!, unique[j]!));
      const now = nowIso();
      const done = await inParallel(keys, async (Key) => {
        try {
          await doc.send(
            new UpdateCommand({
              TableName,
              Key,
              UpdateExpression: "SET dismissedAt = :now",
              ConditionExpression: "attribute_exists(PK) AND attribute_not_exists(dismissedAt)",
              ExpressionAttributeValues: { ":now": now },
            }),
          );
          return true;
        } catch (error) {
          if (isConditionFailure(error)) return false;
          throw error;
        }
      });
      return done.filter(Boolean).length;
    },

    getImages: recordsOf,

    async findIdsByPrefix(prefix: string, limit: number) {
      if (!prefix) return [];
      const { items } = await query<{ G6SK: string }>({
        IndexName: indexNameOf("G6"),
        KeyConditionExpression: "G6PK = :pk AND begins_with(G6SK, :prefix)",
        ExpressionAttributeValues: { ":pk": "ID", ":prefix": prefix },
        Limit: checkLimit(limit),
      });
      return items.map((i) => i.G6SK);
    },

    close: options.close,
  };
}
