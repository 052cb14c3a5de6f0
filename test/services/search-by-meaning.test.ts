import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { createContainerApp } from "../../src/entry/app.js";
import { startContainerWorker } from "../../src/entry/worker.js";
import { silentLogger } from "../../src/logger.js";
import type { ImageQuery } from "../../src/ports/catalog.js";
import type { Embedder } from "../../src/ports/embedder.js";
import { embeddingText, queueMissingEmbeddings } from "../../src/services/embed.js";
import { ingestFile } from "../../src/services/ingest.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";
import { type FakeEmbedderOptions, fakeEmbedder } from "../support/fake-embedder.js";

let dir: string | undefined;
let container: Container | undefined;
afterEach(async () => {
  await container?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  container = undefined;
});

const COLOURS = {
  red: { r: 220, g: 20, b: 20 },
  green: { r: 20, g: 200, b: 30 },
  blue: { r: 20, g: 30, b: 210 },
};

/** Three photos (red, green, blue), analysed by the fake analyser and embedded by the fake embedder. */
async function catalogue(embedder: Embedder | null = fakeEmbedder()) {
  dir = await mkdtemp(path.join(tmpdir(), "photocat-meaning-"));
  container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir }), {
    logger: silentLogger(),
    analyser: fakeAnalyser(),
    embedder,
  });
  const ids: Record<keyof typeof COLOURS, string> = { red: "", green: "", blue: "" };
  for (const [i, [name, colour]] of Object.entries(COLOURS).entries()) {
    const file = path.join(dir, `${name}.jpg`);
    await writeFile(file, await solidImage(colour, i));
    const { image } = await ingestFile(container.ingestDeps, container.ingestLimits, {
      path: file,
      originalName: `${name}.jpg`,
    });
    ids[name as keyof typeof COLOURS] = image.id;
  }
  await settle(container);
  return { c: container, ids };
}

async function settle(c: Container) {
  const worker = await startContainerWorker(c, { pollMs: 20, baseBackoffMs: 10, maxBackoffMs: 20 });
  await worker.drain();
  await worker.stop();
}

const search = async (c: Container, q: string, more: Partial<ImageQuery> = {}) =>
  (await c.gallery.list({ q, limit: 20, ...more })).items.map((i) => i.id);

