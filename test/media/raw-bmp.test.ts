import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { inspectImage } from "../../src/media/inspect.js";
import { solidBmp } from "../support/bmp.js";
import { BLUE, halvesImage, RED } from "./fixtures.js";

type Entry = [tag: number, type: 2 | 3 | 4 | 7, value: number | string | number[]];

/**
 * A minimal TIFF-shaped RAW: the given header bytes, one IFD (entries sorted by tag, ASCII and byte values
 * stored after it) pointing at the embedded preview JPEG, then some sensor-like bytes with a chance JPEG marker.
 */
function tiffRaw(header: Buffer, ifdAt: number, entries: Entry[], preview: Buffer): Buffer {
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  const dataAt = ifdAt + 2 + sorted.length * 12 + 4;
  const extra: Buffer[] = [];
  let extraAt = dataAt;
  const previewAt = () => dataAt + extra.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(dataAt);
  header.copy(head, 0);
  head.writeUInt16LE(sorted.length, ifdAt);
  sorted.forEach(([tag, type, value], i) => {
    const at = ifdAt + 2 + i * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    if (typeof value === "string" || Array.isArray(value)) {
      const bytes = typeof value === "string" ? Buffer.from(`${value}\0`, "latin1") : Buffer.from(value);
      head.writeUInt32LE(bytes.length, at + 4);
      if (bytes.length <= 4) bytes.copy(head, at + 8);
      else {
        head.writeUInt32LE(extraAt, at + 8);
        extra.push(bytes);
        extraAt += bytes.length;
      }
    } else {
      head.writeUInt32LE(1, at + 4);
      if (type === 3) head.writeUInt16LE(value, at + 8);
      else head.writeUInt32LE(value, at + 8);
    }
  });
  const offsetEntry = sorted.findIndex(([tag]) => tag === 0x0111);
  const lengthEntry = sorted.findIndex(([tag]) => tag === 0x0117);
  head.writeUInt32LE(previewAt(), ifdAt + 2 + offsetEntry * 12 + 8);
  head.writeUInt32LE(preview.length, ifdAt + 2 + lengthEntry * 12 + 8);
  const sensor = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 3]), Buffer.alloc(4096, 0x5a)]);
  return Buffer.concat([head, ...extra, preview, sensor]);
}

const stripEntries = (make: string, orientation: number): Entry[] => [
  [0x010f, 2, make],
  [0x0111, 4, 0],
  [0x0112, 3, orientation],
  [0x0117, 4, 0],
];
/** Tags nobody reads, to give an IFD the entry count a format's signature expects. */
const padding = (count: number): Entry[] =>
  Array.from({ length: count }, (_, i) => [0xc000 + i, 3, 0] as Entry);
const tiffHeader = (magic: string, ifdAt: number, extra = "") => {
  const header = Buffer.alloc(ifdAt);
  header.write(magic, 0, "latin1");
  header.writeUInt32LE(ifdAt, 4);
  header.write(extra, 8, "latin1");
  return header;
};

/** A minimal CR2: a TIFF whose IFD0 names the make and orientation and points at the embedded preview JPEG. */
const cr2 = (preview: Buffer, orientation: number) =>
  tiffRaw(tiffHeader("II*\0", 16, "CR\u0002\0"), 16, stripEntries("Canon", orientation), preview);

const RAW_MAKERS = {
  // Nikon's IFD0 starts with NewSubfileType among 28 entries; file-type knows it by that.
  "image/x-nikon-nef": (p: Buffer) =>
    tiffRaw(
      tiffHeader("II*\0", 8),
      8,
      [[0x00fe, 4, 1], ...stripEntries("NIKON CORPORATION", 1), ...padding(23)],
      p,
    ),
  "image/x-sony-arw": (p: Buffer) =>
    tiffRaw(tiffHeader("II*\0", 8), 8, [...stripEntries("SONY", 1), [0xc4a5, 7, [1, 2, 3, 4]]], p),
  "image/x-adobe-dng": (p: Buffer) =>
    tiffRaw(tiffHeader("II*\0", 8), 8, [...stripEntries("Canon", 1), [0xc612, 7, [1, 4, 0, 0]]], p),
  "image/x-olympus-orf": (p: Buffer) =>
    tiffRaw(tiffHeader("IIRO", 8), 8, [...stripEntries("OLYMPUS", 1), ...padding(20)], p),
  "image/x-panasonic-rw2": (p: Buffer) => {
    const header = tiffHeader("IIU\0", 24);
    Buffer.from([0x88, 0xe7, 0x74, 0xd8]).copy(header, 8);
    return tiffRaw(header, 24, stripEntries("Panasonic", 1), p);
  },
  // CR3 is ISO-BMFF: an ftyp box with the crx brand, the preview in a uuid box.
  "image/x-canon-cr3": (p: Buffer) => {
    const box = (type: string, body: Buffer) => {
      const size = Buffer.alloc(4);
      size.writeUInt32BE(8 + body.length);
      return Buffer.concat([size, Buffer.from(type, "latin1"), body]);
    };
    const ftyp = box("ftyp", Buffer.from("crx \0\0\0\u0001crx isom", "latin1"));
    return Buffer.concat([ftyp, box("uuid", Buffer.concat([Buffer.alloc(16, 0xea), p]))]);
  },
} as const;

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

  for (const [mediaType, make] of Object.entries(RAW_MAKERS)) {
    it(`recognises ${mediaType} by its content and shows its preview`, async () => {
      const inspected = await inspectImage(make(await halvesJpeg(640, 480)), { maxPixels: 100_000_000 });
      expect(inspected.mediaType).toBe(mediaType);
      expect([inspected.width, inspected.height]).toEqual([640, 480]);
      expect(await colourAt(inspected.thumbnails.small, 0.1, 0.5)).toBe(RED);
    });
  }

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
