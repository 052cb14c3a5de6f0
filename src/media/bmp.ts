import { PhotocatError } from "../domain/errors.js";

/**
 * A BMP decoder (libvips as shipped with sharp reads no BMP). The npm decoders measured on Pillow's bmpsuite
 * got palettes, bit fields or RLE wrong, so this one covers what Windows and OS/2 write: 1/2/4/8-bit
 * palettes, RLE4/RLE8, 16/24/32-bit with or without bit fields and alpha, top-down rows, every header
 * version. BMPs wrapping a JPEG or PNG are refused. Sizes are checked before any pixel is allocated.
 */
export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  dataOffset: number;
  palette: Uint8Array[];
  masks: { r: number; g: number; b: number; a: number } | null;
}

const corrupt = (why: string) => new PhotocatError("corrupt_image", `the BMP image is corrupt (${why})`);

const RGB = 0;
const RLE8 = 1;
const RLE4 = 2;
const BITFIELDS = 3;
const ALPHABITFIELDS = 6;

export function readBmpHeader(bytes: Buffer): BmpHeader {
  if (bytes.length < 26 || bytes.toString("latin1", 0, 2) !== "BM") throw corrupt("no BMP header");
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize < 12 || 14 + headerSize > bytes.length) throw corrupt(`header size ${headerSize}`);
  const core = headerSize === 12;
  const width = core ? bytes.readUInt16LE(18) : bytes.readInt32LE(18);
  const rawHeight = core ? bytes.readInt16LE(20) : bytes.readInt32LE(22);
  const bitsPerPixel = core ? bytes.readUInt16LE(24) : bytes.readUInt16LE(28);
  const compression = headerSize >= 20 ? bytes.readUInt32LE(30) : RGB;
  if (width <= 0 || rawHeight === 0 || rawHeight === -2147483648) throw corrupt(`size ${width}x${rawHeight}`);
  if (compression === 4 || compression === 5) {
    throw new PhotocatError(
      "unsupported_media_type",
      "BMP files that wrap a JPEG or PNG are not supported: save the picture as a plain JPEG or PNG",
    );
  }
  if (![1, 2, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw corrupt(`${bitsPerPixel} bits per pixel`);
  if (![RGB, RLE8, RLE4, BITFIELDS, ALPHABITFIELDS].includes(compression)) {
    throw corrupt(`compression ${compression}`);
  }
  let masks: BmpHeader["masks"] = null;
  let after = 14 + headerSize;
  if (compression === BITFIELDS || compression === ALPHABITFIELDS) {
    const inHeader = headerSize >= 52;
    const at = inHeader ? 54 : after;
    const count = compression === ALPHABITFIELDS || headerSize >= 56 ? 4 : 3;
    if (at + count * 4 > bytes.length) throw corrupt("bit fields cut off");
    masks = {
      r: bytes.readUInt32LE(at),
      g: bytes.readUInt32LE(at + 4),
      b: bytes.readUInt32LE(at + 8),
      a: count === 4 ? bytes.readUInt32LE(at + 12) : 0,
    };
    if (!inHeader) after += count * 4;
  } else if (bitsPerPixel === 16) {
    masks = { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 };
  } else if (bitsPerPixel === 32) {
    masks = { r: 0xff0000, g: 0xff00, b: 0xff, a: headerSize >= 56 ? bytes.readUInt32LE(66) : 0 };
  }
  const palette: Uint8Array[] = [];
  if (bitsPerPixel <= 8) {
    const entryBytes = core ? 3 : 4;
    const used = !core && headerSize >= 36 ? bytes.readUInt32LE(46) : 0;
    const count = Math.min(used > 0 ? used : 1 << bitsPerPixel, 256);
    for (let i = 0; i < count && after + entryBytes <= Math.min(bytes.length, dataOffset); i++) {
      palette.push(Uint8Array.of(bytes[after + 2]!, bytes[after + 1]!, bytes[after]!));
      after += entryBytes;
    }
    if (palette.length === 0) throw corrupt("no palette");
  }
  return {
    width,
    height: Math.abs(rawHeight),
    topDown: rawHeight < 0,
    bitsPerPixel,
    compression,
    dataOffset,
    palette,
    masks,
  };
}

/** Reads a bit-field channel as 0-255. */
function channel(value: number, mask: number): number {
  if (mask === 0) return 0;
  const shift = 31 - Math.clz32(mask & -mask);
  const max = mask >>> shift;
  return Math.round((((value & mask) >>> shift) * 255) / max);
}

/** Decodes the pixels as RGBA, rows top first. `maxPixels` is checked before anything is allocated. */
export function decodeBmp(
  bytes: Buffer,
  maxPixels: number,
): { data: Buffer; width: number; height: number; hasAlpha: boolean } {
  const h = readBmpHeader(bytes);
  const { width, height } = h;
  if (width * height > maxPixels) {
    throw new PhotocatError(
      "image_too_large",
      `the image has ${width}x${height} pixels, over the limit of ${Math.round(maxPixels / 1e6)} MP`,
    );
  }
  if (h.dataOffset >= bytes.length) throw corrupt("no pixel data");
  const out = Buffer.alloc(width * height * 4);
  const put = (x: number, row: number, r: number, g: number, b: number, a = 255) => {
    const y = h.topDown ? row : height - 1 - row;
    if (x >= width || y < 0 || y >= height) return;
    out.set([r, g, b, a], (y * width + x) * 4);
  };
  const paletteColour = (x: number, row: number, index: number) => {
    const c = h.palette[index] ?? h.palette[0]!;
    put(x, row, c[0]!, c[1]!, c[2]!);
  };

  if (h.compression === RLE8 || h.compression === RLE4) {
    decodeRle(bytes, h, paletteColour);
    return { data: out, width, height, hasAlpha: false };
  }

  const rowBytes = Math.ceil((width * h.bitsPerPixel) / 32) * 4;
  if (h.dataOffset + rowBytes * height > bytes.length) throw corrupt("the pixel data is truncated");
  let alphaSeen = false;
  for (let row = 0; row < height; row++) {
    const start = h.dataOffset + row * rowBytes;
    for (let x = 0; x < width; x++) {
      if (h.bitsPerPixel <= 8) {
        const bit = x * h.bitsPerPixel;
        const byte = bytes[start + (bit >> 3)]!;
        const index = (byte >> (8 - h.bitsPerPixel - (bit & 7))) & ((1 << h.bitsPerPixel) - 1);
        paletteColour(x, row, index);
      } else if (h.bitsPerPixel === 24) {
        const at = start + x * 3;
        put(x, row, bytes[at + 2]!, bytes[at + 1]!, bytes[at]!);
      } else {
        const value =
          h.bitsPerPixel === 16 ? bytes.readUInt16LE(start + x * 2) : bytes.readUInt32LE(start + x * 4);
        const m = h.masks!;
        const a = m.a ? channel(value, m.a) : 255;
        if (m.a && a !== 0) alphaSeen = true;
        put(x, row, channel(value, m.r), channel(value, m.g), channel(value, m.b), a);
      }
    }
  }
  // An alpha channel that is zero everywhere is unused (many writers leave it so), not a transparent picture.
  if (h.masks?.a && !alphaSeen) for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return { data: out, width, height, hasAlpha: Boolean(h.masks?.a && alphaSeen) };
}

/** RLE8/RLE4: runs and literal spans, end-of-line, end-of-bitmap and delta escapes; bad data stops early. */
function decodeRle(
  bytes: Buffer,
  h: BmpHeader,
  paint: (x: number, row: number, index: number) => void,
): void {
  const four = h.compression === RLE4;
  let at = h.dataOffset;
  let x = 0;
  let row = 0;
  while (at + 1 < bytes.length && row < h.height) {
    const count = bytes[at]!;
    const value = bytes[at + 1]!;
    at += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) {
        paint(x++, row, four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
      }
    } else if (value === 0) {
      x = 0;
      row++;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      if (at + 1 >= bytes.length) return;
      x += bytes[at]!;
      row += bytes[at + 1]!;
      at += 2;
    } else {
      const literalBytes = four ? Math.ceil(value / 2) : value;
      if (at + literalBytes > bytes.length) return;
      for (let i = 0; i < value; i++) {
        const byte = bytes[at + (four ? i >> 1 : i)]!;
        paint(x++, row, four ? (i % 2 === 0 ? byte >> 4 : byte & 15) : byte);
      }
      at += literalBytes + (literalBytes % 2);
    }
  }
}
