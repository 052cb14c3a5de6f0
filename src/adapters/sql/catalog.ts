import { hostname } from "node:os";
import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import { type Analysis, addTags } from "../../domain/analysis.js";
import { PhotocatError } from "../../domain/errors.js";
import { IMAGE_STATUSES, type ImageRecord, type ImageStatus } from "../../domain/image.js";
import { hashKeys } from "../../domain/near-duplicates.js";
import {
  type ExpandedWord,
  lastTier,
  loadSearchExpander,
  type SearchExpander,
  type SearchTier,
} from "../../lexicon/search-expansion.js";
import type {
  AlbumRecord,
  AlbumSummary,
  Catalog,
  CatalogStats,
  CorrectionExample,
  DuplicatePair,
  EmbeddingChange,
  ImageFilters,
  ImageOrder,
  ImagePage,
  ImageQuery,
  ImagesChange,
  ImagesChanged,
  NewEmbedding,
  NewImage,
  SelectFilter,
  SessionRecord,
} from "../../ports/catalog.js";
import type { SqlDialect } from "./dialect.js";
import {
  analysisColumns,
  decodeFloats,
  decodeVector,
  encodeVector,
  IMAGE_COLUMNS,
  type ImageRow,
  newImageRow,
  parseTags,
  storableText,
  toImageRecord,
} from "./mapping.js";
import {
  checkLimit,
  checkStatus,
  decodeCursor,
  encodeCursor,
  fromBound,
  type ListCursor,
  MAX_PAGE_SIZE,
  phraseTokens,
  searchTerms,
  tierAddsWords,
  toBoundExclusive,
} from "./query.js";
import type { AlbumsTable, Database } from "./schema.js";

const MAX_ERROR_CHARS = 2000;
const PROCESS_ID = `${hostname()}:${process.pid}`;

const notFound = (id: string) => new PhotocatError("not_found", `no photo with id ${id}`);

type Images = SelectQueryBuilder<Database, "images", object>;
type PageRow = ImageRow & { captured_at: string };
type SavedFilters = AlbumRecord["filters"];

/** Ids per statement: well under SQLite's and PostgreSQL's limits on bound values. */
const IDS_PER_STATEMENT = 500;

/**
 * A page from up to `limit + 1` rows in page order: the extra row, when there, says another page follows,
 * and the cursor names the last row shown by its sort key and id.
 */
function toPage<Row extends ImageRow>(
  rows: Row[],
  limit: number,
  sortKey: (row: Row) => string | null,
  taken = false,
): ImagePage {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const key = last ? sortKey(last) : null;
  return {
    items: page.map(toImageRecord),
    nextCursor:
      rows.length > limit && last && key
        ? encodeCursor({ createdAt: key, id: last.id, ...(taken ? { taken } : {}) })
        : null,
  };
}

const SAVED_FILTER_KEYS = ["category", "status", "from", "to", "q", "place"] as const;

/** A smart album's search as stored: only the filters set. */
function storeFilters(filters: SavedFilters): string | null {
  if (!filters) return null;
  const kept = Object.fromEntries(SAVED_FILTER_KEYS.flatMap((k) => (filters[k] ? [[k, filters[k]]] : [])));
  return JSON.stringify(kept);
}

function readFilters(value: string | null): SavedFilters {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    return Object.fromEntries(
      SAVED_FILTER_KEYS.flatMap((k) => (typeof parsed[k] === "string" ? [[k, parsed[k]]] : [])),
    );
  } catch {
    return {};
  }
}

