import { readFile } from "node:fs/promises";
import sharp, { type Sharp } from "sharp";
import { rgbaToThumbHash } from "thumbhash";
import { type AcceptedMediaType, isRawMediaType, type PhotoMetadata } from "../domain/image.js";
import {
  HASH_INPUT_SIDE,
  laplacianVariance,
  type PerceptualHash,
  perceptualHash,
} from "../domain/near-duplicates.js";
import { dominantColourNames } from "./colours.js";
import {
  assertWithinPixelLimit,
  decodeError,
  type ImageHeader,
  needsHeicDecoder,
  openBmp,
  openHeicImage,
  openRawImage,
  readImageHeader,
  sharpInputOptions,
  unsupportedAvifFeature,
} from "./decode.js";
import { type DecodeSlotOptions, withDecodeSlot } from "./decode-slots.js";
import { detectMediaType, rawTypeOfTiff } from "./detect.js";
import { EMPTY_METADATA, isRawCameraTiff, readPhotoMetadata } from "./exif.js";
import { reverseGeocode } from "./geocode.js";
import { type MetadataReading, readEmbeddedWords } from "./own-words.js";

export interface InspectedImage {
  /** Found from the content (magic bytes), never from the name. */
  mediaType: AcceptedMediaType;
  /** Display size, after EXIF orientation. */
  width: number;
  height: number;
  metadata: PhotoMetadata;
  /** Offline reverse geocoding of the GPS position: "Biarritz, France". */
  place: string | null;
  /** Base64 thumbhash of a version at most 100 px on its long edge. */
  thumbhash: string;
  /** 3-5 dominant colour names ("blue", "dark green"), fewer for plain pictures. */
  colours: string[];
  /** WebP, auto-oriented, all metadata stripped, never upscaled. */
  thumbnails: { small: Buffer; large: Buffer };
  /** The words the file carries (XMP, IPTC, EXIF captions and keywords), and what could not be read. */
  embedded: MetadataReading;
  /** For finding near-duplicates: null for a flat picture. */
  perceptualHash: PerceptualHash | null;
  /** Variance of the Laplacian of the preview's grey levels: which of two copies is sharper. */
  sharpness: number;
}

export const THUMBNAIL_EDGES = { small: 320, large: 1280 } as const;
export const THUMBNAIL_WEBP = { quality: 78, effort: 3 } as const;
const THUMBHASH_EDGE = 100;

interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

function fitInside(edge: number) {
  return { width: edge, height: edge, fit: "inside", withoutEnlargement: true } as const;
}

/**
 * The one full decode: pixels shrunk (shrink-on-load where the codec allows it) to the large thumbnail's size,
 * auto-oriented, 8-bit sRGB. Every derivative is made from these pixels, so the file is decoded once.
 * Decoding every pixel is also the integrity probe: truncated or corrupt data fails here.
 */
async function decodePreview(
  bytes: Buffer,
  mediaType: AcceptedMediaType,
  header: ImageHeader | null,
  limits: { maxPixels: number; deadline: number; exifOrientation: number | null },
): Promise<{ preview: RawPixels; displayWidth: number; displayHeight: number }> {
  const remainingMs = Math.max(1, limits.deadline - Date.now());
  if (needsHeicDecoder(mediaType, header)) {
    const { image, width, height } = await openHeicImage(bytes, {
      maxPixels: limits.maxPixels,
      timeoutMs: remainingMs,
      exifOrientation: limits.exifOrientation,
    });
    const { data, info } = await image
      .resize(fitInside(THUMBNAIL_EDGES.large))
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      preview: { data, width: info.width, height: info.height, channels: info.channels },
      displayWidth: width,
      displayHeight: height,
    };
  }
  try {
    const { data, info } = await sharp(bytes, sharpInputOptions(limits.maxPixels))
      .timeout({ seconds: Math.ceil(remainingMs / 1000) })
      .resize(fitInside(THUMBNAIL_EDGES.large))
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return {
      preview: { data, width: info.width, height: info.height, channels: info.channels },
      displayWidth: header?.displayWidth ?? info.width,
      displayHeight: header?.displayHeight ?? info.height,
    };
  } catch (cause) {
    throw (
      (mediaType === "image/avif" && unsupportedAvifFeature(bytes, cause)) || decodeError(mediaType, cause)
    );
  }
}

