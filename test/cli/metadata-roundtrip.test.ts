import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import { fileDescription } from "../../src/services/file-metadata.js";
import { ingestFile } from "../../src/services/ingest.js";
import { originalKey } from "../../src/services/storage-keys.js";
import { analysis } from "../contracts/fixtures.js";
import { cameraJpeg } from "../media/fixtures.js";
import { solidBmp } from "../support/bmp.js";
import { solidImage } from "../support/fake-analyser.js";
import { photocat } from "./support.js";

/** Debian's ExifTool: a different build from the one Photocat writes with, reading what digiKam and Lightroom read. */
function debianExiftool(): string | null {
  try {
    execFileSync("exiftool", ["-ver"], { stdio: "pipe" });
    return "exiftool";
  } catch {
    return null;
  }
}
const exiftool = debianExiftool();
if (!exiftool)
  console.warn(
    "skipping metadata read-back tests: exiftool is not installed (apt-get install libimage-exiftool-perl)",
  );

function readBack(file: string): Record<string, unknown> {
  const out = execFileSync(exiftool!, ["-j", "-G1", "-struct", "-n", file], { encoding: "utf8" });
  return (JSON.parse(out) as Record<string, unknown>[])[0]!;
}

describe.skipIf(!exiftool)("descriptions travel with the photos (export --embed, import elsewhere)", () => {
  let dir: string;
  const source = () => path.join(dir, "a");
  const exported = () => path.join(dir, "out");
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-roundtrip-"));
    const container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: source() }), {
      logger: silentLogger(),
    });
    try {
      const add = async (name: string, bytes: Buffer, key: string) => {
        const file = path.join(dir, `in-${key}`);
        await writeFile(file, bytes);
        ids[key] = (
          await ingestFile(container.ingestDeps, container.ingestLimits, { path: file, originalName: name })
        ).image.id;
      };
      await add("IMG_1.jpg", await cameraJpeg(), "camera");
      await add("IMG_1.jpg", await solidImage({ r: 10, g: 200, b: 30 }, 3), "twin");
      await add('../..\\evil:"name"?.jpg', await solidImage({ r: 90, g: 20, b: 30 }, 4), "hostile");
      await add("paint.bmp", solidBmp(40, 20, { r: 200, g: 10, b: 10 }), "bmp");
      await container.catalog.saveAnalysis(
        ids.camera!,
        analysis({
          summary: "Fish & chips on a café table — «très bon».",
          category: "food",
          tags: ["fish", "chips", "café"],
          altText: "A plate of fish and chips",
          text: "MENU 12 EUR",
        }),
        "job-1",
      );
      await container.catalog.saveEdits(ids.camera!, { tags: ["fish", "chips", "lunch"] });
      await container.catalog.saveAnalysis(ids.twin!, analysis({ summary: "A green square." }), "job-2");
      await container.catalog.saveAnalysis(ids.bmp!, analysis({ summary: "A red banner." }), "job-3");
      await container.catalog.saveAnalysis(
        ids.hostile!,
        analysis({ summary: "A dark red square." }),
        "job-4",
      );
    } finally {
      await container.close();
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exports the originals under their own names with the description embedded, read back by ExifTool", async () => {
    const run = await photocat(["export", "--originals", exported(), "--embed", "--data-dir", source()]);
    expect(run.stderr).toMatch(/exported 4 photos/);
    expect(run.code, run.stderr).toBe(0);
    const files = (await readdir(exported())).filter((f) => !f.startsWith(".")).sort();
    expect(files).toEqual(["IMG_1 (2).jpg", "IMG_1.jpg", "evil__name__.jpg", "paint.bmp", "paint.xmp"]);
    expect(run.stderr).toMatch(/paint\.bmp: BMP files cannot carry embedded metadata/);

    // Newest first: the later of the two IMG_1.jpg keeps its name.
    const camera = readBack(path.join(exported(), "IMG_1 (2).jpg"));
    const description = "Fish & chips on a café table — «très bon».";
    expect(camera["XMP-dc:Description"]).toBe(description);
    expect(camera["IPTC:Caption-Abstract"]).toBe(description);
    expect(camera["IFD0:ImageDescription"]).toBe(description);
    expect(camera["XMP-dc:Subject"]).toEqual(["fish", "chips", "lunch", "food"]);
    expect(camera["IPTC:Keywords"]).toEqual(["fish", "chips", "lunch", "food"]);
    expect(camera["XMP-lr:HierarchicalSubject"]).toEqual(["Photocat|food"]);
    expect(camera["XMP-iptcCore:AltTextAccessibility"]).toBe("A plate of fish and chips");
    expect(camera["XMP-iptcCore:ExtDescrAccessibility"]).toBe("MENU 12 EUR");
    // Capture date, GPS and orientation untouched.
    const original = readBack(path.join(dir, "in-camera"));
    for (const tag of [
      "ExifIFD:DateTimeOriginal",
      "GPS:GPSLatitude",
      "GPS:GPSLongitude",
      "IFD0:Orientation",
    ]) {
      expect(camera[tag], tag).toEqual(original[tag]);
      expect(camera[tag], tag).toBeDefined();
    }
    const sidecar = readBack(path.join(exported(), "paint.xmp"));
    expect(sidecar["XMP-dc:Description"]).toBe("A red banner.");

    // The stored originals are never modified: their bytes still hash to their identity.
    const container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: source() }), {
      logger: silentLogger(),
    });
    try {
      const image = (await container.catalog.getImage(ids.camera!))!;
      const stored = await container.blobs.get(originalKey(image.id, image.mediaType));
      expect(createHash("sha256").update(stored).digest("hex")).toBe(image.sha256);
    } finally {
      await container.close();
    }

    const again = await photocat(["export", "--originals", exported(), "--embed", "--data-dir", source()]);
    expect(again.stderr).toMatch(/exported 0 photos to .*, 4 already there/);
  }, 120_000);

  it("keeps every description, keyword and alt text when imported into a fresh catalogue", async () => {
    const fresh = path.join(dir, "b");
    const run = await photocat(["import", exported(), "--data-dir", fresh, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(4); // paint.xmp went with paint.bmp, not on its own
    const [a, b] = await Promise.all(
      [source(), fresh].map((d) =>
        createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: d }), { logger: silentLogger() }),
      ),
    );
    try {
      const imported = (await b!.catalog.listImages({ limit: 10 })).items;
      const names = {
        camera: "IMG_1 (2).jpg",
        twin: "IMG_1.jpg",
        hostile: "evil__name__.jpg",
        bmp: "paint.bmp",
      };
      for (const [key, name] of Object.entries(names)) {
        const before = fileDescription((await a!.catalog.getImage(ids[key]!))!);
        const after = imported.find((i) => i.originalName === name);
        expect(after?.ownWords, key).toMatchObject({
          description: before.description,
          keywords: before.keywords,
          altText: before.altText,
        });
      }
      const [found] = (await b!.catalog.listImages({ limit: 5, q: "très bon lunch" })).items;
      expect(found?.ownWords?.sources).toContain("xmp");
    } finally {
      await a!.close();
      await b!.close();
    }
  }, 120_000);

  it("writes sidecars that ExifTool reads, without touching the copies", async () => {
    const out = path.join(dir, "sidecars");
    const run = await photocat(["export", "--originals", out, "--sidecars", "--data-dir", source()]);
    expect(run.code, run.stderr).toBe(0);
    const xmp = readBack(path.join(out, "IMG_1 (2).xmp"));
    expect(xmp["XMP-dc:Subject"]).toEqual(["fish", "chips", "lunch", "food"]);
    expect(xmp["XMP-lr:HierarchicalSubject"]).toEqual(["Photocat|food"]);
    const copy = await readFile(path.join(out, "IMG_1 (2).jpg"));
    const stored = await readFile(path.join(dir, "in-camera"));
    expect(copy.equals(stored)).toBe(true);
  }, 120_000);
});