describe("search by meaning with a remote embedder", () => {
  it("embeds each photo after its analysis, under <provider>:<model>, and counts what it cost", async () => {
    const { c, ids } = await catalogue();
    for (const id of Object.values(ids)) {
      const image = await c.catalog.getImage(id);
      expect(image?.status).toBe("done");
      expect((await c.catalog.embeddingsOf(id)).map((e) => e.model)).toContain("fake:bag-1");
    }
    const stats = await c.gallery.stats();
    expect(stats.byEmbeddingModel).toEqual([
      expect.objectContaining({ model: "fake:bag-1", images: 3, costUsd: expect.closeTo(0.0003, 6) }),
    ]);
    expect(stats.embeddingCostUsd).toBeCloseTo(0.0003, 6);
    expect(stats.byEmbeddingModel[0]!.inputTokens).toBeGreaterThan(0);
  });

  it("embeds the photo's description in one text: summary, category, tags, alt text", async () => {
    const { c, ids } = await catalogue();
    const text = embeddingText((await c.catalog.getImage(ids.blue))!);
    expect(text).toContain("A mostly blue picture.");
    expect(text).toContain("Category: vehicles");
    expect(text).toContain("Tags: blue, test");
    expect(text.length).toBeLessThanOrEqual(2000);
  });

  it("finds a photo by a word absent from every description, and nothing unrelated", async () => {
    const { c, ids } = await catalogue();
    // Full text alone finds nothing: "azure" is in no description.
    expect((await c.catalog.listImages({ q: "azure", limit: 20 })).items).toEqual([]);
    expect(await search(c, "azure")).toEqual([ids.blue]);
    expect(await search(c, "crimson")).toEqual([ids.red]);
  });

  it("applies the listing's filters and the trash to what the vectors found", async () => {
    const { c, ids } = await catalogue();
    expect(await search(c, "azure", { category: "food" })).toEqual([]);
    expect(await search(c, "azure", { category: "vehicles" })).toEqual([ids.blue]);
    await c.gallery.trash(ids.blue);
    expect(await search(c, "azure")).toEqual([]);
  });

  it("queues a restored photo whose embedding the trash cancelled, and only that one", async () => {
    const { c, ids } = await catalogue();
    // Trashed before its embedding ran: the trash cancels the pending job.
    await c.catalog.deleteImage(ids.red);
    const file = path.join(dir!, "red.jpg");
    const { image } = await ingestFile(c.ingestDeps, c.ingestLimits, { path: file, originalName: "red.jpg" });
    const worker = await startContainerWorker(c, { kinds: ["analyse"], pollMs: 20 });
    await worker.drain();
    await worker.stop();
    await c.gallery.trash(image.id);
    expect((await c.queue.counts(["embed"])).queued).toBe(0);
    await c.gallery.restore(image.id);
    await c.gallery.trash(ids.blue);
    await c.gallery.restore(ids.blue);
    expect((await c.queue.counts(["embed"])).queued).toBe(1);
    await settle(c);
    expect(await search(c, "crimson")).toEqual([image.id]);
  });

  it("embeds again a description a person corrected (text-only embedder)", async () => {
    const { c, ids } = await catalogue();
    await c.gallery.edit(ids.green, { summary: "An azure lake under an azure sky" });
    await settle(c);
    expect(await search(c, "cobalt")).toEqual(expect.arrayContaining([ids.blue, ids.green]));
  });

  it("searches exactly as without an embedder when none is configured", async () => {
    const { c, ids } = await catalogue(null);
    expect(await c.catalog.embeddingsOf(ids.blue)).toEqual([]);
    expect(await search(c, "azure")).toEqual([]);
    expect(await search(c, "blue")).toEqual([ids.blue]);
    expect((await c.queue.counts(["embed"])).done).toBe(0);
  });

  it("answers from full text when the embedder fails at query time", async () => {
    const { c, ids } = await catalogue(fakeEmbedder({ queryError: "the provider is down" }));
    expect(await search(c, "blue")).toEqual([ids.blue]);
    expect(await search(c, "azure")).toEqual([]);
  });

  it("leaves the photo done when the embedder refuses it for good, the job failed with the reason", async () => {
    const options: FakeEmbedderOptions = { photoError: { message: "input too long", retryable: false } };
    const { c, ids } = await catalogue(fakeEmbedder(options));
    expect((await c.catalog.getImage(ids.red))?.status).toBe("done");
    expect(await c.catalog.embeddingsOf(ids.red)).toEqual([]);
    expect(await c.queue.counts(["embed"])).toMatchObject({ failed: 3, queued: 0, running: 0 });
  });

  it("tries a retryable embedding failure again", async () => {
    let failures = 2;
    const flaky = fakeEmbedder();
    const embedPhoto = flaky.embedPhoto.bind(flaky);
    flaky.embedPhoto = async (input) => {
      if (failures-- > 0) {
        const { PhotocatError } = await import("../../src/domain/errors.js");
        throw new PhotocatError("embedder_failed", "throttled", { retryable: true });
      }
      return embedPhoto(input);
    };
    const { c, ids } = await catalogue(flaky);
    expect(await c.queue.counts(["embed"])).toMatchObject({ failed: 0, done: 3 });
    expect((await c.catalog.embeddingsOf(ids.red)).map((e) => e.model)).toContain("fake:bag-1");
  });

  it("serves the blended search and the embedding costs over HTTP, a page at a time", async () => {
    const { c, ids } = await catalogue();
    await c.gallery.edit(ids.green, { summary: "An azure lake under an azure sky" });
    await settle(c);
    const app = createContainerApp(c);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response: Response = await app.request(
        `/api/images?q=cobalt&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { id: string }[]; next_cursor: string | null };
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    } while (cursor && seen.length < 10);
    expect(seen.sort()).toEqual([ids.blue, ids.green].sort());
    const stats = (await (await app.request("/api/stats")).json()) as Record<string, unknown>;
    expect(stats.embedding_cost_usd).toBeCloseTo(0.0004, 6);
    expect(stats.by_embedding_model).toEqual([
      expect.objectContaining({ model: "fake:bag-1", images: 3, cost_usd: expect.closeTo(0.0004, 6) }),
    ]);
  });

  it("backfills: queues the described photos without an embedding of the model, or all with --all", async () => {
    // Described before an embedder was configured: no embedding of its model.
    const before = await catalogue(null);
    await before.c.close();
    const embedder = fakeEmbedder();
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir! }), {
      logger: silentLogger(),
      analyser: fakeAnalyser(),
      embedder,
    });
    const c = container;
    const progress: number[] = [];
    expect(await queueMissingEmbeddings({ ...c, embedder }, { onProgress: (n) => progress.push(n) })).toBe(3);
    expect(progress).toEqual([1, 2, 3]);
    await settle(c);
    expect(embedder.photos).toHaveLength(3);
    expect(await search(c, "azure")).toEqual([before.ids.blue]);
    expect(await queueMissingEmbeddings({ ...c, embedder })).toBe(0);
    expect(await queueMissingEmbeddings({ ...c, embedder }, { all: true })).toBe(3);
    await settle(c);
    expect(embedder.photos).toHaveLength(6);
  });
});
