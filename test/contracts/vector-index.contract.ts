import { afterEach, describe, expect, it } from "vitest";
import type { Catalog } from "../../src/ports/catalog.js";
import type { VectorIndex } from "../../src/ports/vector-index.js";
import { newImage } from "./fixtures.js";

export interface VectorIndexHarness {
  catalog: Catalog;
  /** The same database through another connection, as another process (the worker) writes to it. */
  other: Catalog;
  vectors: VectorIndex;
  close(): Promise<void>;
}

function unit(values: number[]): Float32Array {
  const v = Float32Array.from(values);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** Directions in 8 dimensions, each photo a little apart from the others. */
const NORTH = unit([1, 0, 0, 0, 0, 0, 0, 0]);
const NORTH_EAST = unit([1, 1, 0, 0, 0, 0, 0, 0]);
const EAST = unit([0, 1, 0, 0, 0, 0, 0, 0]);
const SOUTH = unit([-1, 0, 0.1, 0, 0, 0, 0, 0]);

/** A fresh harness for each test (closed after it), and photos with vectors written through it. */
function harnessPer(open: () => Promise<VectorIndexHarness>) {
  let current: VectorIndexHarness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    harness: () => current!,
    async photosWith(vectors: Float32Array[], model = "fake:bag-1"): Promise<string[]> {
      current = await open();
      const ids: string[] = [];
      for (const vector of vectors) {
        const { image } = await current.catalog.insertImage(newImage());
        await embed(current.catalog, image.id, vector, model);
        ids.push(image.id);
      }
      return ids;
    },
  };
}

/** Writes a photo's embedding of `model`. */
function embed(catalog: Catalog, id: string, vector: Float32Array, model = "fake:bag-1"): Promise<void> {
  return catalog.saveEmbedding(id, { model, vector, inputTokens: 3, costUsd: 0.0001 });
}

/** One contract every VectorIndex passes (sqlite-vec, pgvector, the in-memory index). */
export function runVectorIndexContract(name: string, open: () => Promise<VectorIndexHarness>): void {
  describe(`VectorIndex contract: ${name}`, () => {
    const { photosWith, harness } = harnessPer(open);

    it("gives the nearest photos first, with their cosine, at most k", async () => {
      const [north, northEast, east, south] = await photosWith([NORTH, NORTH_EAST, EAST, SOUTH]);
      const hits = await harness().vectors.nearest("fake:bag-1", NORTH, 3);
      expect(hits.map((h) => h.id)).toEqual([north, northEast, east]);
      expect(hits[0]!.similarity).toBeCloseTo(1, 2);
      expect(hits[1]!.similarity).toBeCloseTo(Math.SQRT1_2, 2);
      expect(hits[2]!.similarity).toBeCloseTo(0, 2);
      expect(hits.map((h) => h.id)).not.toContain(south);
    });

    it("looks only at the asked model's vectors", async () => {
      const [north] = await photosWith([NORTH]);
      const { image } = await harness().catalog.insertImage(newImage());
      await embed(harness().catalog, image.id, NORTH, "other:model");
      expect((await harness().vectors.nearest("fake:bag-1", NORTH, 10)).map((h) => h.id)).toEqual([north]);
      expect(await harness().vectors.nearest("no:such-model", NORTH, 10)).toEqual([]);
    });

    it("ranks vectors of any length (here 6 values)", async () => {
      const short = (values: number[]) => unit(values);
      const [a, b] = await photosWith([short([1, 0, 0, 0, 0, 1]), short([0, 1, 0, 0, 1, 0])]);
      const hits = await harness().vectors.nearest("fake:bag-1", short([0, 1, 0, 0, 0.9, 0]), 2);
      expect(hits.map((h) => h.id)).toEqual([b, a]);
      expect(hits[0]!.similarity).toBeGreaterThan(0.99);
    });

    it("finds a photo by its new vector once its embedding is written again", async () => {
      const [first, second] = await photosWith([NORTH, EAST]);
      expect((await harness().vectors.nearest("fake:bag-1", SOUTH, 1))[0]!.similarity).toBeLessThan(0.5);
      await embed(harness().catalog, second!, SOUTH);
      const hits = await harness().vectors.nearest("fake:bag-1", SOUTH, 2);
      expect(hits.map((h) => h.id)).toEqual([second, first]);
      expect(hits[0]!.similarity).toBeCloseTo(1, 2);
    });

    it("sees embeddings another process wrote on its next query", async () => {
      const [north] = await photosWith([NORTH]);
      expect((await harness().vectors.nearest("fake:bag-1", EAST, 5)).map((h) => h.id)).toEqual([north]);
      const { other } = harness();
      const { image } = await other.insertImage(newImage());
      await embed(other, image.id, EAST);
      await embed(other, north!, SOUTH);
      const hits = await harness().vectors.nearest("fake:bag-1", SOUTH, 5);
      expect(hits.map((h) => h.id)).toEqual([north, image.id]);
      expect(hits[0]!.similarity).toBeCloseTo(1, 2);
    });
  });
}

/**
 * What the database's own indexes (sqlite-vec, pgvector) do besides: they read each vector as stored, so they
 * leave out vectors of another length and photos purged since. (The in-memory index keeps what it read.)
 */
export function runDatabaseVectorIndexContract(name: string, open: () => Promise<VectorIndexHarness>): void {
  describe(`VectorIndex contract, database indexes: ${name}`, () => {
    const { photosWith, harness } = harnessPer(open);

    it("leaves out vectors of another length than the query's, also once rewritten at another length", async () => {
      const [north, east] = await photosWith([NORTH, EAST]);
      const six = unit([1, 0, 0, 0, 0, 1]);
      const { image } = await harness().catalog.insertImage(newImage());
      await embed(harness().catalog, image.id, six);
      expect((await harness().vectors.nearest("fake:bag-1", NORTH, 5)).map((h) => h.id)).toEqual([
        north,
        east,
      ]);
      await embed(harness().catalog, east!, six);
      expect((await harness().vectors.nearest("fake:bag-1", NORTH, 5)).map((h) => h.id)).toEqual([north]);
      expect((await harness().vectors.nearest("fake:bag-1", six, 5)).map((h) => h.id).sort()).toEqual(
        [east, image.id].sort(),
      );
    });

    it("leaves out photos purged since, even by another process, and fills their places", async () => {
      const [north, northEast, east] = await photosWith([NORTH, NORTH_EAST, EAST]);
      expect((await harness().vectors.nearest("fake:bag-1", NORTH, 2)).map((h) => h.id)).toEqual([
        north,
        northEast,
      ]);
      await harness().other.deleteImage(north!);
      expect((await harness().vectors.nearest("fake:bag-1", NORTH, 2)).map((h) => h.id)).toEqual([
        northEast,
        east,
      ]);
    });
  });
}
