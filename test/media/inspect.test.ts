import sharp, { type Sharp } from "sharp";
import { thumbHashToAverageRGBA, thumbHashToRGBA } from "thumbhash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import { inspectImage } from "../../src/media/inspect.js";
import { solidBmp } from "../support/bmp.js";
import { cameraJpeg, fixtureFolder, halvesImage, noiseImage, pngClaiming } from "./fixtures.js";

const LIMITS = { maxPixels: 100_000_000 };
let folder: Awaited<ReturnType<typeof fixtureFolder>>;

beforeAll(async () => {
  folder = await fixtureFolder();
});
afterAll(() => folder.cleanUp());

async function rejection(file: string, options: { maxPixels: number; timeoutMs?: number } = LIMITS) {
  const error = await inspectImage(file, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhotocatError);
  return error as PhotocatError;
}

/** Mean colour of a horizontal band of a thumbnail, as [r, g, b]. */
async function bandColour(webp: Buffer, band: "top" | "bottom"): Promise<number[]> {
  const { width, height } = await sharp(webp).metadata();
  const top = band === "top" ? 0 : Math.floor(height * 0.75);
  // stats() reads its input, not the pipeline: the band is cut out first.
  const bandPixels = await sharp(webp)
    .extract({ left: 0, top, width, height: Math.floor(height / 4) })
    .png()
    .toBuffer();
  const { channels } = await sharp(bandPixels).stats();
  return channels.slice(0, 3).map((c) => c.mean);
}

describe("inspectImage on a camera JPEG (EXIF orientation 6, GPS)", () => {
  let file: string;
  beforeAll(async () => {
    file = await folder.write("IMG_0001.jpg", await cameraJpeg());
  });

  it("reports the display size after orientation and the capture metadata", async () => {
    const image = await inspectImage(file, LIMITS);
    expect(image.mediaType).toBe("image/jpeg");
    expect([image.width, image.height]).toEqual([200, 400]);
    expect(image.metadata).toMatchObject({
      takenAt: "2019-05-04T12:00:05",
      cameraMake: "Canon",
      cameraModel: "Canon EOS 5D",
      lens: "EF 50mm f/1.8",
      orientation: 6,
    });
    expect(image.metadata.gps?.latitude).toBeCloseTo(43.4832, 3);
    expect(image.metadata.gps?.longitude).toBeCloseTo(-1.5586, 3);
    expect(image.place).toBe("Biarritz, France");
  });

  it("makes upright WebP thumbnails without any metadata", async () => {
    const { thumbnails } = await inspectImage(file, LIMITS);
    for (const thumbnail of [thumbnails.small, thumbnails.large]) {
      const meta = await sharp(thumbnail).metadata();
      expect(meta.format).toBe("webp");
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(thumbnail.includes("GPS")).toBe(false);
      // Stored left red / right blue, rotated 90 degrees clockwise: red on top, blue at the bottom.
      const [topRed, , topBlue] = await bandColour(thumbnail, "top");
      const [bottomRed, , bottomBlue] = await bandColour(thumbnail, "bottom");
      expect(topRed).toBeGreaterThan(topBlue! + 100);
      expect(bottomBlue).toBeGreaterThan(bottomRed! + 100);
    }
  });

  it("gives a thumbhash of the picture and its colour names", async () => {
    const image = await inspectImage(file, LIMITS);
    const decoded = thumbHashToRGBA(Buffer.from(image.thumbhash, "base64"));
    expect(decoded.h).toBeGreaterThan(decoded.w); // portrait, like the display
    const average = thumbHashToAverageRGBA(Buffer.from(image.thumbhash, "base64"));
    expect(average.r).toBeGreaterThan(0.25);
    expect(average.b).toBeGreaterThan(0.25);
    expect(image.colours).toEqual(expect.arrayContaining(["red", "blue"]));
    expect(image.colours.length).toBeLessThanOrEqual(5);
  });
});

describe("inspectImage thumbnail sizes", () => {
  it("shrinks the long edge to about 1280 and 320 px", async () => {
    const file = await folder.write("wide.png", await halvesImage(2000, 1000).png().toBuffer());
    const { thumbnails, width, height } = await inspectImage(file, LIMITS);
    expect([width, height]).toEqual([2000, 1000]);
    const large = await sharp(thumbnails.large).metadata();
    const small = await sharp(thumbnails.small).metadata();
    expect([large.width, large.height]).toEqual([1280, 640]);
    expect([small.width, small.height]).toEqual([320, 160]);
  });

  it("never upscales a small picture", async () => {
    const file = await folder.write("tiny.png", await halvesImage(100, 50).png().toBuffer());
    const { thumbnails } = await inspectImage(file, LIMITS);
    for (const thumbnail of [thumbnails.small, thumbnails.large]) {
      const meta = await sharp(thumbnail).metadata();
      expect([meta.width, meta.height]).toEqual([100, 50]);
    }
  });
});

