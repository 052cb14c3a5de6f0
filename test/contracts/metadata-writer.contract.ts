import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPhotoMetadata } from "../../src/media/exif.js";
import { mergeOwnWords, readEmbeddedWords } from "../../src/media/own-words.js";
import type { FileDescription, MetadataWriter } from "../../src/ports/metadata-writer.js";
import { cameraJpeg } from "../media/fixtures.js";
import { solidBmp } from "../support/bmp.js";

const DESCRIPTION: FileDescription = {
  title: "Harbour at dusk",
  description: "Fishing boats moored in Biarritz — «le port» & gulls",
  keywords: ["boats", "harbour", "vehicles"],
  hierarchicalSubjects: ["Photocat|vehicles"],
  altText: "Boats moored at dusk",
  visibleText: "PORT DES PÊCHEURS",
};

/** The MetadataWriter contract: what any writer must do, read back with Photocat's own reader. */
export function runMetadataWriterContract(name: string, create: () => MetadataWriter) {
  describe(`MetadataWriter contract: ${name}`, () => {
    let writer: MetadataWriter;
    let dir: string;
    beforeAll(async () => {
      writer = create();
      dir = await mkdtemp(path.join(tmpdir(), "photocat-writer-"));
    });
    afterAll(async () => {
      await writer.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function embedded(file: string) {
      const reading = await readEmbeddedWords(await readFile(file));
      return mergeOwnWords(reading.found, [...reading.notes]);
    }

    for (const format of ["jpeg", "png", "webp", "tiff", "avif"] as const) {
      it(`writes title, description, keywords and alt text into ${format.toUpperCase()}`, async () => {
        const file = path.join(dir, `photo.${format}`);
        await writeFile(
          file,
          await sharp({ create: { width: 16, height: 16, channels: 3, background: "#357" } })
            .toFormat(format)
            .toBuffer(),
        );
        await writer.embed(file, `image/${format}`, DESCRIPTION);
        expect(await embedded(file)).toMatchObject({
          title: DESCRIPTION.title,
          description: DESCRIPTION.description,
          keywords: DESCRIPTION.keywords,
          altText: DESCRIPTION.altText,
        });
        expect((await sharp(file).metadata()).format).toBe(format === "avif" ? "heif" : format);
      });
    }

    it("leaves capture date, GPS and orientation as they were, and replaces keywords instead of adding", async () => {
      const file = path.join(dir, "camera.jpg");
      const original = await cameraJpeg();
      await writeFile(file, original);
      await writer.embed(file, "image/jpeg", DESCRIPTION);
      await writer.embed(file, "image/jpeg", { ...DESCRIPTION, keywords: ["only"] });
      const after = await readFile(file);
      expect(await readPhotoMetadata(after)).toEqual(await readPhotoMetadata(original));
      expect((await embedded(file))?.keywords).toEqual(["only"]);
    });

    it("refuses a damaged file with cannot_embed, and goes on writing the next", async () => {
      const broken = path.join(dir, "broken.jpg");
      await writeFile(
        broken,
        Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]), Buffer.alloc(64, 1)]),
      );
      await expect(writer.embed(broken, "image/jpeg", DESCRIPTION)).rejects.toMatchObject({
        code: "cannot_embed",
      });
      const good = path.join(dir, "after.jpg");
      await writeFile(
        good,
        await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
          .jpeg()
          .toBuffer(),
      );
      await writer.embed(good, "image/jpeg", DESCRIPTION);
      expect((await embedded(good))?.description).toBe(DESCRIPTION.description);
    });

    it("refuses a format that cannot carry metadata, leaving the file as it was", async () => {
      const file = path.join(dir, "paint.bmp");
      const bmp = solidBmp(4, 4, { r: 1, g: 2, b: 3 });
      await writeFile(file, bmp);
      await expect(writer.embed(file, "image/bmp", DESCRIPTION)).rejects.toMatchObject({
        code: "cannot_embed",
      });
      expect((await readFile(file)).equals(bmp)).toBe(true);
    });
  });
}
