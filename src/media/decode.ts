import { createRequire } from "node:module";
import sharp, { type Sharp } from "sharp";
import { PhotocatError } from "../domain/errors.js";

const require = createRequire(import.meta.url);

interface HeicImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
type HeicDecodeAll = ((options: { buffer: Uint8Array }) => Promise<HeicImage[] & { dispose(): void }>) & {};

let heicDecodeAll: HeicDecodeAll | null = null;
function loadHeicDecoder(): HeicDecodeAll {
  // libheif compiled to wasm: loaded on first HEIC only, since it costs ~100 ms.
  heicDecodeAll ??= (require("heic-decode") as { all: HeicDecodeAll }).all;
  return heicDecodeAll;
}

const HEVC_TYPES = new Set(["image/heic", "image/heif"]);

/**
 * Opens image bytes as a sharp pipeline that decodes them, enforcing the pixel limit before any decode.
 * HEIC photos (HEVC inside a HEIF container) are decoded with libheif-wasm, since sharp's bundled
 * libvips has no HEVC decoder; their pixels are handed to sharp raw, already oriented by libheif.
 */
export async function openImage(
  bytes: Buffer,
  options: { mediaType: string; maxPixels: number },
): Promise<Sharp> {
  if (HEVC_TYPES.has(options.mediaType)) {
    const images = await loadHeicDecoder()({ buffer: bytes }).catch((cause: unknown) => {
      throw new PhotocatError("corrupt_image", "the HEIC/HEIF file could not be decoded", { cause });
    });
    try {
      const first = images[0];
      if (!first) throw new PhotocatError("corrupt_image", "the HEIF file holds no image");
      if (first.width * first.height > options.maxPixels) {
        throw new PhotocatError(
          "image_too_large",
          `the image has ${first.width}x${first.height} pixels, over the limit of ${options.maxPixels}`,
        );
      }
      const { width, height, data } = await first.decode().catch((cause: unknown) => {
        throw new PhotocatError("corrupt_image", "the HEIC/HEIF image data is corrupt", { cause });
      });
      return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
        raw: { width, height, channels: 4 },
      });
    } finally {
      images.dispose();
    }
  }
  return sharp(bytes, {
    limitInputPixels: options.maxPixels,
    failOn: "error",
    sequentialRead: true,
  }).rotate();
}
