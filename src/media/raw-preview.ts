import { PhotocatError } from "../domain/errors.js";
import { MEDIA_TYPES, type RawMediaType } from "../domain/image.js";

/** A JPEG stream found inside a file. */
export interface EmbeddedJpeg {
  offset: number;
  length: number;
  width: number;
  height: number;
}

/** Previews smaller than this on their long edge are thumbnails of thumbnails: not worth a photo's place. */
export const MIN_PREVIEW_EDGE = 320;
const MAX_CANDIDATES = 256;
// SOF markers of JPEGs that libjpeg decodes: baseline, extended, progressive (huffman). Lossless (SOF3, the
// sensor data of CR2 and DNG files) and arithmetic-coded ones are left alone.
const DECODABLE_SOF = new Set([0xc0, 0xc1, 0xc2]);
const ANY_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Walks one JPEG stream from its SOI: marker segments by their lengths, entropy-coded data up to the next
 * marker, until EOI. Null when the bytes there are not a whole JPEG (a chance FFD8FF in sensor data).
 */
function jpegAt(bytes: Buffer, offset: number): (EmbeddedJpeg & { decodable: boolean }) | null {
  let at = offset + 2;
  let width = 0;
  let height = 0;
  let decodable = false;
  let sawScan = false;
  while (at + 2 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      if (!sawScan || width === 0) return null;
      return { offset, length: at + 2 - offset, width, height, decodable };
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd8 || marker === 0x00 || at + 4 > bytes.length) return null;
    const segment = bytes.readUInt16BE(at + 2);
    if (segment < 2 || at + 2 + segment > bytes.length) return null;
    if (ANY_SOF.has(marker) && segment >= 8) {
      height = bytes.readUInt16BE(at + 5);
      width = bytes.readUInt16BE(at + 7);
      decodable = DECODABLE_SOF.has(marker) && bytes[at + 4] === 8;
    }
    at += 2 + segment;
    if (marker === 0xda) {
      sawScan = true;
      // Entropy-coded data: FF is followed by 00 (a stuffed byte) or a restart marker, until the next marker.
      for (;;) {
        at = bytes.indexOf(0xff, at);
        if (at < 0 || at + 1 >= bytes.length) return null;
        const next = bytes[at + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) at += next === 0xff ? 1 : 2;
        else break;
      }
    }
  }
  return null;
}

/** Every whole JPEG stream in the file, outermost first (an embedded JPEG's own thumbnail is skipped over). */
export function embeddedJpegs(bytes: Buffer): (EmbeddedJpeg & { decodable: boolean })[] {
  const found: (EmbeddedJpeg & { decodable: boolean })[] = [];
  const soi = Buffer.from([0xff, 0xd8, 0xff]);
  let from = 0;
  for (let tries = 0; tries < MAX_CANDIDATES; tries++) {
    const offset = bytes.indexOf(soi, from);
    if (offset < 0) break;
    const jpeg = jpegAt(bytes, offset);
    if (jpeg) found.push(jpeg);
    from = jpeg ? offset + jpeg.length : offset + 3;
  }
  return found;
}

/**
 * The preview a camera embedded in its RAW file (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2 all keep one or more
 * JPEGs beside the sensor data): the largest JPEG that libjpeg can decode. Found by walking the JPEG streams
 * themselves, so every container is read the same way, in pure JS. Throws `unsupported_media_type`, saying
 * so, when the file has none at least MIN_PREVIEW_EDGE pixels on its long edge.
 */
export function rawPreview(bytes: Buffer, mediaType: RawMediaType): Buffer {
  const label = MEDIA_TYPES[mediaType].label;
  const candidates = embeddedJpegs(bytes).filter((j) => j.decodable);
  const best = candidates.sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (!best || Math.max(best.width, best.height) < MIN_PREVIEW_EDGE) {
    const size = best ? ` (the largest is ${best.width}x${best.height})` : "";
    throw new PhotocatError(
      "unsupported_media_type",
      `this ${label} file has no usable embedded preview${size}, and RAW sensor data is not decoded here: export it as JPEG or TIFF from your RAW developer`,
    );
  }
  return bytes.subarray(best.offset, best.offset + best.length);
}