describe("inspectImage accepts each supported format, by content", () => {
  const formats = [
    ["png", "image/png", (s: Sharp) => s.png()],
    ["webp", "image/webp", (s: Sharp) => s.webp()],
    ["gif", "image/gif", (s: Sharp) => s.gif()],
    ["avif", "image/avif", (s: Sharp) => s.avif({ effort: 0 })],
    ["tiff", "image/tiff", (s: Sharp) => s.tiff()],
  ] as const;

  it.each(formats)("%s", async (ext, mediaType, encode) => {
    // A misleading name: the type must come from the bytes.
    const file = await folder.write(`picture-${ext}.jpg`, await encode(halvesImage(64, 48)).toBuffer());
    const image = await inspectImage(file, LIMITS);
    expect(image.mediaType).toBe(mediaType);
    expect([image.width, image.height]).toEqual([64, 48]);
    expect(image.metadata.takenAt).toBeNull();
    expect(image.place).toBeNull();
    expect((await sharp(image.thumbnails.small).metadata()).format).toBe("webp");
  });

  it("thumbnails the first frame of an animated GIF", async () => {
    const frames = await sharp({ create: { width: 32, height: 64, channels: 3, background: "#d01010" } })
      .composite([
        {
          input: { create: { width: 32, height: 32, channels: 3, background: "#10d010" } },
          top: 32,
          left: 0,
        },
      ])
      .raw()
      .toBuffer();
    const gif = await sharp(frames, { raw: { width: 32, height: 64, channels: 3, pageHeight: 32 } })
      .gif()
      .toBuffer();
    const file = await folder.write("animated.gif", gif);
    const image = await inspectImage(file, LIMITS);
    expect([image.width, image.height]).toEqual([32, 32]);
    expect(image.colours[0]).toBe("red");
  });
});

describe("inspectImage rejects bad input with a clear PhotocatError", () => {
  it("rejects an empty file", async () => {
    expect((await rejection(await folder.write("empty.jpg", Buffer.alloc(0)))).code).toBe("empty_file");
  });

  it("rejects a text file named .jpg, saying what it is", async () => {
    const error = await rejection(await folder.write("notes.jpg", "Shopping list: eggs, milk.\n"));
    expect(error.code).toBe("unsupported_media_type");
    expect(error.status).toBe(415);
    expect(error.message).toMatch(/^text files are not supported; accepted: JPEG, PNG/);
  });

  it("rejects a format it does not take by its name (a Photoshop file named .png)", async () => {
    const psd = Buffer.concat([Buffer.from("8BPS\u0000\u0001", "latin1"), Buffer.alloc(64)]);
    const error = await rejection(await folder.write("photo.png", psd));
    expect(error.code).toBe("unsupported_media_type");
    expect(error.message).toMatch(
      /^Photoshop \(PSD\) files are not supported; accepted: .*BMP and camera RAW/,
    );
  });

  it("takes a BMP by its content, whatever its name", async () => {
    const image = await inspectImage(
      await folder.write("photo.png", solidBmp(2, 2, { r: 128, g: 128, b: 128 })),
      LIMITS,
    );
    expect(image).toMatchObject({ mediaType: "image/bmp", width: 2, height: 2 });
  });

  it("rejects an SVG, which sharp would otherwise render", async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const error = await rejection(await folder.write("logo.png", svg));
    expect(error.code).toBe("unsupported_media_type");
    expect(error.message).toMatch(/^SVG images are not supported/);
  });

  it("rejects a PNG header claiming 70000x70000 before decoding", async () => {
    const started = performance.now();
    const error = await rejection(await folder.write("bomb.png", pngClaiming(70_000, 70_000)));
    expect(error.code).toBe("image_too_large");
    expect(error.message).toContain("70000x70000");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("applies the configured pixel limit", async () => {
    const file = await folder.write("medium.png", await halvesImage(200, 100).png().toBuffer());
    expect((await rejection(file, { maxPixels: 10_000 })).code).toBe("image_too_large");
    await expect(inspectImage(file, { maxPixels: 20_000 })).resolves.toMatchObject({ width: 200 });
  });

  it.each([
    ["jpeg", (s: Sharp) => s.jpeg()],
    ["png", (s: Sharp) => s.png()],
    ["webp", (s: Sharp) => s.webp()],
    ["gif", (s: Sharp) => s.gif()],
  ] as const)("rejects a truncated %s as corrupt_image", async (ext, encode) => {
    const whole = await encode(noiseImage(256, 256)).toBuffer();
    const file = await folder.write(`truncated.${ext}`, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const error = await rejection(file);
    expect(error.code).toBe("corrupt_image");
    expect(error.status).toBe(422);
  });

  it("answers within the time limit, as busy (503) rather than corrupt", async () => {
    const file = await folder.write(
      "slow.png",
      await noiseImage(3000, 2000).png({ compressionLevel: 1 }).toBuffer(),
    );
    const started = performance.now();
    const error = await rejection(file, { maxPixels: 100_000_000, timeoutMs: 20 });
    expect(error.code).toBe("busy");
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/within/);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe("inspectImage with broken EXIF", () => {
  it("keeps the image and leaves the metadata null", async () => {
    const jpeg = await halvesImage(64, 64).jpeg().toBuffer();
    // An APP1 "Exif" segment whose TIFF structure is garbage, right after the SOI marker.
    const garbage = Buffer.concat([Buffer.from("Exif\0\0II*\0", "latin1"), Buffer.alloc(40, 0xff)]);
    const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0, garbage.length + 2]), garbage]);
    const file = await folder.write(
      "bad-exif.jpg",
      Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]),
    );
    const image = await inspectImage(file, LIMITS);
    expect(image.mediaType).toBe("image/jpeg");
    expect(image.metadata).toEqual({
      takenAt: null,
      cameraMake: null,
      cameraModel: null,
      lens: null,
      gps: null,
      orientation: null,
    });
  });
});
