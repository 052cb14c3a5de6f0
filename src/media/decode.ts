import sharp, { type Metadata, type Sharp, type SharpOptions } from "sharp";
import { PhotocatError } from "../domain/errors.js";
import {
  type AcceptedMediaType,
  formatLabel,
  isAcceptedMediaType,
  isRawMediaType,
  MEDIA_TYPES,
  type PhotoMetadata,
  type RawMediaType,
} from "../domain/image.js";
import { decodeBmp } from "./bmp.js";
import { busyError, DEFAULT_DECODE_TIMEOUT_MS } from "./decode-slots.js";
import { readPhotoMetadata } from "./exif.js";
import { decodeHeic } from "./heic.js";
import { rawPreview } from "./raw-preview.js";

const HEIF_TYPES = new Set<string>(["image/heic", "image/heif", "image/avif"]);

/** What the header says, read without decoding pixels. */
export interface ImageHeader {
  /** Stored size, before EXIF orientation. */
  width: number;
  height: number;
  /** Size as displayed, after EXIF orientation (HEIF transforms are already applied by libheif). */
  displayWidth: number;
  displayHeight: number;
  /** The HEIF image is HEVC-coded, which sharp's libvips cannot decode. */
  hevc: boolean;
  /** The raw EXIF block, when the container carries one. */
  exif: Buffer | undefined;
  /** Number of SubIFDs in a TIFF: camera RAW files keep their sensor data there. */
  subifds: number;
}

/** Options for sharp reading untrusted bytes: pixel limit enforced from the header, decoding errors fatal. */
export function sharpInputOptions(maxPixels: number): SharpOptions {
  return {
    limitInputPixels: maxPixels,
    // "error" rejects truncated and corrupt data; "warning" would also reject real camera JPEGs with harmless quirks.
    failOn: "error",
    autoOrient: true,
    sequentialRead: true,
  };
}

export function assertWithinPixelLimit(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new PhotocatError(
      "image_too_large",
      `the image has ${width}x${height} pixels (${Math.round((width * height) / 1e6)} MP), over the limit of ${Math.round(maxPixels / 1e6)} MP`,
    );
  }
}

/** Turns a libvips/sharp failure into a user-facing error: first line of the reason, no stack. */
export function decodeError(mediaType: string, cause: unknown): PhotocatError {
  if (cause instanceof PhotocatError) return cause;
  const reason = (cause instanceof Error ? cause.message : String(cause))
    .split("\n")[0]
    ?.trim()
    .slice(0, 200);
  if (reason && /pixel limit/i.test(reason)) {
    return new PhotocatError(
      "image_too_large",
      `the ${formatLabel(mediaType)} image is over the pixel limit`,
      {
        cause,
      },
    );
  }
  if (reason && /timeout/i.test(reason)) {
    // libvips ran out of time: on a loaded machine a good photo can, so it is no sign of damage.
    return busyError(`the ${formatLabel(mediaType)} image could not be decoded in time`, cause);
  }
  const label = formatLabel(mediaType);
  const detail = reason && !/^unknown error$/i.test(reason) ? ` (${reason.replace(/:$/, "")})` : "";
  if (reason && /unsupported image format/i.test(reason)) {
    // libvips recognised the container but not this variant of it (AVIF image sequences, layered AVIF...).
    return new PhotocatError("unsupported_media_type", `this kind of ${label} file cannot be read${detail}`, {
      cause,
    });
  }
  if (reason && /premature end|unexpected end|truncat|end of file|bad seek/i.test(reason)) {
    return new PhotocatError("corrupt_image", `the ${label} image is truncated or damaged${detail}`, {
      cause,
    });
  }
  return new PhotocatError(
    "corrupt_image",
    `the ${label} image is corrupt or uses an unsupported feature${detail}`,
    {
      cause,
    },
  );
}

/**
 * Reads the header only (no pixel decoding) and checks it against the media type found by file-type.
 * Returns null for a HEIF container sharp cannot parse (libheif-wasm gets its own try in that case), and for
 * BMP and RAW files, which libvips does not read.
 */
