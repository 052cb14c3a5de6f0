import { errorMessage } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import type { Logger } from "../logger.js";
import type { Catalog, ImagePage, ImageQuery } from "../ports/catalog.js";
import type { Embedder } from "../ports/embedder.js";
import type { VectorIndex } from "../ports/vector-index.js";
import { checkedVector, embeddingModelKey } from "./embed.js";

export interface BlendedSearchDeps {
  catalog: Pick<Catalog, "listImages">;
  embedder: Embedder;
  vectors: VectorIndex;
  logger: Logger;
}

export interface BlendedSearchOptions {
  /** How many of each ranking are fused (default 300). */
  pool?: number;
  /** The cosine a photo found only by meaning needs to be listed at all (default 0.3). */
  minSimilarity?: number;
  /** Search queries whose vectors are kept (default 500): a query embedding costs a call and money. */
  cachedQueries?: number;
}

/** Reciprocal rank fusion's constant: a rank-1 hit of one list weighs little more than a rank-5 hit. */
const RRF_K = 60;
const FUSED = "m.f.";
const TEXT = "m.t.";

/**
 * Search by words and by meaning, blended (GET /api/images?q= and `photocat search` with an embedder).
 * The full-text ranking (exact words, then synonyms, then narrower words, as without an embedder) and the
 * vector ranking (cosine of the query's embedding with each photo's) are fused by reciprocal rank fusion
 * over the top `pool` of each: score = 1/(60 + text rank) + 1/(60 + vector rank). A photo found only by
 * meaning needs a cosine of at least `minSimilarity`, and passes the listing's filters and the trash through
 * the catalogue. Past the fused photos, the full-text listing carries on (photos already shown skipped).
 * Cursors: `m.f.<offset>` in the fused list, `m.t.<full-text cursor>` after it. If the embedder fails, the
 * page is answered from full text alone.
 */
export class BlendedSearch {
  readonly #queryVectors = new Map<string, Float32Array>();
  readonly #pool: number;
  readonly #minSimilarity: number;
  readonly #cachedQueries: number;
  readonly #model: string;

  constructor(
    private readonly deps: BlendedSearchDeps,
    options: BlendedSearchOptions = {},
  ) {
    this.#pool = options.pool ?? 300;
    this.#minSimilarity = options.minSimilarity ?? 0.3;
    this.#cachedQueries = options.cachedQueries ?? 500;
    this.#model = embeddingModelKey(deps.embedder);
  }

  /** A page of the blended ranking of `query.q` (which must be given). */
  async page(query: ImageQuery): Promise<ImagePage> {
    const q = query.q?.trim() ?? "";
    const cursor = decodeCursor(query.cursor ?? null);
    let blended: Awaited<ReturnType<BlendedSearch["fuse"]>>;
    try {
      blended = await this.fuse(query, await this.#queryVector(q));
    } catch (error) {
      this.deps.logger.warn(
        { err: error },
        `search by meaning failed (${errorMessage(error)}): answered from full text alone`,
      );
      // A cursor within the fused list has no full-text equivalent: that listing starts again.
      return this.deps.catalog.listImages({ ...query, cursor: cursor?.text ?? null });
    }
    const { fused, shownByMeaning, textNext } = blended;
    const limit = Math.max(1, Math.min(query.limit, 500));
    let items: ImageRecord[] = [];
    let textCursor: string | null = textNext;
    if (!cursor || cursor.offset !== null) {
      const offset = cursor?.offset ?? 0;
      items = fused.slice(offset, offset + limit);
      if (offset + limit < fused.length) {
        return { items, nextCursor: `${FUSED}${offset + limit}` };
      }
    } else {
      textCursor = cursor.text;
    }
    // Past the fused photos: the rest of the full-text listing, less what was shown by meaning.
    while (items.length < limit && textCursor) {
      const page = await this.deps.catalog.listImages({
        ...query,
        cursor: textCursor,
        limit: limit - items.length,
      });
      items.push(...page.items.filter((i) => !shownByMeaning.has(i.id)));
      textCursor = page.nextCursor;
    }
    return { items, nextCursor: textCursor ? `${TEXT}${textCursor}` : null };
  }

  /** The fused ranking of the query's top photos by words and by meaning (the embedder or vector index may fail). */
  private async fuse(query: ImageQuery, vector: Float32Array) {
    const { catalog, vectors } = this.deps;
    const [text, hits] = await Promise.all([
      catalog.listImages({ ...query, cursor: null, limit: this.#pool }),
      vectors.nearest(this.#model, vector, this.#pool),
    ]);
    const textRank = new Map(text.items.map((image, rank) => [image.id, rank]));
    const onlyByMeaning = hits.filter((h) => !textRank.has(h.id) && h.similarity >= this.#minSimilarity);
    // The listing's filters and the trash apply to what the vectors found: the catalogue lists those that pass.
    const passing = onlyByMeaning.length
      ? (
          await catalog.listImages({
            ...query,
            q: null,
            cursor: null,
            ids: onlyByMeaning.map((h) => h.id),
            limit: onlyByMeaning.length,
          })
        ).items
      : [];
    const records = new Map([...text.items, ...passing].map((image) => [image.id, image]));
    const vectorRank = new Map(hits.filter((h) => records.has(h.id)).map((h, rank) => [h.id, rank] as const));
    const score = (id: string) => {
      const t = textRank.get(id);
      const v = vectorRank.get(id);
      return (t === undefined ? 0 : 1 / (RRF_K + t + 1)) + (v === undefined ? 0 : 1 / (RRF_K + v + 1));
    };
    const fused = [...records.values()]
      .map((image) => ({ image, score: score(image.id), text: textRank.get(image.id) ?? Infinity }))
      .sort((a, b) => b.score - a.score || a.text - b.text || (a.image.id < b.image.id ? -1 : 1))
      .map((r) => r.image);
    return {
      fused,
      shownByMeaning: new Set(passing.map((image) => image.id)),
      textNext: text.nextCursor,
    };
  }

  /** The query's embedding, from the cache when it was asked lately (least recently used ones go first). */
  async #queryVector(q: string): Promise<Float32Array> {
    const key = q.toLowerCase().replace(/\s+/g, " ");
    const cached = this.#queryVectors.get(key);
    if (cached) {
      this.#queryVectors.delete(key);
      this.#queryVectors.set(key, cached);
      return cached;
    }
    const embedding = await this.deps.embedder.embedQuery(q);
    const vector = checkedVector(embedding, "the search query");
    // Query embeddings have no photo to be counted against in the statistics: their cost is logged.
    this.deps.logger.info(
      { model: this.#model, costUsd: embedding.usage.costUsd, inputTokens: embedding.usage.inputTokens },
      "search query embedded",
    );
    this.#queryVectors.set(key, vector);
    if (this.#queryVectors.size > this.#cachedQueries) {
      this.#queryVectors.delete(this.#queryVectors.keys().next().value!);
    }
    return vector;
  }
}

function decodeCursor(
  cursor: string | null,
): { offset: number; text: null } | { offset: null; text: string } | null {
  if (!cursor) return null;
  if (cursor.startsWith(FUSED)) {
    const offset = Number(cursor.slice(FUSED.length));
    if (Number.isInteger(offset) && offset >= 0) return { offset, text: null };
  } else if (cursor.startsWith(TEXT) && cursor.length > TEXT.length) {
    return { offset: null, text: cursor.slice(TEXT.length) };
  }
  // A full-text cursor of a page answered without the embedder: the full-text listing carries on.
  return { offset: null, text: cursor };
}
