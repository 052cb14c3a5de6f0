import type { Sharp } from "sharp";
import { PhotocatError } from "../../domain/errors.js";
import { openImage } from "../../media/decode.js";
import { withDecodeSlot } from "../../media/decode-slots.js";

/** What a vision model is given: never the original, always a re-encoded, metadata-free copy. */
export interface PreparedImage {
  bytes: Buffer;
  mediaType: "image/jpeg" | "image/webp";
  width: number;
  height: number;
  /** The oriented size of the original, for the token figures. */
  originalWidth: number;
  originalHeight: number;
}

export interface PrepareOptions {
  /** Longest side sent, in pixels. Claude downsizes anything larger anyway. */
  maxLongEdge?: number;
  /** Most pixels sent (Claude: about 1.15 MP before it downsizes). */
  maxPixels?: number;
  /** Largest encoded image sent, in bytes (Claude: 5 MB base64, so 3.75 MB raw). */
  maxBytes?: number;
  /** Media types the provider takes; WebP is used for images with transparency when listed. */
  accepted?: readonly string[];
  /** Pixel limit for decoding the original (decompression bombs). */
  decodeMaxPixels?: number;
}

export const CLAUDE_IMAGE_LIMITS = {
  maxLongEdge: 1568,
  maxPixels: 1_150_000,
  maxBytes: 3.75 * 1024 * 1024,
  accepted: ["image/jpeg", "image/png", "image/gif", "image/webp"],
} as const;

const QUALITIES = [85, 75, 65, 55, 45];

/** Claude's rule of thumb for the input tokens an image costs: width x height / 750. */
export function estimateImageTokens(width: number, height: number): number {
  return Math.ceil((width * height) / 750);
}

/** The size to send: within the long edge and the pixel budget, never enlarged. */
export function targetSize(
  width: number,
  height: number,
  maxLongEdge: number,
  maxPixels: number,
): { width: number; height: number } {
  const scale = Math.min(1, maxLongEdge / Math.max(width, height), Math.sqrt(maxPixels / (width * height)));
  return {
    width: Math.max(1, Math.floor(width * scale)),
    height: Math.max(1, Math.floor(height * scale)),
  };
}

async function isOpaque(pipeline: Sharp): Promise<boolean> {
  try {
    return (await pipeline.clone().stats()).isOpaque;
  } catch (cause) {
    throw new PhotocatError("corrupt_image", "the image could not be decoded for analysis", { cause });
  }
}

async function encode(
  pipeline: Sharp,
  size: { width: number; height: number },
  webp: boolean,
  quality: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  const resized = pipeline.clone().resize(size.width, size.height, { fit: "fill" }).toColourspace("srgb");
  const encoded = webp
    ? resized.webp({ quality, alphaQuality: 90 })
    : resized.flatten({ background: "#ffffff" }).jpeg({ quality, mozjpeg: true });
  const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Prepares a photo for a vision model: decoded (HEIC included), oriented by EXIF, resized to the
 * model's budget and re-encoded as JPEG (WebP when it has transparency and the provider takes WebP),
 * with quality stepped down until it fits the byte cap. Metadata such as GPS is never copied.
 */
export function prepareForModel(
  bytes: Buffer,
  mediaType: string,
  options: PrepareOptions = {},
): Promise<PreparedImage> {
  return withDecodeSlot((deadline) => prepareInSlot(bytes, mediaType, options, deadline));
}

async function prepareInSlot(
  bytes: Buffer,
  mediaType: string,
  options: PrepareOptions,
  deadline: number,
): Promise<PreparedImage> {
  const maxLongEdge = options.maxLongEdge ?? CLAUDE_IMAGE_LIMITS.maxLongEdge;
  const maxPixels = options.maxPixels ?? CLAUDE_IMAGE_LIMITS.maxPixels;
  const maxBytes = options.maxBytes ?? CLAUDE_IMAGE_LIMITS.maxBytes;
  const accepted = options.accepted ?? CLAUDE_IMAGE_LIMITS.accepted;
  const pipeline = await openImage(bytes, {
    mediaType,
    maxPixels: options.decodeMaxPixels ?? 200_000_000,
    deadline,
  });
  let meta: Awaited<ReturnType<Sharp["metadata"]>>;
  try {
    meta = await pipeline.metadata();
  } catch (cause) {
    throw new PhotocatError("corrupt_image", "the image could not be read for analysis", { cause });
  }
  const originalWidth = meta.autoOrient?.width ?? meta.width;
  const originalHeight = meta.autoOrient?.height ?? meta.height;
  if (!originalWidth || !originalHeight) {
    throw new PhotocatError("corrupt_image", "the image has no dimensions");
  }
  // Keep transparency only where there is some: HEIC decodes to RGBA even when fully opaque.
  const webp = Boolean(meta.hasAlpha) && accepted.includes("image/webp") && !(await isOpaque(pipeline));
  let size = targetSize(originalWidth, originalHeight, maxLongEdge, maxPixels);
  for (let shrink = 0; shrink < 4; shrink++) {
    for (const quality of QUALITIES) {
      let out: { data: Buffer; width: number; height: number };
      try {
        out = await encode(pipeline, size, webp, quality);
      } catch (cause) {
        throw new PhotocatError("corrupt_image", "the image could not be decoded for analysis", { cause });
      }
      if (out.data.length <= maxBytes) {
        return {
          bytes: out.data,
          mediaType: webp ? "image/webp" : "image/jpeg",
          width: out.width,
          height: out.height,
          originalWidth,
          originalHeight,
        };
      }
    }
    size = {
      width: Math.max(1, Math.floor(size.width * 0.75)),
      height: Math.max(1, Math.floor(size.height * 0.75)),
    };
  }
  throw new PhotocatError("image_too_large", `the image could not be made smaller than ${maxBytes} bytes`);
}