export async function readImageHeader(
  bytes: Buffer,
  mediaType: AcceptedMediaType,
): Promise<ImageHeader | null> {
  // BMP and RAW files are not read by libvips: their decoders check their own headers.
  if (MEDIA_TYPES[mediaType].libvips === null) return null;
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    if (HEIF_TYPES.has(mediaType)) return null;
    throw decodeError(mediaType, cause);
  }
  // Content sniffed by file-type and by libvips must agree.
  if (metadata.format !== MEDIA_TYPES[mediaType].libvips) {
    throw new PhotocatError(
      "corrupt_image",
      `the file starts like a ${formatLabel(mediaType)} image but does not decode as one`,
    );
  }
  if (!(metadata.width > 0 && metadata.height > 0)) {
    throw new PhotocatError("corrupt_image", `the ${formatLabel(mediaType)} image has no size`);
  }
  return {
    width: metadata.width,
    height: metadata.height,
    displayWidth: metadata.autoOrient?.width ?? metadata.width,
    displayHeight: metadata.autoOrient?.height ?? metadata.height,
    hevc: metadata.format === "heif" && metadata.compression === "hevc",
    exif: metadata.exif,
    subifds: metadata.subifds ?? 0,
  };
}

/** Whether pixels must come from libheif-wasm rather than sharp. */
export function needsHeicDecoder(mediaType: AcceptedMediaType, header: ImageHeader | null): boolean {
  return header ? header.hevc : mediaType === "image/heic" || mediaType === "image/heif";
}

/** Finds a top-level ISO-BMFF box ("meta") and returns its bytes. */
function topLevelBox(bytes: Buffer, type: string): Buffer | null {
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(offset);
    let headerSize = 8;
    if (size === 1 && offset + 16 <= bytes.length) {
      size = Number(bytes.readBigUInt64BE(offset + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = bytes.length - offset;
    }
    if (size < headerSize) return null;
    if (bytes.toString("latin1", offset + 4, offset + 8) === type) {
      return bytes.subarray(offset + headerSize, Math.min(bytes.length, offset + size));
    }
    offset += size;
  }
  return null;
}

/** Whether the HEIF container rotates or mirrors its image itself (irot/imir properties, applied by libheif). */
export function hasHeifTransform(bytes: Buffer): boolean {
  const meta = topLevelBox(bytes, "meta");
  if (!meta) return false;
  const text = meta.toString("latin1");
  return text.includes("irot") || text.includes("imir");
}

/**
 * A valid AVIF of a feature the decoder lacks: a layered/progressive image whose container picks an operating
 * point (a1op) other than the default. Its pixels fail to decode like a truncated file's, so it is named.
 */
export function unsupportedAvifFeature(bytes: Buffer, cause: unknown): PhotocatError | null {
  const meta = topLevelBox(bytes, "meta");
  if (!meta?.toString("latin1").includes("a1op")) return null;
  return new PhotocatError(
    "unsupported_media_type",
    "unsupported AVIF feature (layered/progressive image with an operating point selector): save it as a plain AVIF, or as JPEG",
    { cause },
  );
}

/** The operations that turn pixels stored with an EXIF orientation into the picture as seen. */
export function applyExifOrientation(image: Sharp, orientation: number | null): Sharp {
  switch (orientation) {
    case 2:
      return image.flop();
    case 3:
      return image.rotate(180);
    case 4:
      return image.flip();
    case 5:
      return image.rotate(90).flip();
    case 6:
      return image.rotate(90);
    case 7:
      return image.rotate(270).flip();
    case 8:
      return image.rotate(270);
    default:
      return image;
  }
}

/**
 * Decodes a HEVC-coded HEIF image in the libheif worker and hands the pixels to sharp, upright.
 * libheif applies the container's irot/imir; files without them (some converters) rely on EXIF Orientation alone,
 * which is then applied here.
 */
export async function openHeicImage(
  bytes: Buffer,
  options: { maxPixels: number; timeoutMs: number; exifOrientation: number | null },
): Promise<{ image: Sharp; width: number; height: number }> {
  const pixels = await decodeHeic(bytes, { maxPixels: options.maxPixels, timeoutMs: options.timeoutMs });
  let image = sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 4 } });
  if (pixels.opaque) image = image.removeAlpha();
  const orientation = hasHeifTransform(bytes) ? null : options.exifOrientation;
  image = applyExifOrientation(image, orientation);
  const swapped = orientation !== null && orientation >= 5;
  return {
    image,
    width: swapped ? pixels.height : pixels.width,
    height: swapped ? pixels.width : pixels.height,
  };
}

