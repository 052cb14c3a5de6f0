import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32 } from "node:zlib";
import sharp from "sharp";

export const RED = "#d01010";
export const BLUE = "#1030d0";

/** Left half red, right half blue: orientation mistakes show as the wrong colour at a known place. */
export function halvesImage(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: RED } }).composite([
    {
      input: { create: { width: width / 2, height, channels: 3, background: BLUE } },
      left: width / 2,
      top: 0,
    },
  ]);
}

/** Random pixels: they compress badly, so a truncated copy really lacks image data. */
export function noiseImage(width: number, height: number) {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } });
}

/**
 * A picture with photo-like structure (smooth shapes at several scales), the same for the same seed and
 * unrelated for another (PNG bytes): for near-duplicate tests, which flat or noise images cannot serve.
 */
export async function sceneImage(width: number, height: number, seed: number) {
  let state = seed * 2654435761;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const layer = async (cells: number) => {
    const small = Buffer.from(Array.from({ length: cells * cells * 3 }, () => Math.floor(random() * 256)));
    return sharp(small, { raw: { width: cells, height: cells, channels: 3 } })
      .resize(width, height, { fit: "fill", kernel: "cubic" })
      .png()
      .toBuffer();
  };
  const [coarse, fine] = await Promise.all([layer(4), layer(12)]);
  return sharp(coarse)
    .composite([{ input: fine, blend: "soft-light" }])
    .png()
    .toBuffer();
}

/** A JPEG as a phone writes it: stored sideways with EXIF Orientation 6, camera tags and a GPS position. */
export async function cameraJpeg(): Promise<Buffer> {
  const png = await halvesImage(400, 200).png().toBuffer();
  return sharp(png)
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: "Canon", Model: "Canon EOS 5D" },
      IFD2: { DateTimeOriginal: "2019:05:04 12:00:05", LensModel: "EF 50mm f/1.8" },
      // The Grande Plage of Biarritz.
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "43/1 28/1 5952/100",
        GPSLongitudeRef: "W",
        GPSLongitude: "1/1 33/1 3096/100",
      },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring a huge image, with a token of pixel data: a decompression bomb's shape. */
export function pngClaiming(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A temporary folder for fixture files, removed by `cleanUp`. */
export async function fixtureFolder() {
  const dir = await mkdtemp(path.join(tmpdir(), "photocat-media-"));
  return {
    async write(name: string, bytes: Buffer | string): Promise<string> {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      return file;
    },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}
