import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { isPhotocatError } from "../../src/domain/errors.js";
import { type InspectedImage, inspectImage } from "../../src/media/inspect.js";
import {
  HAS_TESTDATA,
  type ManifestRow,
  readManifests,
  robustnessFiles,
  TESTDATA_SKIP_REASON,
  testdataPath,
} from "../support/testdata.js";

const LIMITS = { maxPixels: 100_000_000, timeoutMs: 10_000 };
const BOMBS = ["libvips-testsuite/17000x17000.avif", "sharp-fixtures/giant-image.jpg"];
/** About this many ordinary files join the robustness files; the whole collection runs in check-media-corpus. */
const SAMPLE_SIZE = 80;

const PNG_BOMB = readManifests().find((row) => /PNG image data, 65536 x 65536/.test(row.format));

if (!HAS_TESTDATA) console.warn(`[skip] media corpus tests: ${TESTDATA_SKIP_REASON}`);
else if (!PNG_BOMB) {
  console.warn(
    "[skip] 65536x65536 PNG bomb: not in this copy of ../shared/testdata (held out for evaluation)",
  );
}

function corpusSample(): ManifestRow[] {
  const robustness = robustnessFiles();
  const chosen = new Set(robustness.map((row) => row.path));
  const others = readManifests()
    .filter((row) => !chosen.has(row.path))
    .sort((a, b) => a.path.localeCompare(b.path));
  const step = Math.max(1, Math.floor(others.length / SAMPLE_SIZE));
  return [...robustness, ...others.filter((_, index) => index % step === 0)];
}

async function outcome(relativePath: string): Promise<InspectedImage | { code: string; message: string }> {
  try {
    return await inspectImage(testdataPath(relativePath), LIMITS);
  } catch (error) {
    // Anything but a PhotocatError is a bug: let it fail the test.
    if (!isPhotocatError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe.skipIf(!HAS_TESTDATA)("inspectImage over ../shared/testdata", () => {
  it("answers every robustness file and a sample of the rest with an image or a PhotocatError, within 10 s", async () => {
    const rows = corpusSample();
    expect(rows.length).toBeGreaterThan(150);
    const slow: string[] = [];
    const codes = new Map<string, number>();
    for (const row of rows) {
      const started = performance.now();
      const result = await outcome(row.path);
      if (performance.now() - started > 10_000) slow.push(row.path);
      const code = "code" in result ? result.code : "accepted";
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if ("code" in result) {
        expect(result.message.length, row.path).toBeGreaterThan(10);
      } else {
        expect(result.thumbnails.small.length, row.path).toBeGreaterThan(0);
      }
    }
    expect(slow).toEqual([]);
    // Each outcome really occurs: a broken detector that rejects or accepts everything fails here.
    for (const code of ["accepted", "unsupported_media_type", "corrupt_image", "image_too_large"]) {
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  }, 240_000);

  it.each(BOMBS)("rejects the decompression bomb %s from its header", async (bomb) => {
    const started = performance.now();
    expect(await outcome(bomb)).toMatchObject({ code: "image_too_large" });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  // Part of the collection is held out for evaluation; this bomb may be in that part.
  it.skipIf(!PNG_BOMB)("rejects the 65536x65536 PNG bomb", async () => {
    expect(await outcome(PNG_BOMB!.path)).toMatchObject({ code: "image_too_large" });
  });

  it.each([
    "wuffs-testdata/peacock.default.truncated.jpeg",
    "skimage-data/truncated.jpg",
    "pillow-tests/truncated_jpeg.jpg",
  ])("rejects the truncated JPEG %s", async (file) => {
    expect(await outcome(file)).toMatchObject({ code: "corrupt_image" });
  });

  it("decodes an iPhone HEIC with its metadata and place", async () => {
    const image = await inspectImage(testdataPath("exif-samples/heic/IMG_5195.HEIC"), LIMITS);
    expect(image).toMatchObject({ mediaType: "image/heic", width: 2566, height: 3313 });
    expect(image.metadata).toMatchObject({
      takenAt: "2021-04-11T15:47:53-05:00",
      cameraMake: "Apple",
      cameraModel: "iPhone 11 Pro Max",
    });
    expect(image.place).toMatch(/, United States$/);
    expect(image.colours).toContain("purple");
  });

  it("names a layered AVIF the decoder cannot read as an unsupported feature, and a truncated one as damaged", async () => {
    const layered = await outcome("av1-avif/Xiph/quebec_3layer_op2.avif");
    expect(layered).toMatchObject({
      code: "unsupported_media_type",
      message: expect.stringMatching(/^unsupported AVIF feature \(layered\/progressive/),
    });
    const truncated = await outcome(
      "av1-avif/Apple/edge_case_testing/non_compliant/truncated_elementary_stream.avif",
    );
    expect(truncated).toMatchObject({ code: "corrupt_image", message: expect.stringMatching(/truncated/) });
    // Layered files the decoder does read are accepted.
    expect(await outcome("av1-avif/Xiph/tiger_3layer_3res.avif")).toMatchObject({ mediaType: "image/avif" });
  });

  it("turns HEIC and AVIF photos taken sideways upright, like their JPEG twin would be", async () => {
    // The same iPhone XS photo as HEIC (irot + EXIF 6), as AVIF (irot), and an iPhone 7 HEIC with EXIF 6 only.
    const heic = await inspectImage(testdataPath("libvips-testsuite/heic-orientation-6.heic"), LIMITS);
    const avif = await inspectImage(testdataPath("libvips-testsuite/avif-orientation-6.avif"), LIMITS);
    const exifOnly = await inspectImage(testdataPath("libvips-testsuite/Example1.heic"), LIMITS);
    for (const image of [heic, avif, exifOnly]) expect([image.width, image.height]).toEqual([3024, 4032]);
    const pixels = (image: InspectedImage) =>
      sharp(image.thumbnails.small).resize(32, 32, { fit: "fill" }).removeAlpha().raw().toBuffer();
    const [a, b] = await Promise.all([pixels(heic), pixels(avif)]);
    const meanDifference = a.reduce((sum, value, i) => sum + Math.abs(value - b[i]!), 0) / a.length;
    expect(meanDifference).toBeLessThan(12);
    // Rotated the wrong way, the two would differ by far more.
    const turned = await sharp(avif.thumbnails.small)
      .rotate(180)
      .resize(32, 32, { fit: "fill" })
      .raw()
      .toBuffer();
    const turnedDifference = a.reduce((sum, value, i) => sum + Math.abs(value - turned[i]!), 0) / a.length;
    expect(turnedDifference).toBeGreaterThan(meanDifference * 2);
  }, 60_000);
});
