import { readFileSync } from "node:fs";
import exifr from "exifr";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { estimateImageTokens, prepareForModel, targetSize } from "../../../src/analysers/shared/image.js";
import { PhotocatError } from "../../../src/domain/errors.js";
import { HAS_TESTDATA, TESTDATA_SKIP_REASON, testdataPath } from "../../support/testdata.js";
import { makePhoto } from "./fixtures.js";

describe("targetSize", () => {
  it("caps the long edge at 1568 px and the area at 1.15 MP, never enlarging", () => {
    expect(targetSize(4032, 3024, 1568, 1_150_000)).toEqual({ width: 1238, height: 928 });
    expect(targetSize(8000, 1000, 1568, 1_150_000)).toEqual({ width: 1568, height: 196 });
    expect(targetSize(640, 480, 1568, 1_150_000)).toEqual({ width: 640, height: 480 });
  });

  it("estimates Claude's image tokens as width x height / 750", () => {
    expect(estimateImageTokens(1238, 928)).toBe(1532);
  });
});

describe("prepareForModel", () => {
  it("orients by EXIF, resizes, re-encodes as JPEG and drops metadata such as GPS", async () => {
    const original = await makePhoto({ width: 3000, height: 2000, orientation: 6, gps: true });
    expect(await exifr.gps(original)).toBeDefined();
    const prepared = await prepareForModel(original, "image/jpeg");
    expect(prepared).toMatchObject({ mediaType: "image/jpeg", originalWidth: 2000, originalHeight: 3000 });
    expect(prepared.height).toBeGreaterThan(prepared.width);
    expect(prepared.width * prepared.height).toBeLessThanOrEqual(1_150_000);
    const meta = await sharp(prepared.bytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual([
      "jpeg",
      prepared.width,
      prepared.height,
      undefined,
    ]);
    expect(await exifr.gps(prepared.bytes)).toBeUndefined();
  });

  it("converts formats a provider does not take (TIFF) to JPEG and keeps transparency as WebP", async () => {
    const tiff = await prepareForModel(
      await makePhoto({ width: 300, height: 200, format: "tiff" }),
      "image/tiff",
    );
    expect(tiff.mediaType).toBe("image/jpeg");
    expect([tiff.width, tiff.height]).toEqual([300, 200]);

    const png = await makePhoto({ width: 300, height: 200, format: "png", alpha: true });
    expect((await prepareForModel(png, "image/png")).mediaType).toBe("image/webp");
    const noWebp = await prepareForModel(png, "image/png", { accepted: ["image/jpeg", "image/png"] });
    expect(noWebp.mediaType).toBe("image/jpeg");
  });

  it("steps quality down, then size, until the bytes fit the cap", async () => {
    const noise = await sharp({
      create: {
        width: 600,
        height: 400,
        channels: 3,
        background: "#000",
        noise: { type: "gaussian", mean: 128, sigma: 60 },
      },
    })
      .png()
      .toBuffer();
    const roomy = await prepareForModel(noise, "image/png");
    const tight = await prepareForModel(noise, "image/png", { maxBytes: 40_000 });
    expect(tight.bytes.length).toBeLessThanOrEqual(40_000);
    expect(tight.bytes.length).toBeLessThan(roomy.bytes.length);
  });

  it("refuses bytes that are not an image", async () => {
    await expect(prepareForModel(Buffer.from("not an image"), "image/jpeg")).rejects.toBeInstanceOf(
      PhotocatError,
    );
  });
});

describe.skipIf(!HAS_TESTDATA)(
  `a real 12 MP photo (${HAS_TESTDATA ? "testdata" : TESTDATA_SKIP_REASON})`,
  () => {
    it("costs far fewer image tokens once prepared", async () => {
      const bytes = readFileSync(testdataPath("exif-samples/jpg/tests/42_IndexError.jpg"));
      const prepared = await prepareForModel(bytes, "image/jpeg");
      const before = estimateImageTokens(prepared.originalWidth, prepared.originalHeight);
      const after = estimateImageTokens(prepared.width, prepared.height);
      console.info(
        `[tokens] ${prepared.originalWidth}x${prepared.originalHeight} (${(bytes.length / 1e6).toFixed(2)} MB) ~${before} tokens` +
          ` -> ${prepared.width}x${prepared.height} ${prepared.mediaType} (${(prepared.bytes.length / 1e6).toFixed(2)} MB) ~${after} tokens`,
      );
      expect(after).toBeLessThanOrEqual(1534);
      expect(before / after).toBeGreaterThan(10);
    });

    it("prepares an iPhone HEIC photo as a JPEG within the budget", async () => {
      const bytes = readFileSync(testdataPath("exif-samples/heic/IMG_5195.HEIC"));
      const prepared = await prepareForModel(bytes, "image/heic");
      const before = estimateImageTokens(prepared.originalWidth, prepared.originalHeight);
      const after = estimateImageTokens(prepared.width, prepared.height);
      console.info(
        `[tokens] HEIC ${prepared.originalWidth}x${prepared.originalHeight} ~${before} tokens -> ${prepared.width}x${prepared.height} ${prepared.mediaType} ~${after} tokens`,
      );
      expect(prepared.mediaType).toBe("image/jpeg");
      expect(prepared.width * prepared.height).toBeLessThanOrEqual(1_150_000);
    });
  },
);