function toAlbumRecord(row: AlbumsTable): AlbumRecord {
  return {
    id: row.id,
    name: row.name,
    filters: readFilters(row.filters),
    coverId: row.cover_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function chunks<T>(items: readonly T[], size = IDS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createSqlCatalog(
  db: Kysely<Database>,
  dialect: SqlDialect,
  options: {
    kind: string;
    close: () => Promise<void>;
    /** How search words are widened (default: WordNet, loaded on the first search). */
    expander?: () => Promise<SearchExpander>;
  },
): Catalog {
  const nowIso = () => new Date().toISOString();

  async function getImage(id: string): Promise<ImageRecord | null> {
    const row = await db.selectFrom("images").select(IMAGE_COLUMNS).where("id", "=", id).executeTakeFirst();
    return row ? toImageRecord(row) : null;
  }

  async function findBySha256(sha256: string): Promise<ImageRecord | null> {
    const row = await db
      .selectFrom("images")
      .select(IMAGE_COLUMNS)
      .where("sha256", "=", sha256)
      .executeTakeFirst();
    return row ? toImageRecord(row) : null;
  }

  /** The rows of `ids` in that order (those that still exist). */
  async function rowsOfIds(ids: readonly string[]): Promise<PageRow[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom("images")
      .select([...IMAGE_COLUMNS, "captured_at"])
      .where("id", "in", ids)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Up to `count` rows of a listing, newest first by `key`, after `cursor`. `search`: the listing holds a
   * search condition, so the page's keys are sorted first and only then are the page's rows read.
   */
  async function pageRows(
    filtered: Images,
    key: "created_at" | "captured_at",
    cursor: ListCursor | null,
    count: number,
    search = false,
  ): Promise<PageRow[]> {
    let select = filtered.select(IMAGE_COLUMNS);
    if (cursor) {
      select = select.where(({ eb, refTuple, tuple }) =>
        eb(refTuple(key, "id"), "<", tuple(cursor.createdAt, cursor.id)),
      );
    }
    if (search) {
      // Sorting up to thousands of matches is cheaper on their keys alone; then only the page's rows are read.
      const pageKeys = select
        .clearSelect()
        .select("id")
        .orderBy(key, "desc")
        .orderBy("id", "desc")
        .limit(count);
      select = db.selectFrom("images").select(IMAGE_COLUMNS).where("id", "in", pageKeys);
    }
    return select.select("captured_at").orderBy(key, "desc").orderBy("id", "desc").limit(count).execute();
  }

  /** The query's words with their synonyms and narrower words (WordNet, loaded on the first search). */
  async function expandTerms(terms: readonly string[]): Promise<ExpandedWord[]> {
    const expander = await (options.expander ?? loadSearchExpander)();
    const words = expander.expand(terms);
    if (!dialect.indexedWords) return words;
    const tokens = new Set(words.flatMap((w) => [...w.synonyms, ...w.narrower].flatMap(phraseTokens)));
    const indexed = await dialect.indexedWords([...tokens]);
    const used = (word: string) => phraseTokens(word).every((t) => indexed.has(t));
    return words.map((w) => ({ ...w, synonyms: w.synonyms.filter(used), narrower: w.narrower.filter(used) }));
  }

  async function albumRow(id: string): Promise<AlbumsTable | undefined> {
    return db.selectFrom("albums").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * The listing's filters as conditions on `images` (the caller excludes or picks trashed photos); null when
   * nothing can match (a search of punctuation only). A smart album adds its saved search to the others; an
   * album that does not exist is not_found.
   */
  async function applyFilters(
    select: Images,
    filters: ImageFilters & { order?: ImageOrder },
  ): Promise<Images | null> {
    if (filters.category) select = select.where("category_effective", "=", filters.category);
    if (filters.status) select = select.where("status", "=", checkStatus(filters.status));
    if (filters.place) select = select.where("place", "=", filters.place);
    if (filters.from || filters.to) {
      const from = filters.from ? fromBound(filters.from) : null;
      const to = filters.to ? toBoundExclusive(filters.to) : null;
      select = select.where(await dialect.capturedBetween(from, to, filters.order === "taken"));
    }
    if (filters.q?.trim()) {
      const terms = searchTerms(filters.q);
      if (terms.length === 0) return null;
      const words = await expandTerms(terms);
      select = select.where(await dialect.matchesSearch({ words, tier: lastTier(words), onlyNew: false }));
    }
    if (filters.album) {
      const album = await albumRow(filters.album);
      if (!album) throw new PhotocatError("not_found", `no album with id ${filters.album}`);
      return inAlbum(select, album, filters.order);
    }
    return select;
  }

  /** The photos of an album: those its saved search finds, or those chosen. */
  async function inAlbum(select: Images, album: AlbumsTable, order?: ImageOrder): Promise<Images | null> {
    const saved = readFilters(album.filters);
    if (saved) return applyFilters(select, { ...saved, order });
    return select.where(await dialect.inAlbum(album.id));
  }

  async function countOf(select: SelectQueryBuilder<Database, keyof Database, object>): Promise<number> {
    const row = await select.select(({ fn }) => fn.countAll<number>().as("count")).executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async function summariseAlbum(row: AlbumsTable): Promise<AlbumSummary> {
    const album = toAlbumRecord(row);
    const members = await inAlbum(db.selectFrom("images").where("trashed_at", "is", null), row, "taken");
    if (!members) return { ...album, count: 0, cover: null };
    const count = album.filters
      ? await countOf(members)
      : // Chosen photos: all of them (a range of the album's key) less the few in the trash.
        (await countOf(db.selectFrom("album_images").where("album_id", "=", row.id))) -
        (await countOf(
          db
            .selectFrom("images")
            .where("trashed_at", "is not", null)
            .where(({ exists, selectFrom }) =>
              exists(
                selectFrom("album_images")
                  .select("image_id")
                  .where("album_id", "=", row.id)
                  .whereRef("image_id", "=", "images.id"),
              ),
            ),
        ));
    if (count === 0) return { ...album, count, cover: null };
    const chosen = album.coverId
      ? await members.select(IMAGE_COLUMNS).where("id", "=", album.coverId).executeTakeFirst()
      : undefined;
    const cover =
      chosen ??
      (await members
        .select(IMAGE_COLUMNS)
        .orderBy("captured_at", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst());
    return { ...album, count, cover: cover ? toImageRecord(cover) : null };
  }

  async function getAlbum(id: string): Promise<AlbumSummary | null> {
    const row = await albumRow(id);
    return row ? summariseAlbum(row) : null;
  }

  /** The records of `ids` (any order), read a chunk at a time. */
  async function recordsOf(ids: readonly string[]): Promise<ImageRecord[]> {
    const records: ImageRecord[] = [];
    for (const part of chunks(ids)) {
      const rows = await db.selectFrom("images").select(IMAGE_COLUMNS).where("id", "in", part).execute();
      records.push(...rows.map(toImageRecord));
    }
    return records;
  }

  /**
   * Writes the hash index first and the sharpness last: a photo whose sharpness is null is fingerprinted
   * again (idsWithoutFingerprint), so a crash in between leaves nothing half indexed for good.
   */
  async function saveFingerprint(id: string, fingerprint: Pick<ImageRecord, "perceptualHash" | "sharpness">) {
    await db.deleteFrom("image_hash_keys").where("image_id", "=", id).execute();
    if (fingerprint.perceptualHash) {
      const rows = [...new Set(hashKeys(fingerprint.perceptualHash))].map((key) => ({ key, image_id: id }));
      await db
        .insertInto("image_hash_keys")
        .values(rows)
        .onConflict((oc) => oc.columns(["key", "image_id"]).doNothing())
        .execute();
    }
    await db
      .updateTable("images")
      .set({ perceptual_hash: fingerprint.perceptualHash, sharpness: fingerprint.sharpness })
      .where("id", "=", id)
      .execute();
  }

  return {
    kind: options.kind,

    async insertImage(image: NewImage) {
      // ON CONFLICT DO NOTHING, then read: two concurrent uploads of the same bytes give one record.
      const result = await db
        .insertInto("images")
        .values({ ...newImageRow(image, nowIso()), sharpness: null })
        .onConflict((oc) => oc.column("sha256").doNothing())
        .executeTakeFirst();
      const created = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
      if (created && image.sharpness !== null) await saveFingerprint(image.id, image);
      const stored = await findBySha256(image.sha256);
      if (!stored) throw new PhotocatError("internal", "the photo vanished right after it was stored");
      return { image: stored, created };
    },

    getImage,
    findBySha256,

    async listImages(query: ImageQuery): Promise<ImagePage> {
      const limit = checkLimit(query.limit);
      const order = query.order ?? "added";
      const cursor = query.cursor ? decodeCursor(query.cursor) : null;
      if (cursor && Boolean(cursor.taken) !== (order === "taken")) {
        throw new PhotocatError("invalid_request", "cursor is from a listing in another order");
      }
      // The search words go apart: SQLite reads a search page from its index in upload order.
      if (query.ids && query.ids.length > MAX_PAGE_SIZE) {
        throw new PhotocatError("invalid_request", `ids: at most ${MAX_PAGE_SIZE} photos at once`);
      }
      let live = db.selectFrom("images").where("trashed_at", "is", null);
      if (query.ids) {
        if (query.ids.length === 0) return { items: [], nextCursor: null };
        live = live.where("id", "in", [...query.ids]);
      }
      const filtered = await applyFilters(live, { ...query, q: null, order });
      const terms = query.q?.trim() ? searchTerms(query.q) : null;
      // Only punctuation: no word to look for, so nothing matches.
      if (!filtered || terms?.length === 0) return { items: [], nextCursor: null };
      const key = order === "taken" ? "captured_at" : "created_at";
      if (!terms) {
        const rows = await pageRows(filtered, key, cursor, limit + 1);
        return toPage(rows, limit, (row) => row[key], order === "taken");
      }
      // Exact words first, then synonyms, then narrower words, each tier newest first: a page may span tiers.
      const words = await expandTerms(terms);
      const rows: (PageRow & { tier: SearchTier })[] = [];
      for (let tier = cursor?.tier ?? 0; tier <= lastTier(words) && rows.length <= limit; tier++) {
        if (!tierAddsWords(words, tier as SearchTier)) continue;
        const search = { words, tier: tier as SearchTier, onlyNew: true };
        const after = tier === (cursor?.tier ?? 0) ? cursor : null;
        const wanted = limit + 1 - rows.length;
        let found: PageRow[] | null = null;
        if (dialect.searchPage && order === "added") {
          const ids = await dialect.searchPage(filtered, search, after, wanted);
          if (ids) found = await rowsOfIds(ids);
        }
        found ??= await pageRows(
          filtered.where(await dialect.matchesSearch(search)),
          key,
          after,
          wanted,
          true,
        );
        rows.push(...found.map((row) => ({ ...row, tier: tier as SearchTier })));
      }
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toImageRecord),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({
                createdAt: last[key],
                id: last.id,
                ...(order === "taken" ? { taken: true } : {}),
                tier: last.tier,
              })
            : null,
      };
    },

    async setStatus(id: string, status: ImageStatus, error?: string | null) {
      await db
        .updateTable("images")
        .set({
          status: checkStatus(status),
          error: error ? storableText(error, MAX_ERROR_CHARS) : null,
          updated_at: nowIso(),
        })
        .where("id", "=", id)
        .execute();
    },

    async saveAnalysis(id: string, analysis: Analysis, jobId: string) {
      const p = analysis.provenance;
      // No transaction (SQLite would hold its write lock across awaits). The embedding goes first: a
      // crash before the record is written is repaired when the same job runs again.
      if (analysis.embedding) {
        const { model, vector } = analysis.embedding;
        try {
          await db
            .insertInto("embeddings")
            .values({ image_id: id, model, vector: encodeVector(vector), changed_ms: dialect.nowMs() })
            .onConflict((oc) =>
              oc.columns(["image_id", "model"]).doUpdateSet((eb) => ({
                vector: eb.ref("excluded.vector"),
                changed_ms: eb.ref("excluded.changed_ms"),
              })),
            )
            .execute();
        } catch (error) {
          if (dialect.isForeignKeyViolation(error)) throw notFound(id);
          throw error;
        }
      }
      const result = await db
        .updateTable("images")
        .set((eb) => ({
          ...analysisColumns(analysis, jobId, nowIso()),
          spent_input_tokens: eb("spent_input_tokens", "+", p.inputTokens),
          spent_output_tokens: eb("spent_output_tokens", "+", p.outputTokens),
          spent_cost_usd: eb("spent_cost_usd", "+", p.costUsd),
        }))
        .where("id", "=", id)
        // The same job saving twice (it crashed before completing) changes nothing.
        .where("analysis_job_id", "is distinct from", jobId)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0 && !(await getImage(id))) throw notFound(id);
    },

    async analysisJobId(id: string) {
      const row = await db
        .selectFrom("images")
        .select("analysis_job_id")
        .where("id", "=", id)
        .executeTakeFirst();
      return row?.analysis_job_id ?? null;
    },

    async saveEdits(id, edits) {
      const set: {
        edit_summary?: string;
        edit_category?: string;
        edit_tags?: string;
        edit_alt_text?: string;
      } = {};
      if (edits.summary !== undefined) set.edit_summary = storableText(edits.summary);
      if (edits.category !== undefined) set.edit_category = storableText(edits.category);
      if (edits.tags !== undefined) set.edit_tags = JSON.stringify(edits.tags.map((t) => storableText(t)));
      if (edits.altText !== undefined) set.edit_alt_text = storableText(edits.altText);
      if (Object.keys(set).length > 0) {
        const now = nowIso();
        await db
          .updateTable("images")
          .set({ ...set, edited_at: now, updated_at: now })
          .where("id", "=", id)
          .execute();
      }
      return getImage(id);
    },

    async deleteImage(id: string) {
      // Jobs and embeddings go with it (foreign keys cascade); SQLite's search index follows by trigger.
      const result = await db.deleteFrom("images").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async trashImage(id: string) {
      const now = nowIso();
      await db
        .updateTable("images")
        .set({ trashed_at: now, updated_at: now })
        .where("id", "=", id)
        .where("trashed_at", "is", null)
        .execute();
      return getImage(id);
    },

    async restoreImage(id: string) {
      await db
        .updateTable("images")
        .set({ trashed_at: null, updated_at: nowIso() })
        .where("id", "=", id)
        .where("trashed_at", "is not", null)
        .execute();
      return getImage(id);
    },

    async listTrash(query) {
      const limit = checkLimit(query.limit);
      let select = db.selectFrom("images").select(IMAGE_COLUMNS).where("trashed_at", "is not", null);
      if (query.trashedBefore) select = select.where("trashed_at", "<", query.trashedBefore);
      if (query.cursor) {
        const cursor = decodeCursor(query.cursor);
        select = select.where(({ eb, refTuple, tuple }) =>
          eb(refTuple("trashed_at", "id"), "<", tuple(cursor.createdAt, cursor.id)),
        );
      }
      const rows = await select
        .orderBy("trashed_at", "desc")
        .orderBy("id", "desc")
        .limit(limit + 1)
        .execute();
      return toPage(rows, limit, (row) => row.trashed_at);
    },

    async changeImages(ids: readonly string[], change: ImagesChange): Promise<ImagesChanged> {
      const wanted = [...new Set(ids)];
      const now = nowIso();
      const outcome = await dialect.writeTransaction(async (trx) => {
        if (change.kind === "addToAlbum" || change.kind === "removeFromAlbum") {
          const album = await trx
            .selectFrom("albums")
            .select(["id", "filters"])
            .where("id", "=", change.albumId)
            .executeTakeFirst();
          if (!album) throw new PhotocatError("not_found", `no album with id ${change.albumId}`);
          if (album.filters !== null) {
            throw new PhotocatError(
              "invalid_request",
              "a smart album holds the photos its search finds: change its search instead",
            );
          }
        }
        const found = new Map<string, { trashed: boolean; tags: string | null }>();
        for (const part of chunks(wanted)) {
          const rows = await trx
            .selectFrom("images")
            .select(["id", "trashed_at", "tags", "edit_tags"])
            .where("id", "in", part)
            .execute();
          for (const r of rows)
            found.set(r.id, { trashed: r.trashed_at !== null, tags: r.edit_tags ?? r.tags });
        }
        const missing = wanted.filter((id) => !found.has(id));
        const touchesTrash = ["trash", "restore", "removeFromAlbum"].includes(change.kind);
        const inTrash = touchesTrash ? [] : wanted.filter((id) => found.get(id)?.trashed);
        const targets = wanted.filter((id) => found.has(id) && !inTrash.includes(id));
        for (const part of chunks(targets)) {
          switch (change.kind) {
            case "category":
              await trx
                .updateTable("images")
                .set({ edit_category: storableText(change.category), edited_at: now, updated_at: now })
                .where("id", "in", part)
                .execute();
              break;
            case "addTags":
              for (const id of part) {
                const merged = addTags(parseTags(found.get(id)?.tags ?? null) ?? [], change.tags);
                await trx
                  .updateTable("images")
                  .set({
                    edit_tags: JSON.stringify(merged.map((t) => storableText(t))),
                    edited_at: now,
                    updated_at: now,
                  })
                  .where("id", "=", id)
                  .execute();
              }
              break;
            case "addToAlbum":
              await trx
                .insertInto("album_images")
                .values(part.map((id) => ({ album_id: change.albumId, image_id: id, added_at: now })))
                .onConflict((oc) => oc.columns(["album_id", "image_id"]).doNothing())
                .execute();
              break;
            case "removeFromAlbum":
              await trx
                .deleteFrom("album_images")
                .where("album_id", "=", change.albumId)
                .where("image_id", "in", part)
                .execute();
              break;
            case "trash":
              await trx
                .updateTable("images")
                .set({ trashed_at: now, updated_at: now })
                .where("id", "in", part)
                .where("trashed_at", "is", null)
                .execute();
              break;
            case "restore":
              await trx
                .updateTable("images")
                .set({ trashed_at: null, updated_at: now })
                .where("id", "in", part)
                .where("trashed_at", "is not", null)
                .execute();
              break;
          }
        }
        if (change.kind === "addToAlbum" || change.kind === "removeFromAlbum") {
          await trx.updateTable("albums").set({ updated_at: now }).where("id", "=", change.albumId).execute();
        }
        return { targets, missing, inTrash };
      });
      return {
        changed: await recordsOf(outcome.targets),
        missing: outcome.missing,
        inTrash: outcome.inTrash,
      };
    },

    async timeline(filters: ImageFilters) {
      const filtered = await applyFilters(db.selectFrom("images").where("trashed_at", "is", null), {
        ...filters,
        order: "taken",
      });
      if (!filtered) return [];
      const month = sql<string>`substr(captured_at, 1, 7)`;
      const rows = await filtered
        .select(({ fn }) => [month.as("month"), fn.countAll<number>().as("count")])
        .groupBy(month)
        .orderBy(month, "desc")
        .execute();
      return rows.map((r) => ({ month: r.month, count: Number(r.count) }));
    },

    async places(filters: ImageFilters) {
      const filtered = await applyFilters(
        db
          .selectFrom("images")
          .where("trashed_at", "is", null)
          .where("place", "is not", null)
          .where("gps_lat", "is not", null)
          .where("gps_lon", "is not", null),
        filters,
      );
      if (!filtered) return [];
      const rows = await filtered
        .select(({ fn }) => [
          "place",
          fn.avg<number>("gps_lat").as("lat"),
          fn.avg<number>("gps_lon").as("lon"),
          fn.countAll<number>().as("count"),
        ])
        .groupBy("place")
        .orderBy("count", "desc")
        .orderBy("place")
        .execute();
      return rows.map((r) => ({
        place: String(r.place),
        lat: Number(r.lat),
        lon: Number(r.lon),
        count: Number(r.count),
      }));
    },

    async createAlbum(album) {
      const now = nowIso();
      const row: AlbumsTable = {
        id: album.id,
        name: storableText(album.name),
        filters: storeFilters(album.filters),
        cover_id: null,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto("albums").values(row).execute();
      return summariseAlbum(row);
    },

    getAlbum,

    async listAlbums() {
      const rows = await db
        .selectFrom("albums")
        .selectAll()
        .orderBy(sql`lower(name)`)
        .orderBy("id")
        .execute();
      // At once: PostgreSQL answers on several connections (SQLite's one connection takes them in turn).
      return Promise.all(rows.map(summariseAlbum));
    },

    async updateAlbum(id, change) {
      const set: Partial<AlbumsTable> = {};
      if (change.name !== undefined) set.name = storableText(change.name);
      if (change.coverId !== undefined) set.cover_id = change.coverId;
      if (change.filters !== undefined) set.filters = storeFilters(change.filters);
      if (change.coverId) {
        const members = await applyFilters(db.selectFrom("images").where("trashed_at", "is", null), {
          album: id,
        });
        if (!members) return null;
        const member = await members.select("id").where("id", "=", change.coverId).executeTakeFirst();
        if (!member) throw new PhotocatError("invalid_request", "the cover must be a photo of the album");
      }
      if (Object.keys(set).length > 0) {
        await db
          .updateTable("albums")
          .set({ ...set, updated_at: nowIso() })
          .where("id", "=", id)
          .execute();
      }
      return getAlbum(id);
    },

    async deleteAlbum(id) {
      const result = await db.deleteFrom("albums").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async categoryCounts() {
      const rows = await db
        .selectFrom("images")
        .select(({ fn }) => ["category_effective", fn.countAll<number>().as("count")])
        .where("category_effective", "is not", null)
        .where("trashed_at", "is", null)
        .groupBy("category_effective")
        .orderBy("count", "desc")
        .orderBy("category_effective")
        .execute();
      return rows.map((r) => ({ category: String(r.category_effective), count: Number(r.count) }));
    },

    async stats(): Promise<CatalogStats> {
      const [totals, statusRows, modelRows, embeddingRows] = await Promise.all([
        db
          .selectFrom("images")
          .select(({ fn }) => [
            fn.countAll<number>().as("images"),
            fn.sum<number>("spent_input_tokens").as("input_tokens"),
            fn.sum<number>("spent_output_tokens").as("output_tokens"),
            fn.sum<number>("spent_cost_usd").as("cost_usd"),
          ])
          .where("trashed_at", "is", null)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom("images")
          .select(({ fn }) => ["status", fn.countAll<number>().as("count")])
          .where("trashed_at", "is", null)
          .groupBy("status")
          .execute(),
        db
          .selectFrom("images")
          .select(({ fn }) => [
            "provider",
            "model",
            fn.countAll<number>().as("images"),
            fn.sum<number>("cost_usd").as("cost_usd"),
          ])
          .where("provider", "is not", null)
          .where("trashed_at", "is", null)
          .groupBy(["provider", "model"])
          .orderBy("provider")
          .orderBy("model")
          .execute(),
        db
          .selectFrom("embeddings")
          .innerJoin("images", "images.id", "embeddings.image_id")
          .select(({ fn }) => [
            "embeddings.model",
            fn.countAll<number>().as("images"),
            fn.sum<number>("embeddings.input_tokens").as("input_tokens"),
            fn.sum<number>("embeddings.cost_usd").as("cost_usd"),
          ])
          .where("images.trashed_at", "is", null)
          .groupBy("embeddings.model")
          .orderBy("embeddings.model")
          .execute(),
      ]);
      // Local models cost nothing: only what a provider was paid for is listed.
      const byEmbeddingModel = embeddingRows
        .map((r) => ({
          model: r.model,
          images: Number(r.images),
          inputTokens: Number(r.input_tokens ?? 0),
          costUsd: Number(r.cost_usd ?? 0),
        }))
        .filter((m) => m.inputTokens > 0 || m.costUsd > 0);
      const byStatus = Object.fromEntries(IMAGE_STATUSES.map((s) => [s, 0])) as Record<ImageStatus, number>;
      for (const row of statusRows) {
        if (row.status in byStatus) byStatus[row.status as ImageStatus] = Number(row.count);
      }
      return {
        images: Number(totals.images),
        byStatus,
        inputTokens: Number(totals.input_tokens ?? 0),
        outputTokens: Number(totals.output_tokens ?? 0),
        costUsd: Number(totals.cost_usd ?? 0),
        byModel: modelRows.map((r) => ({
          provider: String(r.provider),
          model: String(r.model),
          images: Number(r.images),
          costUsd: Number(r.cost_usd ?? 0),
        })),
        embeddingCostUsd: byEmbeddingModel.reduce((sum, m) => sum + m.costUsd, 0),
        byEmbeddingModel,
      };
    },

    async selectIds(filter: SelectFilter) {
      if (!filter.all && !filter.status && !filter.category) return [];
      let select = db.selectFrom("images").select("id").where("trashed_at", "is", null);
      if (filter.status) select = select.where("status", "=", checkStatus(filter.status));
      if (filter.category) select = select.where("category_effective", "=", filter.category);
      const rows = await select.orderBy("created_at").orderBy("id").execute();
      return rows.map((r) => r.id);
    },

    async correctionExamples(embeddingModel: string): Promise<CorrectionExample[]> {
      const rows = await db
        .selectFrom("embeddings")
        .innerJoin("images", "images.id", "embeddings.image_id")
        .select(["embeddings.image_id", "images.edit_category", "embeddings.vector"])
        .where("embeddings.model", "=", embeddingModel)
        .where("images.edit_category", "is not", null)
        .where("images.trashed_at", "is", null)
        .orderBy("images.created_at")
        .execute();
      return rows.map((r) => ({
        imageId: r.image_id,
        category: String(r.edit_category),
        vector: decodeVector(r.vector),
      }));
    },

    async saveEmbedding(id: string, embedding: NewEmbedding) {
      const { model, vector, inputTokens, costUsd } = embedding;
      try {
        await db
          .insertInto("embeddings")
          .values({
            image_id: id,
            model,
            vector: encodeVector(vector),
            changed_ms: dialect.nowMs(),
            input_tokens: Math.max(0, Math.round(inputTokens)),
            cost_usd: Math.max(0, costUsd),
          })
          .onConflict((oc) =>
            oc.columns(["image_id", "model"]).doUpdateSet((eb) => ({
              vector: eb.ref("excluded.vector"),
              changed_ms: eb.ref("excluded.changed_ms"),
              // Money spent stays spent: a photo embedded again costs both times.
              input_tokens: eb("embeddings.input_tokens", "+", eb.ref("excluded.input_tokens")),
              cost_usd: eb("embeddings.cost_usd", "+", eb.ref("excluded.cost_usd")),
            })),
          )
          .execute();
      } catch (error) {
        if (dialect.isForeignKeyViolation(error)) throw notFound(id);
        throw error;
      }
    },

    async embeddingsOf(id: string) {
      const rows = await db
        .selectFrom("embeddings")
        .select(["model", "vector"])
        .where("image_id", "=", id)
        .orderBy("changed_ms", "desc")
        .orderBy("model")
        .execute();
      return rows.map((r) => ({ model: r.model, vector: decodeFloats(r.vector) }));
    },

    async changedEmbeddings(model: string, since: EmbeddingChange | null, limit: number) {
      let select = db
        .selectFrom("embeddings")
        .select(["image_id", "vector", "changed_ms"])
        .where("model", "=", model);
      if (since) {
        select = select.where(({ eb, refTuple, tuple }) =>
          eb(refTuple("changed_ms", "image_id"), ">", tuple(since.changedMs, since.imageId)),
        );
      }
      const rows = await select
        .orderBy("changed_ms")
        .orderBy("image_id")
        .limit(Math.max(1, Math.floor(limit)))
        .execute();
      return rows.map((r) => ({
        imageId: r.image_id,
        changedMs: Number(r.changed_ms),
        vector: decodeFloats(r.vector),
      }));
    },

    async probeWrite() {
      const row = { process: PROCESS_ID, probed_at: nowIso() };
      await db
        .insertInto("health_probes")
        .values(row)
        .onConflict((oc) => oc.column("process").doUpdateSet({ probed_at: row.probed_at }))
        .execute();
    },

    async createSession(session, now) {
      await db.deleteFrom("sessions").where("expires_at", "<", now).execute();
      await db
        .insertInto("sessions")
        .values({
          id_hash: session.idHash,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          revoked_at: null,
        })
        .execute();
    },

    async findSession(idHash): Promise<SessionRecord | null> {
      const row = await db
        .selectFrom("sessions")
        .selectAll()
        .where("id_hash", "=", idHash)
        .executeTakeFirst();
      if (!row) return null;
      return {
        idHash: row.id_hash,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
        revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
      };
    },

    async revokeSession(idHash, now) {
      const result = await db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("id_hash", "=", idHash)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async revokeAllSessions(now) {
      const result = await db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("revoked_at", "is", null)
        .where("expires_at", ">=", now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    saveFingerprint,

    async idsWithoutFingerprint(limit: number, after?: string | null) {
      let select = db.selectFrom("images").select("id").where("sharpness", "is", null);
      if (after) select = select.where("id", ">", after);
      const rows = await select.orderBy("id").limit(checkLimit(limit)).execute();
      return rows.map((r) => r.id);
    },

    async hashCandidates(keys: readonly number[], excludeId: string) {
      if (keys.length === 0) return [];
      // Two index lookups rather than one join: a planner misjudging how many keys match would scan.
      const matched = await db
        .selectFrom("image_hash_keys")
        .select("image_id")
        .distinct()
        .where("key", "in", [...keys])
        .execute();
      const ids = matched.map((r) => r.image_id).filter((id) => id !== excludeId);
      const candidates: { id: string; perceptualHash: string }[] = [];
      for (let start = 0; start < ids.length; start += 1000) {
        const rows = await db
          .selectFrom("images")
          .select(["id", "perceptual_hash"])
          .where("id", "in", ids.slice(start, start + 1000))
          .where("perceptual_hash", "is not", null)
          .execute();
        for (const r of rows) candidates.push({ id: r.id, perceptualHash: String(r.perceptual_hash) });
      }
      return candidates;
    },

    async addDuplicatePairs(pairs: readonly DuplicatePair[]) {
      if (pairs.length === 0) return;
      const now = nowIso();
      const rows = pairs
        .filter((p) => p.a !== p.b)
        .map((p) => {
          const [a, b] = [p.a, p.b].sort();
          return { image_a: a!, image_b: b!, distance: p.distance, created_at: now, dismissed_at: null };
        });
      if (rows.length === 0) return;
      try {
        await db
          .insertInto("duplicate_pairs")
          .values(rows)
          .onConflict((oc) => oc.columns(["image_a", "image_b"]).doNothing())
          .execute();
      } catch (error) {
        // One of the photos was deleted meanwhile: its pairs are of no use.
        if (!dialect.isForeignKeyViolation(error)) throw error;
      }
    },

    async duplicatePairs() {
      const rows = await db
        .selectFrom("duplicate_pairs as p")
        .innerJoin("images as a", "a.id", "p.image_a")
        .innerJoin("images as b", "b.id", "p.image_b")
        .select(["p.image_a", "p.image_b", "p.distance"])
        .where("p.dismissed_at", "is", null)
        .where("a.trashed_at", "is", null)
        .where("b.trashed_at", "is", null)
        .orderBy("p.image_a")
        .orderBy("p.image_b")
        .execute();
      return rows.map((r) => ({ a: r.image_a, b: r.image_b, distance: Number(r.distance) }));
    },

    async dismissDuplicates(ids: readonly string[]) {
      if (ids.length < 2) return 0;
      const result = await db
        .updateTable("duplicate_pairs")
        .set({ dismissed_at: nowIso() })
        .where("image_a", "in", [...ids])
        .where("image_b", "in", [...ids])
        .where("dismissed_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    getImages: recordsOf,

    async findIdsByPrefix(prefix: string, limit: number) {
      if (!prefix) return [];
      // substr instead of LIKE: no wildcards to escape, and the same case-sensitive match on both databases.
      const rows = await db
        .selectFrom("images")
        .select("id")
        .where(sql<boolean>`substr(id, 1, ${sql.lit(prefix.length)}) = ${prefix}`)
        .orderBy("id")
        .limit(checkLimit(limit))
        .execute();
      return rows.map((r) => r.id);
    },

    close: options.close,
  };
}
