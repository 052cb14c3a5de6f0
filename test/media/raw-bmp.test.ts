import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { inspectImage } from "../../src/media/inspect.js";
import { solidBmp } from "../support/bmp.js";
import { BLUE, halvesImage, RED } from "./fixtures.js";

/** A minimal CR2: a TIFF whose IFD0 names the make and orientation and points at the embedded preview JPEG. */
function cr2(preview: Buffer, orientation: number): Buffer {
  const make = Buffer.from("Canon\0", "latin1");
  const entries = 4;
  const ifdAt = 16;
  const dataAt = ifdAt + 2 + entries * 12 + 4;
  const previewAt = dataAt + make.length + 2;
  const head = Buffer.alloc(previewAt);
  head.write("II*\0", 0, "latin1");
  head.writeUInt32LE(ifdAt, 4);
  head.write("CR\u0002\0", 8, "latin1");
  head.writeUInt16LE(entries, ifdAt);
  const entry = (i: number, tag: number, type: number, count: number, value: number) => {
    const at = ifdAt + 2 + i * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(count, at + 4);
    if (type === 3) head.writeUInt16LE(value, at + 8);
    else head.writeUInt32LE(value, at + 8);
  };
  entry(0, 0x010f, 2, make.length, dataAt); // Make
  entry(1, 0x0111, 4, 1, previewAt); // StripOffsets
  entry(2, 0x0112, 3, 1, orientation); // Orientation
  entry(3, 0x0117, 4, 1, preview.length); // StripByteCounts
  make.copy(head, dataAt);
  // Sensor data after the preview: random bytes, with a chance JPEG marker in them.
  const sensor = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 3]), Buffer.alloc(4096, 0x5a)]);
  return Buffer.concat([head, preview, sensor]);
}

/** A minimal RAF: Fujifilm's header gives the preview JPEG's offset and length. */
function raf(preview: Buffer): Buffer {
  const head = Buffer.alloc(160);
  head.write("FUJIFILMCCD-RAW 0201FF383501", 0, "latin1");
  head.writeUInt32BE(160, 84);
  head.writeUInt32BE(preview.length, 88);
  return Buffer.concat([head, preview, Buffer.alloc(2048, 7)]);
}

const halvesJpeg = (width: number, height: number) =>
  halvesImage(width, height).jpeg({ quality: 90 }).toBuffer();

async function colourAt(webp: Buffer, x: number, y: number): Promise<string> {
  const { data, info } = await sharp(webp).raw().toBuffer({ resolveWithObject: true });
  const px = Math.floor(x * (info.width - 1));
  const py = Math.floor(y * (info.height - 1));
  const at = (py * info.width + px) * info.channels;
  return data[at]! > data[at + 2]! ? RED : BLUE;
}

describe("camera RAW files", () => {
  it("keeps a CR2 and shows it through its embedded preview, upright by the RAW file's orientation", async () => {
    const file = cr2(await halvesJpeg(800, 400), 6);
    const inspected = await inspectImage(file, { maxPixels: 100_000_000 });
    expect(inspected.mediaType).toBe("image/x-canon-cr2");
    expect([inspected.width, inspected.height]).toEqual([400, 800]);
    expect(inspected.metadata).toMatchObject({ cameraMake: "Canon", orientation: 6 });
    // Turned 90° clockwise: the red left half is now on top.
    expect(await colourAt(inspected.thumbnails.large, 0.5, 0.1)).toBe(RED);
    expect(await colourAt(inspected.thumbnails.large, 0.5, 0.9)).toBe(BLUE);
  });

  it("reads a RAF's preview", async () => {
    const inspected = await inspectImage(raf(await halvesJpeg(640, 480)), { maxPixels: 100_000_000 });
    expect(inspected.mediaType).toBe("image/x-fujifilm-raf");
    expect([inspected.width, inspected.height]).toEqual([640, 480]);
  });

  it("refuses a RAW file without a usable preview, saying why, and one whose preview is over the pixel limit", async () => {
    const tiny = cr2(await halvesJpeg(16, 8), 1);
    await expect(inspectImage(tiny, { maxPixels: 100_000_000 })).rejects.toMatchObject({
      code: "unsupported_media_type",
      message: expect.stringMatching(/no usable embedded preview \(the largest is 16x8\)/),
    });
    await expect(inspectImage(cr2(await halvesJpeg(800, 400), 1), { maxPixels: 1000 })).rejects.toMatchObject(
      {
        code: "image_too_large",
      },
    );
  });
});

describe("BMP files", () => {
  it("are accepted and thumbnailed", async () => {
    const inspected = await inspectImage(solidBmp(120, 80, { r: 250, g: 10, b: 10 }), {
      maxPixels: 100_000_000,
    });
    expect(inspected.mediaType).toBe("image/bmp");
    expect([inspected.width, inspected.height]).toEqual([120, 80]);
    expect(inspected.colours[0]).toMatch(/red/);
  });

  it("refuses a BMP claiming a huge size before allocating anything, and a truncated one", async () => {
    const bomb = solidBmp(4, 4, { r: 1, g: 1, b: 1 });
    bomb.writeInt32LE(3_000_000, 18);
    bomb.writeInt32LE(2_000_000, 22);
    await expect(inspectImage(bomb, { maxPixels: 100_000_000 })).rejects.toMatchObject({
      code: "image_too_large",
    });
    const cut = solidBmp(100, 100, { r: 1, g: 1, b: 1 }).subarray(0, 5000);
    await expect(inspectImage(cut, { maxPixels: 100_000_000 })).rejects.toMatchObject({
      code: "corrupt_image",
      message: expect.stringMatching(/truncated/),
    });
  });
});
