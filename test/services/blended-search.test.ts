import { describe, expect, it } from "vitest";
import type { ImageRecord } from "../../src/domain/image.js";
import { silentLogger } from "../../src/logger.js";
import type { ImagePage, ImageQuery } from "../../src/ports/catalog.js";
import type { VectorHit } from "../../src/ports/vector-index.js";
import { BlendedSearch } from "../../src/services/search.js";
import { fakeEmbedder } from "../support/fake-embedder.js";

const photo = (id: string) => ({ id }) as ImageRecord;

/**
 * A catalogue whose full-text ranking of any query is `ranking` (cursor = offset), and whose filters let
 * through only `passing` of the photos named by ids.
 */
function stubCatalog(ranking: string[], passing: (id: string) => boolean = () => true) {
  return {
    async listImages(query: ImageQuery): Promise<ImagePage> {
      if (query.ids) return { items: query.ids.filter(passing).map(photo), nextCursor: null };
      const from = query.cursor ? Number(query.cursor) : 0;
      const end = from + query.limit;
      return {
        items: ranking.slice(from, end).map(photo),
        nextCursor: end < ranking.length ? String(end) : null,
      };
    },
  };
}

function stubVectors(hits: VectorHit[]) {
  return { kind: "stub", nearest: async (_m: string, _v: Float32Array, k: number) => hits.slice(0, k) };
}

function blended(ranking: string[], hits: VectorHit[], passing?: (id: string) => boolean) {
  return new BlendedSearch(
    {
      catalog: stubCatalog(ranking, passing),
      vectors: stubVectors(hits),
      embedder: fakeEmbedder(),
      logger: silentLogger(),
    },
    { pool: 3, minSimilarity: 0.3 },
  );
}

async function everyPage(search: BlendedSearch, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: ImagePage = await search.page({ q: "anything", limit, cursor });
    pages.push(page.items.map((i) => i.id));
    cursor = page.nextCursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describe("blended ranking (reciprocal rank fusion of full text and vectors)", () => {
  it("puts first what both rankings like, then either's, a weak vector-only match left out", async () => {
    const search = blended(
      ["a", "b", "c"],
      [
        { id: "c", similarity: 0.9 },
        { id: "a", similarity: 0.8 },
        { id: "d", similarity: 0.7 },
        { id: "e", similarity: 0.1 },
      ],
    );
    // a: 1/61 + 1/62; c: 1/63 + 1/61; b: 1/62 (text only); d: 1/63 (vector only); e below the threshold.
    expect((await search.page({ q: "anything", limit: 10 })).items.map((i) => i.id)).toEqual([
      "a",
      "c",
      "b",
      "d",
    ]);
  });

  it("leaves out a vector-only photo the listing's filters refuse", async () => {
    const search = blended(["a"], [{ id: "d", similarity: 0.9 }], (id) => id !== "d");
    expect((await search.page({ q: "anything", limit: 10 })).items.map((i) => i.id)).toEqual(["a"]);
  });

  it("pages through the fused photos, then the rest of the full text, without repeats or gaps", async () => {
    // Full text ranks 6 photos; only the top 3 are fused. "d" is also a full-text match past the pool.
    const search = blended(
      ["a", "b", "c", "g", "d", "h"],
      [
        { id: "c", similarity: 0.9 },
        { id: "a", similarity: 0.8 },
        { id: "d", similarity: 0.7 },
      ],
    );
    const pages = await everyPage(search, 2);
    expect(pages.flat()).toEqual(["a", "c", "b", "d", "g", "h"]);
    expect(pages.every((p) => p.length === 2)).toBe(true);
    // Any page size walks the same ranking.
    expect((await everyPage(search, 4)).flat()).toEqual(["a", "c", "b", "d", "g", "h"]);
    expect((await everyPage(search, 1)).flat()).toEqual(["a", "c", "b", "d", "g", "h"]);
  });

  it("answers from full text alone when the vector index fails", async () => {
    const search = new BlendedSearch({
      catalog: stubCatalog(["a", "b"]),
      vectors: {
        kind: "broken",
        nearest: async () => {
          throw new Error("the extension is gone");
        },
      },
      embedder: fakeEmbedder(),
      logger: silentLogger(),
    });
    expect((await search.page({ q: "anything", limit: 10 })).items.map((i) => i.id)).toEqual(["a", "b"]);
  });

  it("embeds a query once, then answers it from its cache", async () => {
    const embedder = fakeEmbedder();
    const search = new BlendedSearch({
      catalog: stubCatalog(["a"]),
      vectors: stubVectors([]),
      embedder,
      logger: silentLogger(),
    });
    await search.page({ q: "Red car", limit: 5 });
    await search.page({ q: "red  car", limit: 5 });
    expect(embedder.queries).toEqual(["Red car"]);
  });
});
