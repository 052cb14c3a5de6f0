import exifr from "exifr";
import { fileTypeFromBuffer } from "file-type";
import { PhotocatError } from "../domain/errors.js";
import { type AcceptedMediaType, isAcceptedMediaType } from "../domain/image.js";

export const ACCEPTED_FORMATS_LABEL =
  "JPEG, PNG, WebP, GIF, AVIF, HEIC/HEIF, TIFF, BMP and camera RAW (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2)";

/** Variants file-type reports that we read as one of the accepted types (first frame or primary image). */
const MEDIA_TYPE_ALIASES: Record<string, AcceptedMediaType> = {
  "image/apng": "image/png",
  "image/mpo": "image/jpeg",
  "image/heic-sequence": "image/heic",
  "image/heif-sequence": "image/heif",
};

/** Readable names for formats people may try, so the refusal says what was found. */
const FORMAT_NAMES: Record<string, string> = {
  ico: "ICO icons",
  icns: "ICNS icons",
  cur: "cursor files",
  jp2: "JPEG 2000 images",
  jpx: "JPEG 2000 images",
  j2c: "JPEG 2000 images",
  jpm: "JPEG 2000 images",
  mj2: "Motion JPEG 2000 files",
  jxl: "JPEG XL images",
  jxr: "JPEG XR images",
  jls: "JPEG-LS images",
  psd: "Photoshop (PSD) files",
  xcf: "GIMP (XCF) files",
  pdf: "PDF documents",
  ps: "PostScript files",
  eps: "EPS files",
  bpg: "BPG images",
  flif: "FLIF images",
  crw: "Canon RAW (CRW) files",
  pef: "Pentax RAW (PEF) files",
  x3f: "Sigma RAW (X3F) files",
  mp4: "MP4 videos",
  mov: "QuickTime videos",
  gz: "gzip archives",
  zip: "ZIP archives",
  xml: "XML documents",
};

function formatName(ext: string, mime: string): string {
  const known = FORMAT_NAMES[ext];
  if (known) return known;
  const kind = mime.startsWith("image/") ? "images" : mime.startsWith("video/") ? "videos" : "files";
  return `${ext.toUpperCase()} ${kind}`;
}

/** Names content file-type does not recognise: text-based formats (SVG, XML) and plain text. */
function describeUnrecognised(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 4096))
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart();
  if (/<svg[\s>]/i.test(head)) return "SVG images";
  if (head.startsWith("<?xml") || head.startsWith("<")) return "XML or HTML documents";
  const sample = bytes.subarray(0, 4096);
  const printable = sample.filter(
    (byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte !== 127),
  );
  if (sample.length > 0 && printable.length / sample.length > 0.95) return "text files";
  return "files in an unrecognised format";
}

function isAccepted(mime: string): mime is AcceptedMediaType {
  return isAcceptedMediaType(mime);
}

/**
 * Finds the media type from the bytes (magic numbers), never from the file name.
 * Throws PhotocatError `empty_file` or `unsupported_media_type` (naming what was found).
 */
export async function detectMediaType(bytes: Uint8Array): Promise<AcceptedMediaType> {
  if (bytes.length === 0) throw new PhotocatError("empty_file", "the file is empty");
  const found = await fileTypeFromBuffer(bytes).catch(() => undefined);
  // file-type calls the compact HEIF form ("mif3" brand, a "mini" box) MP4; it is HEIF, but libheif builds here
  // cannot read it yet.
  if (Buffer.from(bytes.subarray(4, 12)).toString("latin1") === "ftypmif3") {
    throw new PhotocatError(
      "unsupported_media_type",
      `compact HEIF/AVIF files (mif3) are not supported yet; accepted: ${ACCEPTED_FORMATS_LABEL}`,
    );
  }
  if (found) {
    const mime = MEDIA_TYPE_ALIASES[found.mime] ?? found.mime;
    // file-type calls any TIFF whose first tag is PrintIM "ARW": only Sony's are.
    if (mime === "image/x-sony-arw" && !Buffer.from(bytes.subarray(0, 65536)).includes("SONY")) {
      return "image/tiff";
    }
    if (isAccepted(mime)) return mime;
    throw new PhotocatError(
      "unsupported_media_type",
      `${formatName(found.ext, found.mime)} are not supported; accepted: ${ACCEPTED_FORMATS_LABEL}`,
    );
  }
  throw new PhotocatError(
    "unsupported_media_type",
    `${describeUnrecognised(bytes)} are not supported; accepted: ${ACCEPTED_FORMATS_LABEL}`,
  );
}

const RAW_BY_MAKE: [RegExp, AcceptedMediaType][] = [
  [/^nikon/i, "image/x-nikon-nef"],
  [/^sony/i, "image/x-sony-arw"],
  [/^canon/i, "image/x-canon-cr2"],
  [/^(olympus|om digital)/i, "image/x-olympus-orf"],
];

/**
 * Camera RAW files in a TIFF structure (NEF among others) are told apart by the camera's make; the makes of
 * the formats we do not take (Pentax PEF, Phase One IIQ...) are refused by name.
 */
export async function rawTypeOfTiff(bytes: Uint8Array): Promise<AcceptedMediaType> {
  const tags = (await exifr
    .parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      tiff: true,
      exif: false,
      gps: false,
      pick: ["Make", "Model"],
    })
    .catch(() => null)) as { Make?: unknown; Model?: unknown } | null;
  const make = typeof tags?.Make === "string" ? tags.Make.trim() : "";
  const known = RAW_BY_MAKE.find(([pattern]) => pattern.test(make));
  if (known) return known[1];
  const what = /pentax|ricoh/i.test(make)
    ? "Pentax RAW (PEF) files"
    : /leaf|phase ?one/i.test(make)
      ? "Phase One RAW (IIQ) files"
      : `camera RAW files${make ? ` made by ${make.replace(/\p{Cc}/gu, "").slice(0, 40)}` : ""}`;
  throw new PhotocatError(
    "unsupported_media_type",
    `${what} are not supported; accepted: ${ACCEPTED_FORMATS_LABEL}`,
  );
}
