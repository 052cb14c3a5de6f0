import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import { candidateKeys, HASH_WINDOWS } from "../../src/domain/near-duplicates.js";
import type { Catalog } from "../../src/ports/catalog.js";
import type { JobQueue } from "../../src/ports/job-queue.js";
import { analysis, newImage } from "./fixtures.js";

export interface CatalogHarness {
  catalog: Catalog;
  /** The job queue kept beside the catalogue, when there is one: a deleted photo's jobs go with it. */
  queue?: JobQueue;
  close(): Promise<void>;
}

/** Features an adapter does not have yet: their tests skip, saying so; the methods throw not_implemented. */
export interface CatalogCapabilities {
  albums?: boolean;
  /** Search widened with WordNet (synonyms, narrower words); without it a search matches the words given. */
  meaningSearch?: boolean;
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhotocatError);
  expect((error as PhotocatError).code).toBe(code);
}

/** The behaviour every Catalog adapter must show. `makeStore` gives an empty store each time. */
export function runCatalogContract(
  name: string,
  makeStore: () => Promise<CatalogHarness>,
  capabilities: CatalogCapabilities = {},
) {
  const albums = capabilities.albums ?? true;
  if (!albums) console.warn(`[skip] ${name}: albums not supported yet (their contract tests skip)`);
  const meaningSearch = capabilities.meaningSearch ?? true;
  if (!meaningSearch)
    console.warn(`[skip] ${name}: search by meaning not supported yet (its contract tests skip)`);
  describe(`Catalog contract: ${name}`, () => {
    let store: CatalogHarness;
    let catalog: Catalog;

    beforeEach(async () => {
      store = await makeStore();
      catalog = store.catalog;
    });
    afterEach(async () => {
      vi.useRealTimers();
      await store.close();
    });

    /** Inserts photos whose upload times all fall in the same millisecond. */
    async function insertAtSameInstant(count: number, at = "2025-01-01T12:00:00.000Z") {
      vi.useFakeTimers({ toFake: ["Date"], now: new Date(at) });
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await catalog.insertImage(newImage())).image.id);
      vi.useRealTimers();
      return ids;
    }

    async function allPages(query: Omit<Parameters<Catalog["listImages"]>[0], "cursor">) {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const result = await catalog.listImages({ ...query, cursor });
        ids.push(...result.items.map((i) => i.id));
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      return ids;
    }

    describe("insertImage", () => {
      it("stores a photo and round-trips every field", async () => {
        const input = newImage({
          originalName: "Holiday 2024 (1).HEIC",
          mediaType: "image/heic",
          metadata: {
            takenAt: "2024-05-01T10:20:30.000Z",
            cameraMake: "Apple",
            cameraModel: "iPhone 13",
            lens: "iPhone 13 back camera",
            gps: { latitude: 51.5, longitude: -0.12, altitude: 11.5 },
            orientation: 6,
          },
          place: "London, United Kingdom",
          thumbhash: "1QcSHQRnh493V4dIh4eXh1h4kJUI",
        });
        const { image, created } = await catalog.insertImage(input);
        expect(created).toBe(true);
        expect(image).toMatchObject({
          id: input.id,
          sha256: input.sha256,
          status: "queued",
          originalName: input.originalName,
          mediaType: "image/heic",
          byteSize: input.byteSize,
          width: 4032,
          height: 3024,
          metadata: input.metadata,
          place: input.place,
          thumbhash: input.thumbhash,
          analysis: null,
          edits: null,
          error: null,
        });
        expect(Date.parse(image.createdAt)).not.toBeNaN();
        expect(await catalog.getImage(input.id)).toEqual(image);
        expect(await catalog.findBySha256(input.sha256)).toEqual(image);
      });

      it("returns the existing record for the same sha256", async () => {
        const first = await catalog.insertImage(newImage());
        const again = await catalog.insertImage(newImage({ sha256: first.image.sha256 }));
        expect(again.created).toBe(false);
        expect(again.image.id).toBe(first.image.id);
        expect((await catalog.stats()).images).toBe(1);
      });

      it("gives one record when the same bytes arrive concurrently", async () => {
        const sha256 = newImage().sha256;
        const results = await Promise.all(
          Array.from({ length: 8 }, () => catalog.insertImage(newImage({ sha256 }))),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.image.id)).size).toBe(1);
        expect((await catalog.stats()).images).toBe(1);
      });

      it("stores untrusted text without failing on NUL characters", async () => {
        const { image } = await catalog.insertImage(newImage({ originalName: "evil\0name.jpg" }));
        expect(image.originalName).toBe("evilname.jpg");
        const edited = await catalog.saveEdits(image.id, { summary: "a\0b", tags: ["x\0y"] });
        expect(edited?.edits).toMatchObject({ summary: "ab", tags: ["xy"] });
        await catalog.setStatus(image.id, "failed", "bad\0 reply");
        expect((await catalog.getImage(image.id))?.error).toBe("bad reply");
      });

      it("answers null for unknown ids and hashes", async () => {
        expect(await catalog.getImage("00000000-0000-4000-8000-000000000000")).toBeNull();
        expect(await catalog.getImage("not a uuid ' or 1=1 --")).toBeNull();
        expect(await catalog.findBySha256("0".repeat(64))).toBeNull();
      });
    });

    describe("listImages", () => {
      it("lists newest first", async () => {
        const older = await insertAtSameInstant(1, "2025-01-01T00:00:00.000Z");
        const newer = await insertAtSameInstant(1, "2025-02-01T00:00:00.000Z");
        const page = await catalog.listImages({ limit: 10 });
        expect(page.items.map((i) => i.id)).toEqual([...newer, ...older]);
        expect(page.nextCursor).toBeNull();
      });

      it("pages through rows that share an upload time with no duplicate or gap", async () => {
        const ids = await insertAtSameInstant(23);
        await insertAtSameInstant(4, "2024-12-31T00:00:00.000Z");
        const seen = await allPages({ limit: 5 });
        expect(seen).toHaveLength(27);
        expect(new Set(seen).size).toBe(27);
        // Ties break on id, descending.
        expect(seen.slice(0, 23)).toEqual([...ids].sort().reverse());
      });

      it("ends with a null cursor when the last page is exactly full", async () => {
        await insertAtSameInstant(4);
        const first = await catalog.listImages({ limit: 2 });
        const second = await catalog.listImages({ limit: 2, cursor: first.nextCursor });
        expect(second.items).toHaveLength(2);
        expect(second.nextCursor).toBeNull();
      });

      it("rejects a forged cursor and a bad limit", async () => {
        await expectCode(catalog.listImages({ limit: 5, cursor: "not-a-cursor!" }), "invalid_request");
        await expectCode(
          catalog.listImages({ limit: 5, cursor: Buffer.from('{"a":1}').toString("base64url") }),
          "invalid_request",
        );
        await expectCode(catalog.listImages({ limit: 0 }), "invalid_request");
        await expectCode(catalog.listImages({ limit: 5, from: "yesterday" }), "invalid_request");
      });

      it("filters by status", async () => {
        const [a, b] = await insertAtSameInstant(2);
        await catalog.setStatus(a!, "failed", "provider said no");
        const failed = await catalog.listImages({ limit: 10, status: "failed" });
        expect(failed.items.map((i) => i.id)).toEqual([a]);
        expect(failed.items[0]!.error).toBe("provider said no");
        const queued = await catalog.listImages({ limit: 10, status: "queued" });
        expect(queued.items.map((i) => i.id)).toEqual([b]);
      });

      it("filters by the effective category: a human edit wins over the analysis", async () => {
        const [cat, dog, car] = await insertAtSameInstant(3);
        await catalog.saveAnalysis(cat!, analysis({ category: "animals" }), "job-1");
        await catalog.saveAnalysis(dog!, analysis({ category: "animals" }), "job-2");
        await catalog.saveAnalysis(car!, analysis({ category: "animals" }), "job-3");
        await catalog.saveEdits(car!, { category: "vehicles" });
        const animals = await catalog.listImages({ limit: 10, category: "animals" });
        expect(animals.items.map((i) => i.id).sort()).toEqual([cat, dog].sort());
        const vehicles = await catalog.listImages({ limit: 10, category: "vehicles" });
        expect(vehicles.items.map((i) => i.id)).toEqual([car]);
        const paged = await allPages({ limit: 1, category: "animals" });
        expect(paged.sort()).toEqual([cat, dog].sort());
      });

      it("filters by capture date, falling back to the upload time, bounds inclusive", async () => {
        vi.useFakeTimers({ toFake: ["Date"], now: new Date("2025-03-10T08:00:00.000Z") });
        const meta = (takenAt: string | null) => ({ ...newImage().metadata, takenAt });
        const mayDay = await catalog.insertImage(newImage({ metadata: meta("2024-05-01T23:59:59.000Z") }));
        const noZone = await catalog.insertImage(newImage({ metadata: meta("2024-05-02T00:00:00") }));
        const june = await catalog.insertImage(newImage({ metadata: meta("2024-06-15T12:00:00+02:00") }));
        const unknown = await catalog.insertImage(newImage({ metadata: meta(null) }));
        vi.useRealTimers();
        const ids = async (from: string | null, to: string | null) =>
          (await catalog.listImages({ limit: 10, from, to })).items.map((i) => i.id).sort();

        expect(await ids("2024-05-01", "2024-05-01")).toEqual([mayDay.image.id]);
        expect(await ids("2024-05-01", "2024-05-02")).toEqual([mayDay.image.id, noZone.image.id].sort());
        expect(await ids("2024-05-02", null)).toEqual(
          [noZone.image.id, june.image.id, unknown.image.id].sort(),
        );
        expect(await ids(null, "2024-06-15T10:00:00Z")).toEqual(
          [mayDay.image.id, noZone.image.id, june.image.id].sort(),
        );
        expect(await ids(null, "2024-06-15T09:59:59Z")).toEqual([mayDay.image.id, noZone.image.id].sort());
        expect(await ids("2025-03-10", "2025-03-10")).toEqual([unknown.image.id]);
      });
    });

    describe("full-text search", () => {
      async function seed() {
        const [harbour, receipt, named, plain] = await insertAtSameInstant(4);
        await catalog.saveAnalysis(
          harbour!,
          analysis({
            summary: "Fishing boats moored in a harbour at sunset.",
            category: "vehicles",
            tags: ["boat", "harbour", "sunset"],
          }),
          "job-h",
        );
        await catalog.saveAnalysis(
          receipt!,
          analysis({
            summary: "A shop receipt on a wooden table.",
            category: "documents",
            tags: ["receipt", "paper"],
            text: "TOTAL 12.50 EUR Danke schön",
          }),
          "job-r",
        );
        await catalog.saveAnalysis(
          plain!,
          analysis({ summary: "A red bicycle.", tags: ["bicycle"] }),
          "job-p",
        );
        return { harbour: harbour!, receipt: receipt!, named: named!, plain: plain! };
      }
      const search = async (q: string) =>
        (await catalog.listImages({ limit: 50, q })).items.map((i) => i.id).sort();

      it("finds words in the summary, tags, category, visible text and file name", async () => {
        const s = await seed();
        const named = (await catalog.getImage(s.named))!;
        expect(await search("harbour")).toEqual([s.harbour]);
        expect(await search("boat")).toEqual([s.harbour]);
        expect(await search("documents")).toEqual([s.receipt]);
        expect(await search("danke")).toEqual([s.receipt]);
        expect(await search("Schön")).toEqual([s.receipt]);
        expect(await search(named.originalName.replace(/\.jpg$/, ""))).toEqual([s.named]);
        expect(await search("fishing sunset")).toEqual([s.harbour]);
        expect(await search("fishing receipt")).toEqual([]);
        expect(await search("elephant")).toEqual([]);
      });

      it("matches the last word as a prefix", async () => {
        const s = await seed();
        expect(await search("harb")).toEqual([s.harbour]);
        expect(await search("red bicy")).toEqual([s.plain]);
        expect(await search("bicy red")).toEqual([]);
      });

      it("returns nothing for punctuation only and never fails on query syntax", async () => {
        await seed();
        expect(await search("!!! ... ---")).toEqual([]);
        expect(await search('"')).toEqual([]);
        for (const hostile of [
          '" OR * NEAR(',
          "harbour OR NOT",
          "'; drop table images; --",
          "a:* & !b | (c",
          "summary:harbour",
          "^boat",
          "\u0000\u202e",
          "x".repeat(5000),
          "word ".repeat(200),
        ]) {
          await expect(catalog.listImages({ limit: 5, q: hostile }), hostile).resolves.toBeTruthy();
        }
        // Operators are plain words: "OR" must appear, so nothing matches here.
        expect(await search("harbour OR bicycle")).toEqual([]);
        expect((await catalog.stats()).images).toBe(4);
      });

      it("searches the effective description and pages newest first", async () => {
        const s = await seed();
        await catalog.saveEdits(s.harbour, {
          summary: "Old lighthouse keeper's cottage.",
          tags: ["cottage"],
        });
        expect(await search("lighthouse")).toEqual([s.harbour]);
        expect(await search("fishing")).toEqual([]);
        // A later analysis does not bring the replaced words back.
        await catalog.saveAnalysis(s.harbour, analysis({ summary: "Fishing boats again." }), "job-h2");
        expect(await search("fishing")).toEqual([]);
        expect(await search("cottage")).toEqual([s.harbour]);

        const many = await insertAtSameInstant(5, "2026-01-01T00:00:00.000Z");
        vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-01-02T00:00:00.000Z") });
        const { image: latest } = await catalog.insertImage(newImage());
        vi.useRealTimers();
        for (const [i, id] of [...many, latest.id].entries()) {
          await catalog.saveAnalysis(id, analysis({ summary: "A harbour crane." }), `job-c${i}`);
        }
        const paged = await allPages({ limit: 2, q: "harbour" });
        // Newest first; photos added in the same instant come in an order of the store's choosing, each once.
        expect(paged[0]).toBe(latest.id);
        expect(paged.slice(1).sort()).toEqual([...many].sort());
      });

      describe.skipIf(!meaningSearch)("by meaning", () => {
        /** Photos described without the general word, each added a minute after the one before. */
        async function seedMeanings(descriptions: Record<string, string>) {
          const ids: Record<string, string> = {};
          let minute = 0;
          for (const [name, summary] of Object.entries(descriptions)) {
            const [id] = await insertAtSameInstant(
              1,
              `2025-02-01T12:${String(minute++).padStart(2, "0")}:00.000Z`,
            );
            await catalog.saveAnalysis(
              id!,
              analysis({ summary, category: "other", tags: [] }),
              `job-${name}`,
            );
            ids[name] = id!;
          }
          return ids;
        }

        it("finds narrower words and synonyms that exact words missed", async () => {
          const s = await seedMeanings({
            dog: "A dog running on the beach.",
            kitten: "Two kittens asleep on a sofa.",
            horse: "A horse in a paddock.",
            car: "A red car parked in the street.",
            lemon: "Lemons in a blue bowl.",
            guy: "A guy reading on a bench.",
          });
          expect(await search("animal")).toEqual([s.dog, s.kitten, s.horse].sort());
          expect(await search("animals")).toEqual([s.dog, s.kitten, s.horse].sort());
          expect(await search("automobile")).toEqual([s.car]);
          expect(await search("fruit")).toEqual([s.lemon]);
          expect(await search("cat")).toEqual([s.kitten]);
          expect(await search("kitten")).toEqual([s.kitten]);
          // Several words: all of them, each widened.
          expect(await search("animal beach")).toEqual([s.dog]);
          expect(await search("animal street")).toEqual([]);
          // The usual senses only: "cat" is not "guy".
          expect(await search("cat bench")).toEqual([]);
          expect(await catalog.timeline({ q: "fruit" })).toEqual([{ month: "2025-02", count: 1 }]);
        });

        it("finds by meaning a photo whose words were written after an earlier search found nothing", async () => {
          const s = await seedMeanings({ car: "A red car parked in the street." });
          expect(await search("animal")).toEqual([]);
          const later = await seedMeanings({ horse: "A horse in a paddock." });
          expect(await search("animal")).toEqual([later.horse]);
          await catalog.saveEdits(s.car!, { summary: "A dog asleep in a red car." });
          expect(await search("animal")).toEqual([s.car, later.horse].sort());
        });

        it("ranks exact words above synonyms above narrower words, newest first in each, across pages", async () => {
          // Added oldest first: newest-first order alone would show the dog first.
          const s = await seedMeanings({
            exact: "An animal at the edge of the wood.",
            older: "Another animal, seen from far away.",
            synonym: "A creature in the garden.",
            narrower: "A dog asleep by the fire.",
          });
          const order = [s.exact, s.older, s.synonym, s.narrower];
          const ranked = (await catalog.listImages({ limit: 10, q: "animal" })).items.map((i) => i.id);
          expect(ranked).toEqual([s.older, s.exact, s.synonym, s.narrower]);
          expect(await allPages({ limit: 1, q: "animal" })).toEqual(ranked);
          expect(await allPages({ limit: 3, q: "animal" })).toEqual(ranked);
          expect(ranked.sort()).toEqual(order.sort());
        });
      });

      it("finds the words a photo came with, kept apart from the analysis and the edits", async () => {
        const { image } = await catalog.insertImage(
          newImage({
            ownWords: {
              title: "Grandma's garden",
              description: "Tulips planted by Grandma in Utrecht",
              keywords: ["family", "tulips"],
              altText: "Red tulips in a garden bed",
              sources: ["xmp sidecar", "iptc"],
            },
            metadataNotes: ["the XMP packet is malformed"],
          }),
        );
        await catalog.saveAnalysis(image.id, analysis({ summary: "Flowers in a garden." }), "job-own");
        await catalog.saveEdits(image.id, { tags: ["spring"] });
        const stored = (await catalog.getImage(image.id))!;
        expect(stored.ownWords).toEqual({
          title: "Grandma's garden",
          description: "Tulips planted by Grandma in Utrecht",
          keywords: ["family", "tulips"],
          altText: "Red tulips in a garden bed",
          sources: ["xmp sidecar", "iptc"],
        });
        expect(stored.metadataNotes).toEqual(["the XMP packet is malformed"]);
        expect(stored.analysis?.summary).toBe("Flowers in a garden.");
        expect(stored.edits?.tags).toEqual(["spring"]);
        for (const word of ["grandma", "utrecht", "tulips", "family", "flowers", "spring"]) {
          expect(await search(word), word).toEqual([image.id]);
        }
        const { image: plain } = await catalog.insertImage(newImage());
        expect((await catalog.getImage(plain.id))!.ownWords).toBeNull();
      });

      it("combines search with the other filters", async () => {
        const s = await seed();
        await catalog.setStatus(s.plain, "failed", "boom");
        expect(
          (await catalog.listImages({ limit: 10, q: "wooden", category: "documents" })).items.map(
            (i) => i.id,
          ),
        ).toEqual([s.receipt]);
        expect(
          (await catalog.listImages({ limit: 10, q: "bicycle", status: "done" })).items.map((i) => i.id),
        ).toEqual([]);
      });
    });

    describe("analysis and edits", () => {
      it("saves an analysis with its provenance and marks the photo done", async () => {
        const { image } = await catalog.insertImage(newImage());
        await catalog.setStatus(image.id, "running");
        const result = analysis({ text: "EXIT", extras: { faces: 2, colours: ["red"] } });
        await catalog.saveAnalysis(image.id, result, "job-1");
        const stored = (await catalog.getImage(image.id))!;
        expect(stored.status).toBe("done");
        expect(stored.error).toBeNull();
        expect(stored.analysis).toEqual(result);
        expect(await catalog.analysisJobId(image.id)).toBe("job-1");
        expect(await catalog.analysisJobId("00000000-0000-4000-8000-000000000000")).toBeNull();
      });

      it("is idempotent per job id", async () => {
        const { image } = await catalog.insertImage(newImage());
        await catalog.saveAnalysis(image.id, analysis(), "job-1");
        const first = await catalog.getImage(image.id);
        await catalog.saveAnalysis(image.id, analysis({ summary: "Something else." }), "job-1");
        expect(await catalog.getImage(image.id)).toEqual(first);
        expect((await catalog.stats()).inputTokens).toBe(1000);
      });

      it("refuses to analyse a photo that is gone", async () => {
        await expectCode(
          catalog.saveAnalysis("00000000-0000-4000-8000-000000000000", analysis(), "job-x"),
          "not_found",
        );
      });

      it("merges edits and keeps them over any later analysis", async () => {
        const { image } = await catalog.insertImage(newImage());
        await catalog.saveAnalysis(image.id, analysis(), "job-1");
        await catalog.saveEdits(image.id, { category: "people" });
        const edited = await catalog.saveEdits(image.id, { tags: ["grandma", "garden"] });
        expect(edited?.edits).toMatchObject({ category: "people", tags: ["grandma", "garden"] });
        expect(edited?.edits?.summary).toBeUndefined();
        expect(Date.parse(edited?.edits?.editedAt ?? "")).not.toBeNaN();

        await catalog.saveAnalysis(image.id, analysis({ category: "nature", tags: ["tree"] }), "job-2");
        const after = (await catalog.getImage(image.id))!;
        expect(after.analysis?.category).toBe("nature");
        expect(after.edits).toMatchObject({ category: "people", tags: ["grandma", "garden"] });
        expect(await catalog.categoryCounts()).toEqual([{ category: "people", count: 1 }]);
      });

      it("answers null when editing a photo that is gone", async () => {
        expect(await catalog.saveEdits("00000000-0000-4000-8000-000000000000", { summary: "x" })).toBeNull();
      });
    });

    describe("counts, stats and selections", () => {
      it("counts photos per effective category, largest first", async () => {
        const [a, b, c, d] = await insertAtSameInstant(4);
        await catalog.saveAnalysis(a!, analysis({ category: "food" }), "j1");
        await catalog.saveAnalysis(b!, analysis({ category: "food" }), "j2");
        await catalog.saveAnalysis(c!, analysis({ category: "art" }), "j3");
        await catalog.saveEdits(d!, { category: "art" });
        await catalog.saveEdits(b!, { category: "art" });
        expect(await catalog.categoryCounts()).toEqual([
          { category: "art", count: 3 },
          { category: "food", count: 1 },
        ]);
      });

      it("sums tokens and cost, including re-analyses, and groups by model", async () => {
        const [a, b, c] = await insertAtSameInstant(3);
        await catalog.saveAnalysis(a!, analysis({ model: "small" }), "j1");
        await catalog.saveAnalysis(b!, analysis({ model: "small" }), "j2");
        await catalog.saveAnalysis(b!, analysis({ model: "big" }), "j3");
        await catalog.setStatus(c!, "failed", "no");
        const stats = await catalog.stats();
        expect(stats.images).toBe(3);
        expect(stats.byStatus).toEqual({ queued: 0, running: 0, done: 2, failed: 1 });
        expect(stats.inputTokens).toBe(3000);
        expect(stats.outputTokens).toBe(300);
        expect(stats.costUsd).toBeCloseTo(0.006, 9);
        expect(stats.byModel).toEqual([
          { provider: "test", model: "big", images: 1, costUsd: expect.closeTo(0.002, 9) },
          { provider: "test", model: "small", images: 1, costUsd: expect.closeTo(0.002, 9) },
        ]);
      });

      it("reports zeros when empty", async () => {
        expect(await catalog.stats()).toEqual({
          images: 0,
          byStatus: { queued: 0, running: 0, done: 0, failed: 0 },
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          byModel: [],
          embeddingCostUsd: 0,
          byEmbeddingModel: [],
        });
        expect(await catalog.categoryCounts()).toEqual([]);
      });

      it("keeps a remote embedding with what it cost, adding up when the photo is embedded again", async () => {
        const [a, b] = await insertAtSameInstant(2);
        const vector = Float32Array.from([0.6, 0.8]);
        await catalog.saveEmbedding(a!, { model: "fake:bag-1", vector, inputTokens: 10, costUsd: 0.001 });
        await catalog.saveEmbedding(a!, { model: "fake:bag-1", vector, inputTokens: 5, costUsd: 0.0005 });
        await catalog.saveEmbedding(b!, { model: "fake:bag-1", vector, inputTokens: 7, costUsd: 0.0007 });
        await catalog.saveEmbedding(b!, { model: "local:free", vector, inputTokens: 0, costUsd: 0 });
        const stored = await catalog.embeddingsOf(b!);
        expect(stored.map((e) => e.model).sort()).toEqual(["fake:bag-1", "local:free"]);
        const paid = stored.find((e) => e.model === "fake:bag-1");
        expect(Array.from(paid!.vector)).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0.8, 5)]);
        const stats = await catalog.stats();
        expect(stats.byEmbeddingModel).toEqual([
          { model: "fake:bag-1", images: 2, inputTokens: 22, costUsd: expect.closeTo(0.0022, 6) },
        ]);
        expect(stats.embeddingCostUsd).toBeCloseTo(0.0022, 6);
        await expect(
          catalog.saveEmbedding("00000000-0000-4000-8000-000000000000", {
            model: "fake:bag-1",
            vector,
            inputTokens: 1,
            costUsd: 0,
          }),
        ).rejects.toMatchObject({ code: "not_found" });
      });

      it("lists only the named photos, with the listing's filters and the trash applied", async () => {
        const [a, b, c] = await insertAtSameInstant(3);
        await catalog.saveAnalysis(a!, analysis({ category: "food" }), "j1");
        await catalog.saveAnalysis(b!, analysis({ category: "nature" }), "j2");
        await catalog.trashImage(c!);
        const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id).sort();
        expect(ids(await catalog.listImages({ ids: [a!, b!, c!], limit: 10 }))).toEqual([a, b].sort());
        expect(ids(await catalog.listImages({ ids: [a!, b!], category: "nature", limit: 10 }))).toEqual([b]);
        expect(ids(await catalog.listImages({ ids: [], limit: 10 }))).toEqual([]);
      });

      it("selects ids for bulk re-analysis", async () => {
        const [a, b, c] = await insertAtSameInstant(3);
        await catalog.saveAnalysis(a!, analysis({ category: "food" }), "j1");
        await catalog.setStatus(b!, "failed", "x");
        expect((await catalog.selectIds({ all: true })).sort()).toEqual([a, b, c].sort());
        expect(await catalog.selectIds({ status: "failed" })).toEqual([b]);
        expect(await catalog.selectIds({ category: "food" })).toEqual([a]);
        expect(await catalog.selectIds({ status: "queued", category: "food" })).toEqual([]);
        expect(await catalog.selectIds({})).toEqual([]);
      });

      it("learns only from photos whose category a person set", async () => {
        const [a, b, c] = await insertAtSameInstant(3);
        const vector = [0.25, -1.5, 3.125];
        for (const [i, id] of [a, b, c].entries()) {
          await catalog.saveAnalysis(
            id!,
            analysis({ embedding: { model: "mobilenet", vector: vector.map((v) => v + i) } }),
            `j${i}`,
          );
        }
        await catalog.saveEdits(a!, { category: "food" });
        await catalog.saveEdits(b!, { summary: "Only the words changed." });
        expect(await catalog.correctionExamples("mobilenet")).toEqual([
          { imageId: a, category: "food", vector },
        ]);
        expect(await catalog.correctionExamples("other-model")).toEqual([]);
        // A re-analysis replaces the embedding of the same model.
        await catalog.saveAnalysis(
          a!,
          analysis({ embedding: { model: "mobilenet", vector: [1, 2, 3] } }),
          "j-again",
        );
        expect((await catalog.correctionExamples("mobilenet"))[0]?.vector).toEqual([1, 2, 3]);
      });

      it("reads embeddings by photo and as changed since a point, for the similar-photo index", async () => {
        const [a, b, c] = await insertAtSameInstant(3);
        for (const [i, id] of [a, b, c].entries()) {
          await catalog.saveAnalysis(id!, analysis({ embedding: { model: "m", vector: [i, 0.5] } }), `e${i}`);
        }
        await catalog.saveAnalysis(c!, analysis({ embedding: { model: "n", vector: [9] } }), "e-n");
        expect((await catalog.embeddingsOf(a!)).map((e) => [e.model, [...e.vector]])).toEqual([
          ["m", [0, 0.5]],
        ]);
        expect((await catalog.embeddingsOf(c!)).map((e) => e.model).sort()).toEqual(["m", "n"]);
        expect(await catalog.embeddingsOf(newImage().id)).toEqual([]);

        const all = await catalog.changedEmbeddings("m", null, 10);
        expect(all.map((e) => e.imageId).sort()).toEqual([a, b, c].sort());
        const firstTwo = await catalog.changedEmbeddings("m", null, 2);
        const rest = await catalog.changedEmbeddings("m", firstTwo.at(-1)!, 10);
        expect([...firstTwo, ...rest].map((e) => e.imageId)).toEqual(all.map((e) => e.imageId));
        // A rewrite comes after everything read so far.
        await new Promise((r) => setTimeout(r, 5));
        await catalog.saveAnalysis(a!, analysis({ embedding: { model: "m", vector: [7, 7] } }), "e-again");
        const changed = await catalog.changedEmbeddings("m", all.at(-1)!, 10);
        expect(changed.map((e) => [e.imageId, [...e.vector]])).toEqual([[a, [7, 7]]]);
        expect(changed[0]!.changedMs).toBeGreaterThanOrEqual(all.at(-1)!.changedMs);
      });
    });

    describe("trash", () => {
      it("hides a trashed photo from listings, search, counts, statistics and selections", async () => {
        const { image } = await catalog.insertImage(newImage());
        const keep = await catalog.insertImage(newImage());
        await catalog.saveAnalysis(image.id, analysis({ summary: "A zebra crossing." }), "j1");
        await catalog.saveAnalysis(keep.image.id, analysis({ summary: "A red kite." }), "j2");

        const trashed = await catalog.trashImage(image.id);
        expect(trashed?.trashedAt).toEqual(expect.any(String));
        expect((await catalog.getImage(image.id))?.trashedAt).toBe(trashed?.trashedAt);
        expect((await catalog.listImages({ limit: 10 })).items.map((i) => i.id)).toEqual([keep.image.id]);
        expect((await catalog.listImages({ limit: 10, q: "zebra" })).items).toEqual([]);
        expect(await catalog.categoryCounts()).toEqual([{ category: "animals", count: 1 }]);
        expect((await catalog.stats()).images).toBe(1);
        expect(await catalog.selectIds({ all: true })).toEqual([keep.image.id]);
        // Uploading the same bytes again finds the trashed record (ingest restores it).
        expect((await catalog.findBySha256(image.sha256))?.id).toBe(image.id);
      });

      it("lists the trash most recently trashed first, in pages, and restores", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const { image } = await catalog.insertImage(newImage());
          vi.useFakeTimers({ toFake: ["Date"], now: new Date(Date.UTC(2025, 0, 1, 0, 0, i)) });
          await catalog.trashImage(image.id);
          vi.useRealTimers();
          ids.push(image.id);
        }
        const first = await catalog.listTrash({ limit: 2 });
        expect(first.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
        const second = await catalog.listTrash({ limit: 2, cursor: first.nextCursor });
        expect(second.items.map((i) => i.id)).toEqual([ids[0]]);
        expect(second.nextCursor).toBeNull();

        const restored = await catalog.restoreImage(ids[1]!);
        expect(restored?.trashedAt ?? null).toBeNull();
        expect((await catalog.listImages({ limit: 10 })).items.map((i) => i.id)).toEqual([ids[1]]);
        expect((await catalog.listTrash({ limit: 10 })).items.map((i) => i.id)).toEqual([ids[2], ids[0]]);
      });

      it("answers null for photos that do not exist, and trashing twice keeps the first time", async () => {
        expect(await catalog.trashImage("00000000-0000-4000-8000-000000000000")).toBeNull();
        expect(await catalog.restoreImage("00000000-0000-4000-8000-000000000000")).toBeNull();
        const { image } = await catalog.insertImage(newImage());
        const once = await catalog.trashImage(image.id);
        const twice = await catalog.trashImage(image.id);
        expect(twice?.trashedAt).toBe(once?.trashedAt);
      });
    });

    describe("capture-time order and the timeline", () => {
      /** Photos uploaded in this order, each with a capture time (null: unknown). */
      async function photosTaken(takenAts: (string | null)[], uploadedAt = "2025-06-01T00:00:00.000Z") {
        const ids: string[] = [];
        for (const [i, takenAt] of takenAts.entries()) {
          vi.useFakeTimers({ toFake: ["Date"], now: new Date(Date.parse(uploadedAt) + i * 1000) });
          const metadata = { ...newImage().metadata, takenAt };
          ids.push((await catalog.insertImage(newImage({ metadata }))).image.id);
          vi.useRealTimers();
        }
        return ids;
      }

      it("lists newest taken first, an unknown capture time counting as the upload time", async () => {
        const [old, recent, unknown, middle] = await photosTaken([
          "2014-09-12T10:00:00Z",
          "2024-01-05T10:00:00Z",
          null,
          "2019-03-01T08:00:00",
        ]);
        const taken = await catalog.listImages({ limit: 10, order: "taken" });
        expect(taken.items.map((i) => i.id)).toEqual([unknown, recent, middle, old]);
        const added = await catalog.listImages({ limit: 10, order: "added" });
        expect(added.items.map((i) => i.id)).toEqual([middle, unknown, recent, old]);
      });

      it("pages in capture-time order with no gap or duplicate, and starts at a month with `to`", async () => {
        const months = Array.from(
          { length: 30 },
          (_, i) => `20${10 + (i % 10)}-0${1 + (i % 9)}-15T12:00:00Z`,
        );
        const ids = await photosTaken(months);
        const seen = await allPages({ limit: 4, order: "taken" });
        expect(seen).toHaveLength(30);
        expect(new Set(seen).size).toBe(30);
        const expected = ids
          .map((id, i) => ({ id, at: months[i]! }))
          .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
          .map((p) => p.id);
        expect(seen).toEqual(expected);

        // From March 2015 back: the first page starts at the newest photo taken on or before its last day.
        const fromMonth = await allPages({ limit: 2, order: "taken", to: "2015-03-31" });
        expect(fromMonth).toEqual(expected.filter((id) => months[ids.indexOf(id)]! < "2015-04"));
        expect(fromMonth.length).toBeGreaterThan(0);
      });

      it("refuses a cursor of the other order", async () => {
        await photosTaken([null, null, null]);
        const added = await catalog.listImages({ limit: 1 });
        await expectCode(
          catalog.listImages({ limit: 1, order: "taken", cursor: added.nextCursor }),
          "invalid_request",
        );
        const taken = await catalog.listImages({ limit: 1, order: "taken" });
        await expectCode(catalog.listImages({ limit: 1, cursor: taken.nextCursor }), "invalid_request");
      });

      it("counts photos per month taken, newest month first, without the trash, honouring filters", async () => {
        const [a, b, c, d, e] = await photosTaken(
          [
            "2014-09-01T00:00:00Z",
            "2014-09-30T23:59:59Z",
            "2014-10-01T00:00:00Z",
            null,
            "2013-01-02T00:00:00Z",
          ],
          "2025-06-01T00:00:00.000Z",
        );
        expect(await catalog.timeline({})).toEqual([
          { month: "2025-06", count: 1 },
          { month: "2014-10", count: 1 },
          { month: "2014-09", count: 2 },
          { month: "2013-01", count: 1 },
        ]);
        await catalog.trashImage(e!);
        await catalog.saveAnalysis(a!, analysis({ category: "food" }), "j-a");
        await catalog.saveAnalysis(c!, analysis({ category: "food", summary: "A lemon tart." }), "j-c");
        expect(await catalog.timeline({ category: "food" })).toEqual([
          { month: "2014-10", count: 1 },
          { month: "2014-09", count: 1 },
        ]);
        expect(await catalog.timeline({ q: "lemon" })).toEqual([{ month: "2014-10", count: 1 }]);
        expect(await catalog.timeline({ q: "!!!" })).toEqual([]);
        expect((await catalog.timeline({})).map((m) => m.month)).not.toContain("2013-01");
        expect([b, d]).toHaveLength(2);
      });
    });

    describe("places", () => {
      const at = (place: string | null, latitude: number, longitude: number) =>
        newImage({
          place,
          metadata: { ...newImage().metadata, gps: { latitude, longitude, altitude: null } },
        });

      it("counts geotagged photos per place with their mean position, largest first, without the trash", async () => {
        const paris1 = await catalog.insertImage(at("Paris, France", 48.85, 2.35));
        await catalog.insertImage(at("Paris, France", 48.87, 2.33));
        const lima = await catalog.insertImage(at("Lima, Peru", -12.05, -77.04));
        await catalog.insertImage(at(null, 0.5, -150)); // at sea: no place
        await catalog.insertImage(newImage({ place: "Nowhere GPS" })); // a place without a position
        const places = await catalog.places({});
        expect(places.map((p) => [p.place, p.count])).toEqual([
          ["Paris, France", 2],
          ["Lima, Peru", 1],
        ]);
        expect(places[0]!.lat).toBeCloseTo(48.86, 6);
        expect(places[0]!.lon).toBeCloseTo(2.34, 6);
        expect(places[1]).toMatchObject({ lat: -12.05, lon: -77.04 });

        await catalog.trashImage(lima.image.id);
        await catalog.saveAnalysis(paris1.image.id, analysis({ category: "food" }), "j1");
        expect((await catalog.places({})).map((p) => p.place)).toEqual(["Paris, France"]);
        expect(await catalog.places({ category: "food" })).toEqual([
          expect.objectContaining({ place: "Paris, France", count: 1 }),
        ]);
      });

      it("filters the listing by place, exactly", async () => {
        const paris = await catalog.insertImage(at("Paris, France", 48.85, 2.35));
        await catalog.insertImage(at("Paris, Texas, United States", 33.66, -95.55));
        const page = await catalog.listImages({ limit: 10, place: "Paris, France" });
        expect(page.items.map((i) => i.id)).toEqual([paris.image.id]);
        expect((await catalog.listImages({ limit: 10, place: "Paris" })).items).toEqual([]);
        expect(
          (await catalog.listImages({ limit: 10, place: "Paris, France", order: "taken" })).items,
        ).toHaveLength(1);
      });
    });

    describe.skipIf(!albums)("albums", () => {
      const albumId = () => newImage().id;

      it("creates an empty album, adds chosen photos, lists it by album and counts without the trash", async () => {
        const album = await catalog.createAlbum({ id: albumId(), name: "Holidays", filters: null });
        expect(album).toMatchObject({
          name: "Holidays",
          filters: null,
          coverId: null,
          count: 0,
          cover: null,
        });
        const [a, b, c] = await insertAtSameInstant(3);
        const trashed = (await catalog.insertImage(newImage())).image.id;
        await catalog.trashImage(trashed);
        const missing = "00000000-0000-4000-8000-000000000000";

        const added = await catalog.changeImages([a!, b!, missing, trashed, a!], {
          kind: "addToAlbum",
          albumId: album.id,
        });
        expect(added.changed.map((i) => i.id).sort()).toEqual([a, b].sort());
        expect(added.missing).toEqual([missing]);
        expect(added.inTrash).toEqual([trashed]);
        // Adding again changes nothing and is no error.
        expect(
          (await catalog.changeImages([a!], { kind: "addToAlbum", albumId: album.id })).changed,
        ).toHaveLength(1);

        const listed = await catalog.listImages({ limit: 10, album: album.id });
        expect(listed.items.map((i) => i.id).sort()).toEqual([a, b].sort());
        expect((await catalog.getAlbum(album.id))?.count).toBe(2);

        await catalog.trashImage(b!);
        expect((await catalog.getAlbum(album.id))?.count).toBe(1);
        expect((await catalog.listImages({ limit: 10, album: album.id })).items.map((i) => i.id)).toEqual([
          a,
        ]);
        await catalog.restoreImage(b!);

        const removed = await catalog.changeImages([b!, c!], { kind: "removeFromAlbum", albumId: album.id });
        expect(removed.missing).toEqual([]);
        expect((await catalog.listImages({ limit: 10, album: album.id })).items.map((i) => i.id)).toEqual([
          a,
        ]);
        await expectCode(catalog.listImages({ limit: 10, album: albumId() }), "not_found");
        await expectCode(catalog.timeline({ album: albumId() }), "not_found");
      });

      it("shows the newest photo taken as the cover unless one is chosen, and only a photo of the album", async () => {
        const album = await catalog.createAlbum({ id: albumId(), name: "Cats", filters: null });
        const meta = (takenAt: string) => ({ ...newImage().metadata, takenAt });
        const older = (await catalog.insertImage(newImage({ metadata: meta("2010-01-01T00:00:00Z") }))).image;
        const newer = (await catalog.insertImage(newImage({ metadata: meta("2020-01-01T00:00:00Z") }))).image;
        const outside = (await catalog.insertImage(newImage())).image;
        await catalog.changeImages([older.id, newer.id], { kind: "addToAlbum", albumId: album.id });
        expect((await catalog.getAlbum(album.id))?.cover?.id).toBe(newer.id);

        const chosen = await catalog.updateAlbum(album.id, { coverId: older.id });
        expect(chosen).toMatchObject({ coverId: older.id, cover: { id: older.id } });
        await expectCode(catalog.updateAlbum(album.id, { coverId: outside.id }), "invalid_request");

        // The chosen cover in the trash: the newest photo stands in; deleted: the choice is forgotten.
        await catalog.trashImage(older.id);
        expect((await catalog.getAlbum(album.id))?.cover?.id).toBe(newer.id);
        await catalog.restoreImage(older.id);
        await catalog.deleteImage(older.id);
        expect(await catalog.getAlbum(album.id)).toMatchObject({
          coverId: null,
          count: 1,
          cover: { id: newer.id },
        });
        expect(await catalog.updateAlbum(albumId(), { name: "Gone" })).toBeNull();
      });

      it("renames, lists by name and deletes an album without deleting its photos", async () => {
        const b = await catalog.createAlbum({ id: albumId(), name: "beach", filters: null });
        await catalog.createAlbum({ id: albumId(), name: "Alps", filters: null });
        await catalog.createAlbum({ id: albumId(), name: "cities", filters: null });
        expect((await catalog.listAlbums()).map((a) => a.name)).toEqual(["Alps", "beach", "cities"]);
        const renamed = await catalog.updateAlbum(b.id, { name: "Zanzibar" });
        expect(renamed?.name).toBe("Zanzibar");
        expect((await catalog.listAlbums()).map((a) => a.name)).toEqual(["Alps", "cities", "Zanzibar"]);

        const { image } = await catalog.insertImage(newImage());
        await catalog.changeImages([image.id], { kind: "addToAlbum", albumId: b.id });
        expect(await catalog.deleteAlbum(b.id)).toBe(true);
        expect(await catalog.deleteAlbum(b.id)).toBe(false);
        expect(await catalog.getAlbum(b.id)).toBeNull();
        expect(await catalog.getImage(image.id)).not.toBeNull();
        await expectCode(
          catalog.changeImages([image.id], { kind: "addToAlbum", albumId: b.id }),
          "not_found",
        );
        // A deleted photo leaves its albums.
        const a = await catalog.createAlbum({ id: albumId(), name: "Kept", filters: null });
        await catalog.changeImages([image.id], { kind: "addToAlbum", albumId: a.id });
        await catalog.deleteImage(image.id);
        expect((await catalog.getAlbum(a.id))?.count).toBe(0);
      });

      it("a smart album holds what its saved search finds, combined with the listing's filters", async () => {
        const [cat, dog, car] = await insertAtSameInstant(3);
        await catalog.saveAnalysis(
          cat!,
          analysis({ summary: "A cat on a sofa.", category: "animals" }),
          "j1",
        );
        await catalog.saveAnalysis(
          dog!,
          analysis({ summary: "A dog in the snow.", category: "animals" }),
          "j2",
        );
        await catalog.saveAnalysis(
          car!,
          analysis({ summary: "A red car in the snow.", category: "vehicles" }),
          "j3",
        );
        const smart = await catalog.createAlbum({
          id: albumId(),
          name: "Animals",
          filters: { category: "animals" },
        });
        expect(smart).toMatchObject({ filters: { category: "animals" }, count: 2 });
        expect(
          (await catalog.listImages({ limit: 10, album: smart.id })).items.map((i) => i.id).sort(),
        ).toEqual([cat, dog].sort());
        expect(
          (await catalog.listImages({ limit: 10, album: smart.id, q: "snow" })).items.map((i) => i.id),
        ).toEqual([dog]);
        expect(await catalog.listImages({ limit: 10, album: smart.id, category: "vehicles" })).toEqual({
          items: [],
          nextCursor: null,
        });
        expect(await catalog.timeline({ album: smart.id })).toEqual([
          { month: expect.any(String), count: 2 },
        ]);
        await expectCode(
          catalog.changeImages([car!], { kind: "addToAlbum", albumId: smart.id }),
          "invalid_request",
        );

        const snowy = await catalog.updateAlbum(smart.id, { filters: { q: "snow" } });
        expect(snowy).toMatchObject({ filters: { q: "snow" }, count: 2 });
        expect((await catalog.listAlbums())[0]?.count).toBe(2);
      });
    });

    describe("changes to many photos", () => {
      it("sets the category and adds tags as human edits, leaving trashed and unknown photos alone", async () => {
        const [a, b, trashed] = await insertAtSameInstant(3);
        await catalog.saveAnalysis(a!, analysis({ category: "food", tags: ["lemon", "tart"] }), "j1");
        await catalog.trashImage(trashed!);
        const missing = "00000000-0000-4000-8000-000000000000";

        const set = await catalog.changeImages([a!, b!, trashed!, missing], {
          kind: "category",
          category: "art",
        });
        expect(set.changed.map((i) => [i.id, i.edits?.category]).sort()).toEqual(
          [
            [a, "art"],
            [b, "art"],
          ].sort(),
        );
        expect(set).toMatchObject({ missing: [missing], inTrash: [trashed] });
        expect((await catalog.getImage(trashed!))?.edits).toBeNull();
        expect(await catalog.categoryCounts()).toEqual([{ category: "art", count: 2 }]);

        const tagged = await catalog.changeImages([a!, b!], { kind: "addTags", tags: ["Summer", "lemon"] });
        const tags = Object.fromEntries(tagged.changed.map((i) => [i.id, i.edits?.tags]));
        expect(tags[a!]).toEqual(["tart", "summer", "lemon"]);
        expect(tags[b!]).toEqual(["summer", "lemon"]);
        expect((await catalog.listImages({ limit: 10, q: "summer" })).items).toHaveLength(2);
      });

      it("trashes and restores many photos at once, past one statement's worth of ids", async () => {
        const ids = await insertAtSameInstant(520);
        const trashed = await catalog.changeImages(ids, { kind: "trash" });
        expect(trashed.changed).toHaveLength(520);
        expect(trashed.changed.every((i) => i.trashedAt)).toBe(true);
        expect((await catalog.stats()).images).toBe(0);
        const restored = await catalog.changeImages(ids.slice(0, 510), { kind: "restore" });
        expect(restored.inTrash).toEqual([]);
        expect((await catalog.stats()).images).toBe(510);
      }, 60_000);

      it("lists only what was trashed before a time, for the automatic purge", async () => {
        const [old, recent] = await insertAtSameInstant(2);
        vi.useFakeTimers({ toFake: ["Date"], now: new Date("2025-01-01T00:00:00.000Z") });
        await catalog.trashImage(old!);
        vi.setSystemTime(new Date("2025-02-15T00:00:00.000Z"));
        await catalog.trashImage(recent!);
        vi.useRealTimers();
        const expired = await catalog.listTrash({ limit: 10, trashedBefore: "2025-01-31T00:00:00.000Z" });
        expect(expired.items.map((i) => i.id)).toEqual([old]);
      });
    });

    describe("findIdsByPrefix", () => {
      it("finds ids by a unique or shared prefix, in id order, and treats wildcards literally", async () => {
        const ids = [
          "abc00000-0000-4000-8000-000000000001",
          "abc00000-0000-4000-8000-000000000002",
          "abd00000-0000-4000-8000-000000000003",
        ];
        for (const id of [...ids].reverse()) await catalog.insertImage(newImage({ id }));
        expect(await catalog.findIdsByPrefix("abc", 10)).toEqual([ids[0], ids[1]]);
        expect(await catalog.findIdsByPrefix("abc", 1)).toEqual([ids[0]]);
        expect(await catalog.findIdsByPrefix("abd", 10)).toEqual([ids[2]]);
        expect(await catalog.findIdsByPrefix(ids[1]!, 10)).toEqual([ids[1]]);
        expect(await catalog.findIdsByPrefix("ab", 10)).toEqual(ids);
        expect(await catalog.findIdsByPrefix("ABC", 10)).toEqual([]);
        expect(await catalog.findIdsByPrefix("abe", 10)).toEqual([]);
        expect(await catalog.findIdsByPrefix("%", 10)).toEqual([]);
        expect(await catalog.findIdsByPrefix("ab_", 10)).toEqual([]);
        expect(await catalog.findIdsByPrefix("", 10)).toEqual([]);
      });
    });

    describe("deleteImage", () => {
      it("removes the photo, its search entry, embedding and jobs", async () => {
        const { image } = await catalog.insertImage(newImage());
        const keep = await catalog.insertImage(newImage());
        await catalog.saveAnalysis(
          image.id,
          analysis({ summary: "A zebra crossing.", embedding: { model: "m", vector: [1] } }),
          "j1",
        );
        await catalog.saveEdits(image.id, { category: "architecture" });
        await store.queue?.enqueue("analyse", { imageId: image.id });
        await store.queue?.enqueue("analyse", { imageId: keep.image.id });

        expect(await catalog.deleteImage(image.id)).toBe(true);
        expect(await catalog.getImage(image.id)).toBeNull();
        expect((await catalog.listImages({ limit: 10, q: "zebra" })).items).toEqual([]);
        expect(await catalog.correctionExamples("m")).toEqual([]);
        if (store.queue) expect((await store.queue.counts()).queued).toBe(1);
        expect(await catalog.categoryCounts()).toEqual([]);
        expect(await catalog.deleteImage(image.id)).toBe(false);
        // The same bytes may come back later as a new photo.
        expect((await catalog.insertImage(newImage({ sha256: image.sha256 }))).created).toBe(true);
      });
    });

    describe("perceptual hashes and near-duplicate pairs", () => {
      // Six window hashes; `alt` differs from `base` in one bit of the whole frame.
      const base = "0123456789abcdef".repeat(HASH_WINDOWS);
      const alt = `1123456789abcdef${"0123456789abcdef".repeat(HASH_WINDOWS - 1)}`;
      const far = "fedcba9876543210".repeat(HASH_WINDOWS);

      it("stores a fingerprint at insert and finds photos by hash key, never a flat or far one", async () => {
        const a = (await catalog.insertImage(newImage({ perceptualHash: base, sharpness: 12.5 }))).image;
        const b = (await catalog.insertImage(newImage({ perceptualHash: far, sharpness: 3 }))).image;
        const flat = (await catalog.insertImage(newImage({ perceptualHash: null, sharpness: 0 }))).image;
        expect(a.perceptualHash).toBe(base);
        expect(a.sharpness).toBe(12.5);
        expect(flat.perceptualHash).toBeNull();
        const found = await catalog.hashCandidates(
          candidateKeys(alt),
          "00000000-0000-4000-8000-000000000000",
        );
        expect(found).toEqual([{ id: a.id, perceptualHash: base }]);
        expect(await catalog.hashCandidates(candidateKeys(base), a.id)).toEqual([]);
        expect(await catalog.hashCandidates([], a.id)).toEqual([]);
        expect(found.map((f) => f.id)).not.toContain(b.id);
        expect(await catalog.idsWithoutFingerprint(10)).toEqual([]);
      });

      it("lists photos without a fingerprint page by page, and takes one later", async () => {
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push((await catalog.insertImage(newImage())).image.id);
        ids.sort();
        expect(await catalog.idsWithoutFingerprint(2)).toEqual(ids.slice(0, 2));
        expect(await catalog.idsWithoutFingerprint(2, ids[1])).toEqual(ids.slice(2));
        await catalog.saveFingerprint(ids[0]!, { perceptualHash: base, sharpness: 4 });
        await catalog.saveFingerprint(ids[1]!, { perceptualHash: null, sharpness: 0 });
        expect(await catalog.idsWithoutFingerprint(10)).toEqual([ids[2]]);
        expect((await catalog.getImage(ids[0]!))?.perceptualHash).toBe(base);
        expect((await catalog.hashCandidates(candidateKeys(alt), ids[2]!)).map((c) => c.id)).toEqual([
          ids[0],
        ]);
        // A new hash replaces the old one in the index.
        await catalog.saveFingerprint(ids[0]!, { perceptualHash: far, sharpness: 4 });
        expect(await catalog.hashCandidates(candidateKeys(alt), ids[2]!)).toEqual([]);
      });

      it("records pairs once in either order, hides trashed photos and dismissed pairs", async () => {
        const [a, b, c] = await Promise.all(
          [1, 2, 3].map(async () => (await catalog.insertImage(newImage())).image.id),
        );
        await catalog.addDuplicatePairs([
          { a: b!, b: a!, distance: 3 },
          { a: a!, b: b!, distance: 5 },
          { a: c!, b: b!, distance: 7 },
          { a: c!, b: c!, distance: 0 },
        ]);
        await catalog.addDuplicatePairs([]);
        const sorted = (x: string, y: string) => (x < y ? [x, y] : [y, x]);
        const pairs = await catalog.duplicatePairs();
        expect(pairs).toHaveLength(2);
        const [ab1, ab2] = sorted(a!, b!);
        expect(pairs).toContainEqual({ a: ab1, b: ab2, distance: 3 });
        await catalog.trashImage(c!);
        expect(await catalog.duplicatePairs()).toHaveLength(1);
        await catalog.restoreImage(c!);
        expect(await catalog.dismissDuplicates([a!, b!, c!])).toBe(2);
        expect(await catalog.dismissDuplicates([a!, b!])).toBe(0);
        expect(await catalog.duplicatePairs()).toEqual([]);
        // A pair with a deleted photo goes with it, and none can be added for it.
        await catalog.deleteImage(a!);
        await catalog.addDuplicatePairs([{ a: a!, b: b!, distance: 1 }]);
        expect(await catalog.getImages([a!, b!])).toEqual([expect.objectContaining({ id: b })]);
        expect(await catalog.getImages([])).toEqual([]);
      });
    });

    describe("sessions", () => {
      const DAY = 86_400_000;
      const now = Date.UTC(2026, 0, 1);

      it("stores a session, revokes it once, and answers null for an unknown one", async () => {
        await catalog.createSession({ idHash: "a".repeat(64), createdAt: now, expiresAt: now + DAY }, now);
        expect(await catalog.findSession("a".repeat(64))).toEqual({
          idHash: "a".repeat(64),
          createdAt: now,
          expiresAt: now + DAY,
          revokedAt: null,
        });
        expect(await catalog.findSession("b".repeat(64))).toBeNull();
        expect(await catalog.revokeSession("a".repeat(64), now + 5)).toBe(true);
        expect((await catalog.findSession("a".repeat(64)))?.revokedAt).toBe(now + 5);
        expect(await catalog.revokeSession("a".repeat(64), now + 6)).toBe(false);
        expect(await catalog.revokeSession("b".repeat(64), now)).toBe(false);
      });

      it("revokes every active session at once", async () => {
        for (const id of ["s1", "s2", "s3"])
          await catalog.createSession({ idHash: id, createdAt: now, expiresAt: now + 30 * DAY }, now);
        await catalog.revokeSession("s1", now);
        expect(await catalog.revokeAllSessions(now + 1)).toBe(2);
        for (const id of ["s1", "s2", "s3"])
          expect((await catalog.findSession(id))?.revokedAt).not.toBeNull();
        expect(await catalog.revokeAllSessions(now + 2)).toBe(0);
      });

      it("keeps times beyond 2038 and forgets sessions that expired", async () => {
        const far = Date.UTC(9999, 11, 31);
        await catalog.createSession(
          { idHash: "old", createdAt: now - 2 * DAY, expiresAt: now - DAY },
          now - 2 * DAY,
        );
        await catalog.createSession({ idHash: "far", createdAt: now, expiresAt: far }, now);
        expect(await catalog.findSession("old")).toBeNull();
        expect((await catalog.findSession("far"))?.expiresAt).toBe(far);
      });

      it("refuses a second session with the same id", async () => {
        await catalog.createSession({ idHash: "dup", createdAt: now, expiresAt: now + DAY }, now);
        await expect(
          catalog.createSession({ idHash: "dup", createdAt: now, expiresAt: now + DAY }, now),
        ).rejects.toThrow();
      });
    });
  });
}
