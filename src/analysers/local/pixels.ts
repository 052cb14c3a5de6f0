import sharp from "sharp";
import { openImage } from "../../media/decode.js";
import { withDecodeSlot } from "../../media/decode-slots.js";

/** Decoded RGB pixels, 8 bits per channel, no alpha. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** The photo decoded once, and the sizes each model wants, all derived from those same pixels. */
export interface PreparedPixels {
  /** Long edge at most BASE_EDGE: the source for OCR. */
  base: RgbImage;
  /** 512x512, stretched as Human feeds centernet. */
  square512: RgbImage;
  /** 224x224, stretched, for the nsfwjs MobileNetV2. */
  square224: RgbImage;
  /** Long edge at most 640, aspect kept, for face detection. */
  faces: RgbImage;
  /** 64x64 stretched, for colour and layout statistics. */
  tiny: RgbImage;
}

const BASE_EDGE = 1600;

async function resizeRaw(image: RgbImage, width: number, height: number, fit: "fill" | "inside") {
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize({ width, height, fit, withoutEnlargement: fit === "inside" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export function preparePixels(
  bytes: Buffer,
  options: { mediaType: string; maxPixels: number },
): Promise<PreparedPixels> {
  return withDecodeSlot((deadline) => preparePixelsInSlot(bytes, { ...options, deadline }));
}

async function preparePixelsInSlot(
  bytes: Buffer,
  options: { mediaType: string; maxPixels: number; deadline: number },
): Promise<PreparedPixels> {
  const image = await openImage(bytes, options);
  const { data, info } = await image
    .resize({ width: BASE_EDGE, height: BASE_EDGE, fit: "inside", withoutEnlargement: true })
    // Transparent logos and drawings read as intended on white.
    .flatten({ background: "#ffffff" })
    .toColourspace("srgb")
    .removeAlpha()
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const base = { data, width: info.width, height: info.height };
  if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
  const [square512, square224, faces, tiny] = await Promise.all([
    resizeRaw(base, 512, 512, "fill"),
    resizeRaw(base, 224, 224, "fill"),
    resizeRaw(base, 640, 640, "inside"),
    resizeRaw(base, 64, 64, "fill"),
  ]);
  return { base, square512, square224, faces, tiny };
}
