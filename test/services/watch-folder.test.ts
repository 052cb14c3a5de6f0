import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import { configureDecodes, decodeSettings, withDecodeSlot } from "../../src/media/decode-slots.js";
import { watchFolder } from "../../src/services/watch-folder.js";
import { solidImage } from "../support/fake-analyser.js";
import { until } from "../support/wait.js";

describe("watched incoming folder", () => {
  let dir: string;
  let container: Container;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-watch-"));
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: path.join(dir, "data") }), {
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await container?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("ingests files present at start and dropped later, moving each to processed/ or rejected/ with a reason", async () => {
    const incoming = path.join(dir, "incoming");
    await mkdir(path.join(incoming, "trip"), { recursive: true });
    const photo = await solidImage({ r: 30, g: 60, b: 200 }, 5);
    await writeFile(path.join(incoming, "early.jpg"), photo);
    const watcher = watchFolder(container.ingestDeps, container.ingestLimits, incoming);
    try {
      await watcher.ready;
      await writeFile(
        path.join(incoming, "trip", "late.png"),
        await solidImage({ r: 1, g: 99, b: 1 }, 6, "png"),
      );
      await writeFile(path.join(incoming, "broken.jpg"), "definitely not a jpeg");
      await writeFile(path.join(incoming, "copy of early.jpg"), photo);

      const processed = path.join(incoming, "processed");
      const rejected = path.join(incoming, "rejected");
      await until(async () => existsSync(processed) && (await readdir(processed)).length === 3);
      await until(() => existsSync(path.join(rejected, "broken.jpg.reason.txt")));

      expect((await readdir(processed)).sort()).toEqual(["copy of early.jpg", "early.jpg", "late.png"]);
      expect(await readFile(path.join(rejected, "broken.jpg.reason.txt"), "utf8")).toMatch(
        /^unsupported_media_type: /,
      );
      const stats = await container.catalog.stats();
      expect(stats.images).toBe(2); // the copy was a duplicate
      expect(stats.byStatus.queued).toBe(2);

      // A second file with a name already in processed/ does not replace the first.
      await writeFile(path.join(incoming, "early.jpg"), await solidImage({ r: 9, g: 9, b: 9 }, 7));
      await until(() => existsSync(path.join(processed, "early (1).jpg")));
    } finally {
      await watcher.close();
    }
  });

  it("leaves a photo the server was too busy for in place and takes it on a later try, never rejected", async () => {
    const incoming = path.join(dir, "busy");
    await mkdir(incoming, { recursive: true });
    const initial = decodeSettings();
    configureDecodes({ concurrency: 1, queueMs: 50 });
    let release = () => {};
    void withDecodeSlot(() => new Promise<void>((resolve) => (release = resolve)), { timeoutMs: 60_000 });
    await writeFile(path.join(incoming, "good.jpg"), await solidImage({ r: 250, g: 200, b: 10 }, 8));
    const watcher = watchFolder(container.ingestDeps, container.ingestLimits, incoming);
    try {
      await watcher.ready;
      expect(existsSync(path.join(incoming, "good.jpg"))).toBe(true);
      expect(existsSync(path.join(incoming, "rejected"))).toBe(false);
      release();
      configureDecodes(initial);
      await until(() => existsSync(path.join(incoming, "processed", "good.jpg")), 15_000);
      expect(existsSync(path.join(incoming, "rejected"))).toBe(false);
    } finally {
      release();
      configureDecodes(initial);
      await watcher.close();
    }
  }, 30_000);

  it("reads the sidecars next to a photo, moves them with it, and never ingests a sidecar as a photo", async () => {
    const incoming = path.join(dir, "sidecars");
    await mkdir(incoming, { recursive: true });
    await writeFile(path.join(incoming, "beach.jpg"), await solidImage({ r: 200, g: 180, b: 90 }, 11));
    await writeFile(
      path.join(incoming, "beach.xmp"),
      `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">Our first day at the sea</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>`,
    );
    await writeFile(
      path.join(incoming, "beach.jpg.json"),
      JSON.stringify({
        photoTakenTime: { timestamp: "1556971205" },
        geoData: { latitude: 43.48, longitude: -1.56 },
      }),
    );
    await writeFile(path.join(incoming, "lonely.xmp"), "<x:xmpmeta/>");
    const watcher = watchFolder(container.ingestDeps, container.ingestLimits, incoming);
    try {
      await watcher.ready;
      const processed = path.join(incoming, "processed");
      await until(async () => existsSync(processed) && (await readdir(processed)).length === 3);
      expect((await readdir(processed)).sort()).toEqual(["beach.jpg", "beach.jpg.json", "beach.xmp"]);
      // A sidecar without its photo waits: it is neither ingested nor rejected.
      expect(existsSync(path.join(incoming, "lonely.xmp"))).toBe(true);
      expect(existsSync(path.join(incoming, "rejected"))).toBe(false);
      const [image] = (await container.catalog.listImages({ limit: 5, q: "first day sea" })).items;
      expect(image?.ownWords?.description).toBe("Our first day at the sea");
      expect(image?.ownWords?.sources).toEqual(["xmp sidecar"]);
      // The photo had no EXIF: Takeout's capture time and place fill in.
      expect(image?.metadata.takenAt).toBe("2019-05-04T12:00:05Z");
      expect(image?.place).toMatch(/Biarritz|Anglet|Bayonne/);
    } finally {
      await watcher.close();
    }
  });
});