/** A BMP's pixels (decoded in JS: sharp's libvips reads no BMP) as a sharp pipeline, with its size. */
export function openBmp(bytes: Buffer, maxPixels: number): { image: Sharp; width: number; height: number } {
  const { data, width, height, hasAlpha } = decodeBmp(bytes, maxPixels);
  const image = sharp(data, { raw: { width, height, channels: 4 } });
  return { image: hasAlpha ? image : image.removeAlpha(), width, height };
}

/**
 * A camera RAW file as the picture its embedded preview shows, upright by the RAW file's own orientation (the
 * preview's EXIF, when it has any, is ignored: some cameras leave it unrotated). Metadata comes from the RAW
 * file, with the preview's filling in what the RAW container hides from exifr (CR3, RAF).
 */
export async function openRawImage(
  bytes: Buffer,
  mediaType: RawMediaType,
  maxPixels: number,
): Promise<{ image: Sharp; width: number; height: number; metadata: PhotoMetadata; preview: Buffer }> {
  const preview = rawPreview(bytes, mediaType);
  const header = await readImageHeader(preview, "image/jpeg").catch((cause: unknown) => {
    throw new PhotocatError(
      "corrupt_image",
      `the preview inside this ${formatLabel(mediaType)} file is damaged`,
      {
        cause,
      },
    );
  });
  if (!header) throw new PhotocatError("corrupt_image", "the RAW file's preview has no header");
  assertWithinPixelLimit(header.width, header.height, maxPixels);
  const own = await readPhotoMetadata(bytes);
  const fromPreview = await readPhotoMetadata(preview, header.exif);
  const metadata = Object.fromEntries(
    Object.entries(own).map(([key, value]) => [key, value ?? fromPreview[key as keyof PhotoMetadata]]),
  ) as unknown as PhotoMetadata;
  const image = applyExifOrientation(
    sharp(preview, { ...sharpInputOptions(maxPixels), autoOrient: false }),
    metadata.orientation,
  );
  const swapped = metadata.orientation !== null && metadata.orientation >= 5;
  return {
    image,
    width: swapped ? header.height : header.width,
    height: swapped ? header.width : header.height,
    metadata,
    preview,
  };
}

/**
 * Opens image bytes as a sharp pipeline that decodes them (auto-oriented), enforcing the pixel limit before any
 * decode. Callers hold a decode slot (withDecodeSlot) while they use it and pass its deadline. HEIC photos
 * (HEVC inside a HEIF container) are decoded with libheif-wasm in a worker thread, since sharp's bundled libvips
 * has no HEVC decoder; their pixels are handed to sharp raw, already upright.
 */
export async function openImage(
  bytes: Buffer,
  options: { mediaType: string; maxPixels: number; deadline?: number },
): Promise<Sharp> {
  const { mediaType } = options;
  if (!isAcceptedMediaType(mediaType)) {
    throw new PhotocatError("unsupported_media_type", `${options.mediaType} images are not supported`);
  }
  if (mediaType === "image/bmp") return openBmp(bytes, options.maxPixels).image;
  if (isRawMediaType(mediaType)) return (await openRawImage(bytes, mediaType, options.maxPixels)).image;
  const header = await readImageHeader(bytes, mediaType);
  if (header) assertWithinPixelLimit(header.width, header.height, options.maxPixels);
  if (needsHeicDecoder(mediaType, header)) {
    const { orientation } = await readPhotoMetadata(bytes, header?.exif);
    const { image } = await openHeicImage(bytes, {
      maxPixels: options.maxPixels,
      timeoutMs: Math.max(1, (options.deadline ?? Date.now() + DEFAULT_DECODE_TIMEOUT_MS) - Date.now()),
      exifOrientation: orientation,
    });
    return image;
  }
  return sharp(bytes, sharpInputOptions(options.maxPixels));
}
