import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/adapters/sqlite/index.js";
import type { Catalog, EmbeddingChange } from "../../src/ports/catalog.js";
import { MemoryVectorIndex, SimilarPhotos } from "../../src/services/similar.js";
import { analysis, newImage } from "../contracts/fixtures.js";

const DIMS = 720;

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Clustered vectors like a catalogue's: photos of a few kinds of thing, each photo its kind plus noise. */
function clusteredVectors(count: number, clusters: number, seed = 1, dims = DIMS): number[][] {
  const next = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dims }, gauss));
  return Array.from({ length: count }, (_, i) => centres[i % clusters]!.map((c) => c + 1.2 * gauss()));
}

function cosine(a: number[], b: number[]) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe("similar photos", () => {
  let store: ReturnType<typeof openSqliteStore>;
  let catalog: Catalog;
  beforeEach(() => {
    store = openSqliteStore({ path: ":memory:" });
    catalog = store.catalog;
  });
  afterEach(() => store.close());

  async function add(vector: number[] | null, model = "local-test") {
    const { image } = await catalog.insertImage(newImage());
    await catalog.saveAnalysis(
      image.id,
      analysis(vector ? { embedding: { model, vector } } : {}),
      `job-${image.id}`,
    );
    return image.id;
  }

  it("finds the exact nearest photos by cosine, nearest first, the photo itself left out", async () => {
    const vectors = clusteredVectors(600, 30);
    const ids: string[] = [];
    for (const vector of vectors) ids.push(await add(vector));
    const similar = new SimilarPhotos({ catalog });
    let agreed = 0;
    for (const q of [0, 17, 123, 301, 599]) {
      const exact = ids
        .map((id, i) => ({ id, score: cosine(vectors[q]!, vectors[i]!) }))
        .filter((r) => r.id !== ids[q])
        .sort((a, b) => b.score - a.score)
        .slice(0, 5);
      const found = await similar.similar(ids[q]!, 5);
      expect(found.map((f) => f.image.id)).not.toContain(ids[q]);
      expect(found.map((f) => f.similarity)).toEqual(
        [...found.map((f) => f.similarity)].sort((a, b) => b - a),
      );
      agreed += found.filter((f) => exact.some((e) => e.id === f.image.id)).length;
    }
    // The sketch only picks candidates; the full embeddings rank them: the same five as an exact scan.
    expect(agreed).toBe(25);
  });

  it("keeps in step with embeddings written after it loaded, and leaves out the trash and other models", async () => {
    const similar = new SimilarPhotos({ catalog });
    const [a, b, c] = clusteredVectors(3, 3, 7);
    const first = await add(a!);
    const far = await add(c!);
    await add(a!, "another-model");
    expect((await similar.similar(first, 10)).map((f) => f.image.id)).toEqual([far]);
    const twin = await add(a!.map((v) => v * 2));
    const found = await similar.similar(first, 10);
    expect(found.map((f) => f.image.id)).toEqual([twin, far]);
    expect(found[0]!.similarity).toBeCloseTo(1, 2);
    // A re-analysis that changes the embedding moves the photo.
    await catalog.saveAnalysis(
      twin,
      analysis({ embedding: { model: "local-test", vector: b! } }),
      "job-again",
    );
    expect((await similar.similar(first, 10)).map((f) => f.image.id)).toEqual(
      cosine(a!, b!) > cosine(a!, c!) ? [twin, far] : [far, twin],
    );
    expect((await similar.similar(first, 10))[0]!.similarity).toBeLessThan(0.99);
    await catalog.trashImage(far);
    expect((await similar.similar(first, 10)).map((f) => f.image.id)).toEqual([twin]);
    await catalog.deleteImage(twin);
    expect(await similar.similar(first, 10)).toEqual([]);
  });

  it("still shows `limit` photos when the nearest ones (more than it asks the index for at first) are trashed", async () => {
    const [kind, other] = clusteredVectors(2, 2, 11);
    const probe = await add(kind!);
    const near: string[] = [];
    for (let i = 0; i < 12; i++) near.push(await add(kind!.map((v, d) => v + 0.01 * ((i + d) % 7))));
    const further: string[] = [];
    for (let i = 0; i < 5; i++) further.push(await add(other!.map((v, d) => v + 0.01 * ((i + d) % 5))));
    for (const id of near) await catalog.trashImage(id);
    const found = await new SimilarPhotos({ catalog }).similar(probe, 3);
    expect(found).toHaveLength(3);
    for (const f of found) expect(further).toContain(f.image.id);
  });

  it("loads ahead the index of the first photo given that has an embedding; a query then reads only changes", async () => {
    const reads: (number | null)[] = [];
    const watched: Catalog = {
      ...catalog,
      changedEmbeddings: (model, since, limit) => {
        reads.push(since?.changedMs ?? null);
        return catalog.changedEmbeddings(model, since, limit);
      },
    };
    const similar = new SimilarPhotos({ catalog: watched });
    const bare = await add(null);
    expect(await similar.warm([bare])).toBe(0);
    expect(reads).toEqual([]);
    const [a, b] = clusteredVectors(2, 2, 3);
    const first = await add(a!);
    const other = await add(b!);
    await add(a!, "another-model");
    expect(await similar.warm([bare, first])).toBe(2);
    expect(reads).toEqual([null]);
    expect((await similar.similar(first, 5)).map((f) => f.image.id)).toEqual([other]);
    expect(reads).toHaveLength(2);
    expect(reads[1]).not.toBeNull();
  });

  it("says why it cannot answer", async () => {
    const similar = new SimilarPhotos({ catalog });
    const bare = await add(null);
    await expect(similar.similar(bare, 5)).rejects.toMatchObject({ code: "conflict", status: 409 });
    await expect(similar.similar("00000000-0000-4000-8000-000000000000", 5)).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(similar.similar(bare, 0)).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("reads only the records it shows, and answers 404 for a photo deleted while its embedding lingers", async () => {
    const vectors = clusteredVectors(40, 4, 5);
    const ids: string[] = [];
    for (const vector of vectors) ids.push(await add(vector));
    const asked: string[][] = [];
    let gone = "";
    const watched: Catalog = {
      ...catalog,
      getImages: async (wanted) => {
        asked.push([...wanted]);
        return (await catalog.getImages(wanted)).filter((r) => r.id !== gone);
      },
    };
    const similar = new SimilarPhotos({ catalog: watched });
    expect(await similar.similar(ids[0]!, 5)).toHaveLength(5);
    // One read: the photo itself and the five shown.
    expect(asked).toHaveLength(1);
    expect(asked[0]).toHaveLength(6);
    gone = ids[0]!;
    await expect(similar.similar(ids[0]!, 5)).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("the in-memory vector index past 8,000 photos (grouped)", () => {
  /** A catalogue of embedding changes alone, in write order, as changedEmbeddings reads them. */
  function changes() {
    const rows: (EmbeddingChange & { vector: Float32Array })[] = [];
    let clock = 0;
    return {
      write: (imageId: string, vector: number[]) => {
        const at = rows.findIndex((r) => r.imageId === imageId);
        if (at >= 0) rows.splice(at, 1);
        rows.push({ imageId, changedMs: ++clock * 60_000, vector: Float32Array.from(vector) });
      },
      catalog: {
        changedEmbeddings: async (_model: string, since: EmbeddingChange | null, limit: number) =>
          rows
            .filter(
              (r) =>
                !since ||
                r.changedMs > since.changedMs ||
                (r.changedMs === since.changedMs && r.imageId > since.imageId),
            )
            .slice(0, limit),
      },
    };
  }

  it("finds nearly all of the exact nearest, nearest first, and follows a photo whose embedding changes", async () => {
    const vectors = clusteredVectors(10_000, 100, 9, 64);
    const ids = vectors.map((_, i) => `p${String(i).padStart(5, "0")}`);
    const store = changes();
    for (const [i, vector] of vectors.entries()) store.write(ids[i]!, vector);
    const index = new MemoryVectorIndex(store.catalog);
    expect(await index.warm("m")).toBe(10_000);
    let found = 0;
    const queries = [3, 501, 2222, 7777, 9998];
    for (const q of queries) {
      const exact = vectors
        .map((v, i) => ({ id: ids[i]!, score: cosine(vectors[q]!, v) }))
        .filter((r) => r.id !== ids[q])
        .sort((a, b) => b.score - a.score)
        .slice(0, 10)
        .map((r) => r.id);
      const hits = await index.nearest("m", Float32Array.from(vectors[q]!), 10, ids[q]);
      expect(hits.map((h) => h.id)).not.toContain(ids[q]);
      expect(hits.map((h) => h.similarity)).toEqual([...hits.map((h) => h.similarity)].sort((a, b) => b - a));
      found += hits.filter((h) => exact.includes(h.id)).length;
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.9);
    // A photo re-analysed into another kind moves to that kind's group.
    store.write(
      ids[0]!,
      vectors[5]!.map((v) => v * 3),
    );
    const hits = await index.nearest("m", Float32Array.from(vectors[5]!), 2, ids[5]);
    expect(hits[0]).toMatchObject({ id: ids[0] });
    expect(hits[0]!.similarity).toBeCloseTo(1, 2);
  });
});