async function derivatives(preview: RawPixels) {
  const raw = { width: preview.width, height: preview.height, channels: preview.channels };
  const fromPreview = () => sharp(preview.data, { raw });
  // Transparent parts count as black, as libvips flattens them when saving a JPEG.
  const grey = () => fromPreview().flatten({ background: "#000000" }).greyscale();
  const [large, small, tiny, hashInput, fullGrey] = await Promise.all([
    fromPreview().webp(THUMBNAIL_WEBP).toBuffer(),
    fromPreview().resize(fitInside(THUMBNAIL_EDGES.small)).webp(THUMBNAIL_WEBP).toBuffer(),
    fromPreview().resize(fitInside(THUMBHASH_EDGE)).ensureAlpha().raw().toBuffer({ resolveWithObject: true }),
    grey().resize(HASH_INPUT_SIDE, HASH_INPUT_SIDE, { fit: "fill" }).raw().toBuffer(),
    grey().raw().toBuffer(),
  ]);
  const rgba = new Uint8Array(tiny.data.buffer, tiny.data.byteOffset, tiny.data.byteLength);
  return {
    thumbnails: { small, large },
    thumbhash: Buffer.from(rgbaToThumbHash(tiny.info.width, tiny.info.height, rgba)).toString("base64"),
    colours: dominantColourNames(rgba, tiny.info.width, tiny.info.height),
    perceptualHash: perceptualHash(
      new Uint8Array(hashInput.buffer, hashInput.byteOffset, hashInput.byteLength),
    ),
    sharpness: laplacianVariance(fullGrey, preview.width, preview.height),
  };
}

/** Shrinks an opened picture to the large thumbnail's size, as 8-bit sRGB pixels. */
async function shrink(image: Sharp, deadline: number, mediaType: AcceptedMediaType): Promise<RawPixels> {
  try {
    const { data, info } = await image
      .timeout({ seconds: Math.ceil(Math.max(1, deadline - Date.now()) / 1000) })
      .resize(fitInside(THUMBNAIL_EDGES.large))
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (cause) {
    throw decodeError(mediaType, cause);
  }
}

async function inspect(
  bytes: Buffer,
  detected: AcceptedMediaType,
  maxPixels: number,
  deadline: number,
): Promise<Omit<InspectedImage, "embedded">> {
  let mediaType = detected;
  if (mediaType === "image/bmp") {
    const { image, width, height } = openBmp(bytes, maxPixels);
    const derived = await derivatives(await shrink(image, deadline, mediaType));
    return { mediaType, width, height, metadata: { ...EMPTY_METADATA }, place: null, ...derived };
  }
  const header = isRawMediaType(mediaType) ? null : await readImageHeader(bytes, mediaType);
  if (mediaType === "image/tiff" && header && header.subifds > 0 && (await isRawCameraTiff(bytes))) {
    // NEF files (and others) look like TIFFs: the camera's make says which RAW format this is.
    mediaType = await rawTypeOfTiff(bytes);
  }
  if (isRawMediaType(mediaType)) {
    const { image, width, height, metadata } = await openRawImage(bytes, mediaType, maxPixels);
    const derived = await derivatives(await shrink(image, deadline, mediaType));
    const place = metadata.gps ? await reverseGeocode(metadata.gps.latitude, metadata.gps.longitude) : null;
    return { mediaType, width, height, metadata, place, ...derived };
  }
  // Before any pixel is decoded: a 1 KB file may declare 17000x17000 pixels.
  if (header) assertWithinPixelLimit(header.width, header.height, maxPixels);
  // Read before decoding: HEIC files without irot/imir need their EXIF orientation applied to the pixels.
  const metadata = await readPhotoMetadata(bytes, header?.exif);
  const { preview, displayWidth, displayHeight } = await decodePreview(bytes, mediaType, header, {
    maxPixels,
    deadline,
    exifOrientation: metadata.orientation,
  });
  const derived = await derivatives(preview);
  const place = metadata.gps ? await reverseGeocode(metadata.gps.latitude, metadata.gps.longitude) : null;
  return { mediaType, width: displayWidth, height: displayHeight, metadata, place, ...derived };
}

/**
 * Validates an uploaded file (its path, or its bytes when already read) by content and derives everything ingest stores: media type, display size, capture
 * metadata, place, thumbhash, dominant colours, two WebP thumbnails, perceptual hashes and sharpness.
 * Throws PhotocatError: `empty_file`, `unsupported_media_type` (names what was found), `image_too_large` (from the
 * header, before decoding), `corrupt_image` (undecodable or truncated) or `busy` (no decode slot free in time, or
 * not done within `timeoutMs` of taking one: the photo may well be good).
 */
export async function inspectImage(
  file: string | Buffer,
  options: { maxPixels: number } & DecodeSlotOptions,
): Promise<InspectedImage> {
  const bytes = typeof file === "string" ? await readFile(file) : file;
  const mediaType = await detectMediaType(bytes);
  const inspected = await withDecodeSlot(
    (deadline) => inspect(bytes, mediaType, options.maxPixels, deadline),
    options,
  );
  // Read once the picture is known to be good, outside the decode slot: it decodes no pixels.
  return { ...inspected, embedded: await readEmbeddedWords(bytes) };
}
