import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import { fingerprintHandler, queueMissingFingerprints } from "../../src/services/duplicates.js";
import { ingestFile } from "../../src/services/ingest.js";
import { sceneImage } from "../media/fixtures.js";

let dir: string | undefined;
let container: Container | undefined;
afterEach(async () => {
  await container?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  container = undefined;
});

async function setUp() {
  dir = await mkdtemp(path.join(tmpdir(), "photocat-duplicates-"));
  container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir }), { logger: silentLogger() });
  return container;
}

async function ingest(c: Container, name: string, bytes: Buffer) {
  const file = path.join(dir!, name);
  await writeFile(file, bytes);
  return (
    await ingestFile(c.ingestDeps, { ...c.ingestLimits, analyse: false }, { path: file, originalName: name })
  ).image;
}

describe("near-duplicates", () => {
  it("are found at ingest and grouped with the largest copy to keep; other pictures stay out", async () => {
    const c = await setUp();
    const png = await sceneImage(900, 600, 11);
    const small = await ingest(
      c,
      "small.webp",
      await sharp(png).resize(300).webp({ quality: 60 }).toBuffer(),
    );
    const large = await ingest(c, "large.jpg", await sharp(png).jpeg({ quality: 92 }).toBuffer());
    const cropped = await ingest(
      c,
      "crop.jpg",
      await sharp(png).extract({ left: 0, top: 0, width: 855, height: 600 }).jpeg().toBuffer(),
    );
    await ingest(
      c,
      "other.jpg",
      await sharp(await sceneImage(900, 600, 12))
        .jpeg()
        .toBuffer(),
    );
    const groups = await c.gallery.duplicates();
    expect(groups.map((g) => ({ keep: g.keep, ids: g.images.map((i) => i.id) }))).toEqual([
      { keep: large.id, ids: [large.id, cropped.id, small.id] },
    ]);
    // Dismissed: the group stops showing; trashing the kept copy leaves the rest grouped.
    await c.gallery.trash(large.id);
    expect((await c.gallery.duplicates())[0]!.images.map((i) => i.id)).toEqual([cropped.id, small.id]);
    await c.gallery.dismissDuplicates([cropped.id, small.id]);
    expect(await c.gallery.duplicates()).toEqual([]);
    await expect(c.gallery.dismissDuplicates([cropped.id, small.id])).rejects.toThrow(/not a group/);
    await expect(c.gallery.dismissDuplicates([small.id, small.id])).rejects.toThrow(/at least two/);
  });

  it("photos stored before perceptual hashes get them from a fingerprint job, and their pairs", async () => {
    const c = await setUp();
    const png = await sceneImage(640, 480, 21);
    const first = await ingest(c, "a.png", png);
    const second = await ingest(c, "b.jpg", await sharp(png).jpeg({ quality: 70 }).toBuffer());
    // As a catalogue from before the migration holds them: no hash, no sharpness, no pairs.
    for (const id of [first.id, second.id])
      await c.catalog.saveFingerprint(id, { perceptualHash: null, sharpness: null });
    await c.catalog.dismissDuplicates([first.id, second.id]);
    expect(await queueMissingFingerprints(c.ingestDeps)).toBe(2);
    expect(await queueMissingFingerprints(c.ingestDeps)).toBe(2); // Queued again, but once: jobs are deduplicated.
    expect((await c.queue.counts(["fingerprint"])).queued).toBe(2);

    const handle = fingerprintHandler(c.ingestDeps, { maxPixels: 1e8 });
    for (;;) {
      const job = await c.queue.claim("w", 60_000, ["fingerprint"]);
      if (!job) break;
      await handle(job as never, { workerId: "w", leaseMs: 60_000 });
    }
    expect(await c.catalog.idsWithoutFingerprint(10)).toEqual([]);
    expect((await c.catalog.getImage(first.id))?.perceptualHash).toMatch(/^[0-9a-f]{96}$/);
    expect((await c.queue.counts(["fingerprint"])).done).toBe(2);
    // The pair was dismissed before, and stays so; a new copy groups with both.
    expect(await c.gallery.duplicates()).toEqual([]);
    const third = await ingest(c, "c.webp", await sharp(png).webp().toBuffer());
    expect((await c.gallery.duplicates())[0]!.images.map((i) => i.id).sort()).toEqual(
      [first.id, second.id, third.id].sort(),
    );
  });

  it("a fingerprint job whose original cannot be read fails alone, with the reason", async () => {
    const c = await setUp();
    const image = await ingest(c, "a.png", await sceneImage(320, 240, 31));
    await c.catalog.saveFingerprint(image.id, { perceptualHash: null, sharpness: null });
    for await (const key of c.blobs.list("originals/"))
      await c.blobs.put(key, Buffer.from("not a photo"), "image/png");
    await queueMissingFingerprints(c.ingestDeps);
    const job = await c.queue.claim("w", 60_000, ["fingerprint"]);
    await fingerprintHandler(c.ingestDeps, { maxPixels: 1e8 })(job as never, {
      workerId: "w",
      leaseMs: 60_000,
    });
    expect((await c.queue.counts(["fingerprint"])).failed).toBe(1);
  });
});
