import exifr from "exifr";

type ExifrOptions = NonNullable<Exclude<Parameters<typeof exifr.parse>[1], boolean | (string | number)[]>>;

import type { GpsPosition, PhotoMetadata } from "../domain/image.js";

export const EMPTY_METADATA: PhotoMetadata = {
  takenAt: null,
  cameraMake: null,
  cameraModel: null,
  lens: null,
  gps: null,
  orientation: null,
};

const EXIFR_OPTIONS: ExifrOptions = {
  tiff: true,
  exif: true,
  gps: true,
  ifd1: false,
  interop: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  // Raw strings: exifr's Date revival would move "local time as written" into the server's time zone.
  reviveValues: false,
  translateValues: false,
  translateKeys: true,
  mergeOutput: true,
};

type Tags = Record<string, unknown>;

function text(value: unknown): string | null {
  if (typeof value !== "string") return null;
  // Cameras pad with NULs and spaces; anything non-printable is noise.
  const cleaned = value.replace(/\p{Cc}/gu, "").trim();
  return cleaned ? cleaned.slice(0, 120) : null;
}

/**
 * "2019:05:04 12:00:05" (+ "+02:00") -> "2019-05-04T12:00:05+02:00"; without an offset the local time is kept
 * as written ("2019-05-04T12:00:05"). Placeholder and impossible dates give null.
 */
export function exifDateToIso(value: unknown, offset?: unknown): string | null {
  if (typeof value !== "string") return null;
  const match = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(value.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second = "00"] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  if (y < 1826 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return null;
  // Rejects 31 February and the like.
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return null;
  const local = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
  const zone = typeof offset === "string" ? offset.trim() : "";
  return /^[+-](0\d|1[0-4]):[0-5]\d$/.test(zone) ? `${local}${zone}` : local;
}

function gpsPosition(tags: Tags): GpsPosition | null {
  const { latitude, longitude } = tags;
  if (typeof latitude !== "number" || typeof longitude !== "number") return null;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  // 0,0 is what receivers write when they had no fix.
  if (latitude === 0 && longitude === 0) return null;
  const position: GpsPosition = { latitude, longitude };
  if (typeof tags.GPSAltitude === "number" && Number.isFinite(tags.GPSAltitude)) {
    position.altitude = tags.GPSAltitudeRef === 1 ? -tags.GPSAltitude : tags.GPSAltitude;
  }
  return position;
}

function orientation(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 8 ? value : null;
}

export function photoMetadataFromTags(tags: Tags): PhotoMetadata {
  return {
    takenAt:
      exifDateToIso(tags.DateTimeOriginal, tags.OffsetTimeOriginal) ??
      exifDateToIso(tags.CreateDate, tags.OffsetTimeDigitized),
    cameraMake: text(tags.Make),
    cameraModel: text(tags.Model),
    lens: text(tags.LensModel) ?? text(tags.Lens),
    gps: gpsPosition(tags),
    orientation: orientation(tags.Orientation),
  };
}

async function parseTags(input: Buffer): Promise<Tags | null> {
  try {
    const parsed: unknown = await exifr.parse(input, EXIFR_OPTIONS);
    return parsed && typeof parsed === "object" ? (parsed as Tags) : null;
  } catch {
    return null;
  }
}

/** The EXIF block sharp returns starts with "Exif\0\0"; exifr wants the TIFF structure after it. */
function tiffBody(exifBlock: Buffer): Buffer {
  return exifBlock.subarray(0, 6).toString("latin1") === "Exif\u0000\u0000"
    ? exifBlock.subarray(6)
    : exifBlock;
}

/**
 * Capture metadata, read with exifr from the file and, where exifr cannot walk the container (some HEIC, WebP),
 * from the EXIF block libvips extracted. Broken EXIF never fails the image: unknown fields are null.
 */
export async function readPhotoMetadata(bytes: Buffer, exifBlock?: Buffer): Promise<PhotoMetadata> {
  const fromFile = await parseTags(bytes);
  const fromBlock = exifBlock && exifBlock.length > 8 ? await parseTags(tiffBody(exifBlock)) : null;
  if (!fromFile && !fromBlock) return { ...EMPTY_METADATA };
  // The file's own tags first: libvips may have rewritten Orientation in its copy after applying it.
  return photoMetadataFromTags({ ...fromBlock, ...stripUndefined(fromFile ?? {}) });
}

function stripUndefined(tags: Tags): Tags {
  return Object.fromEntries(
    Object.entries(tags).filter(([, value]) => value !== undefined && value !== null),
  );
}

/**
 * Camera RAW files in a TIFF structure (NEF, some IIQ...) open with a small preview flagged as a reduced-resolution
 * image (NewSubfileType bit 0) and keep the sensor data in SubIFDs; a photo saved as TIFF does neither.
 */
export async function isRawCameraTiff(bytes: Buffer): Promise<boolean> {
  try {
    const parsed: unknown = await exifr.parse(bytes, {
      tiff: true,
      exif: false,
      gps: false,
      translateKeys: false,
      reviveValues: false,
      pick: [0xfe],
    });
    const subfileType =
      parsed && typeof parsed === "object" ? (parsed as Record<number, unknown>)[0xfe] : null;
    return typeof subfileType === "number" && (subfileType & 1) === 1;
  } catch {
    return false;
  }
}
