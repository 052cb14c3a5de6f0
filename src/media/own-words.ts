import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import exifr from "exifr";
import { z } from "zod";
import { cleanText, LIMITS } from "../domain/analysis.js";
import type { GpsPosition, OwnWords } from "../domain/image.js";
import { findXmpPacket, NS, parseXmp } from "./xmp.js";

/** Words found in one place (the file's XMP, its IPTC, a sidecar...), not yet cleaned or merged. */
export interface FoundWords {
  source: string;
  title?: string | null;
  description?: string | null;
  keywords?: string[];
  altText?: string | null;
}

/** What reading a photo's metadata and sidecars gave: the words, what could not be read, Takeout's facts. */
export interface MetadataReading {
  found: FoundWords[];
  notes: string[];
  /** Capture time and place from a Google Takeout sidecar: used only where the file's EXIF has none. */
  takeout?: { takenAt: string | null; gps: GpsPosition | null };
}

/** Sidecars are read whole: larger files are refused with a note. */
export const MAX_SIDECAR_BYTES = 1024 * 1024;

/** Defaults that cameras and phones write into ImageDescription: not anybody's words. */
const CAMERA_DEFAULTS =
  /^(?:[A-Z0-9 ._-]*DIGITAL CAMERA|DCF \d.*|SONY DSC|DSC|DCIM.*|default|Exif_JPEG(?:_PICTURE)?|JPEG|image|picture|photo|Created with GIMP|LEICA.*|[A-Z]:?\\.*|IMG[_-]?\d+(?:\.\w{2,4})?|DSC[FN]?\d+(?:\.\w{2,4})?)$/i;

function asText(value: unknown): string | null {
  if (typeof value === "string") return value;
  // Windows XP* tags are UCS-2 bytes.
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) {
    return Buffer.from(value as number[])
      .toString("utf16le")
      .replace(/\0+$/, "");
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const bytes = Object.values(value);
    if (bytes.every((v) => typeof v === "number")) return asText(bytes);
  }
  return null;
}

function asList(value: unknown): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  const text = asText(value);
  return text ? [text] : [];
}

const nonEmpty = (values: readonly string[]) => values.map((v) => v.trim()).filter(Boolean);

/** The words of an XMP packet (embedded or sidecar), or a note saying why they could not be read. */
export function wordsFromXmp(xml: string, source: string): FoundWords {
  const xmp = parseXmp(xml);
  const first = (ns: string, name: string) => nonEmpty(xmp.get(ns, name))[0] ?? null;
  return {
    source,
    title: first(NS.dc, "title") ?? first(NS.photoshop, "Headline"),
    description: first(NS.dc, "description"),
    keywords: nonEmpty(xmp.get(NS.dc, "subject")),
    altText: first(NS.Iptc4xmpCore, "AltTextAccessibility"),
  };
}

type ExifrOptions = NonNullable<Exclude<Parameters<typeof exifr.parse>[1], boolean | (string | number)[]>>;

const EXIFR_OPTIONS: ExifrOptions = {
  tiff: true,
  exif: false,
  gps: false,
  ifd1: false,
  interop: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  icc: false,
  iptc: true,
  jfif: false,
  ihdr: false,
  translateValues: false,
  reviveValues: false,
  mergeOutput: false,
};

/**
 * The words a photo file carries: its XMP packet (any container), IPTC (Caption-Abstract, Keywords,
 * Object Name, Headline) and EXIF (ImageDescription, Windows XPTitle/XPComment/XPKeywords). Broken metadata
 * never fails the photo: it becomes a note.
 */
export async function readEmbeddedWords(bytes: Buffer): Promise<MetadataReading> {
  const found: FoundWords[] = [];
  const notes: string[] = [];
  const packet = findXmpPacket(bytes);
  if (packet && "tooLarge" in packet) {
    notes.push(`the embedded XMP (${Math.round(packet.tooLarge / 1024)} KB) is too large and was not read`);
  } else if (packet) {
    try {
      found.push(wordsFromXmp(packet.xml, "xmp"));
    } catch (error) {
      notes.push(`the embedded XMP was not read: ${(error as Error).message}`);
    }
  }
  let tags: Record<string, Record<string, unknown> | undefined> | undefined;
  try {
    tags = (await exifr.parse(bytes, EXIFR_OPTIONS)) as typeof tags;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Formats exifr does not walk (GIF, WebP, BMP, some RAW) say so; that is no fault of the photo.
    if (!/unknown file format|invalid input argument/i.test(message)) {
      notes.push(`the EXIF/IPTC metadata could not be read (${message.slice(0, 120)})`);
    }
  }
  const iptc = tags?.iptc;
  if (iptc) {
    found.push({
      source: "iptc",
      title: asText(iptc.ObjectName) ?? asText(iptc.Headline),
      description: asText(iptc.Caption),
      keywords: nonEmpty(asList(iptc.Keywords)),
    });
  }
  const ifd0 = tags?.ifd0;
  if (ifd0) {
    const description = asText(ifd0.ImageDescription)?.trim() ?? null;
    found.push({
      source: "exif",
      title: asText(ifd0.XPTitle),
      description: description && !CAMERA_DEFAULTS.test(description) ? description : asText(ifd0.XPComment),
      keywords: nonEmpty((asText(ifd0.XPKeywords) ?? "").split(";")),
    });
  }
  return { found, notes };
}

/** An XMP sidecar's words (name.xmp, name.ext.xmp). */
export function readXmpSidecar(bytes: Buffer, name: string): MetadataReading {
  const packet = findXmpPacket(bytes);
  if (!packet) return { found: [], notes: [`the sidecar ${name} holds no XMP`] };
  if ("tooLarge" in packet)
    return { found: [], notes: [`the sidecar ${name} is too large and was not read`] };
  try {
    return { found: [wordsFromXmp(packet.xml, "xmp sidecar")], notes: [] };
  } catch (error) {
    return { found: [], notes: [`the sidecar ${name} was not read: ${(error as Error).message}`] };
  }
}

const takeoutSchema = z.looseObject({
  title: z.string().optional(),
  description: z.string().optional(),
  photoTakenTime: z.looseObject({ timestamp: z.union([z.string(), z.number()]) }).optional(),
  geoData: z
    .looseObject({ latitude: z.number(), longitude: z.number(), altitude: z.number().optional() })
    .optional(),
  geoDataExif: z
    .looseObject({ latitude: z.number(), longitude: z.number(), altitude: z.number().optional() })
    .optional(),
});

function takeoutPosition(geo: { latitude: number; longitude: number; altitude?: number } | undefined) {
  if (!geo || (geo.latitude === 0 && geo.longitude === 0)) return null; // Takeout writes 0,0 for "unknown".
  if (Math.abs(geo.latitude) > 90 || Math.abs(geo.longitude) > 180) return null;
  return { latitude: geo.latitude, longitude: geo.longitude, altitude: geo.altitude ?? null };
}

/**
 * A Google Takeout sidecar (name.ext.json, name.ext.supplemental-metadata.json): the caption typed in Google
 * Photos, and the capture time and place Google kept (which may be missing from the file's own EXIF).
 */
export function readTakeoutSidecar(bytes: Buffer, name: string): MetadataReading {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    const reason = error instanceof RangeError ? "nested too deeply" : "not valid JSON";
    return { found: [], notes: [`the sidecar ${name} was not read: ${reason}`] };
  }
  const parsed = takeoutSchema.safeParse(json);
  if (!parsed.success) {
    return { found: [], notes: [`the sidecar ${name} is not a Google Takeout photo description`] };
  }
  const t = parsed.data;
  const seconds = Number(t.photoTakenTime?.timestamp);
  const takenAt =
    Number.isFinite(seconds) && seconds > 0 && seconds < 7_258_118_400 // before 2200
      ? new Date(seconds * 1000).toISOString().replace(".000Z", "Z")
      : null;
  return {
    // Takeout's title is the file name, not a title anybody wrote.
    found: [{ source: "takeout", description: t.description?.trim() ? t.description : null }],
    notes: [],
    takeout: { takenAt, gps: takeoutPosition(t.geoData) ?? takeoutPosition(t.geoDataExif) },
  };
}

/**
 * One set of own words from everything found, field by field in the order given (sidecars before the file,
 * XMP before IPTC before EXIF): cleaned of control characters and capped like the analysis text, with a note
 * for whatever had to be cut.
 */
export function mergeOwnWords(found: readonly FoundWords[], notes: string[]): OwnWords | null {
  const sources = new Set<string>();
  const pick = (field: "title" | "description" | "altText", max: number, label: string) => {
    for (const words of found) {
      const value = words[field];
      if (!value?.trim()) continue;
      const cleaned = cleanText(value.replace(/\s*\n\s*/g, "\n"), max);
      if (!cleaned) continue;
      if (cleaned.length < value.trim().length && cleaned.endsWith("…")) {
        notes.push(`the ${label} from ${words.source} was cut to ${max} characters`);
      }
      sources.add(words.source);
      return cleaned;
    }
    return null;
  };
  const title = pick("title", LIMITS.ownTitleChars, "title");
  const description = pick("description", LIMITS.ownDescriptionChars, "description");
  const altText = pick("altText", LIMITS.altTextChars, "alt text");
  let keywords: string[] = [];
  for (const words of found) {
    if (!words.keywords?.length) continue;
    const seen = new Set<string>();
    for (const keyword of words.keywords) {
      const cleaned = cleanText(keyword.replace(/\s+/g, " "), LIMITS.ownKeywordChars);
      if (cleaned && !seen.has(cleaned.toLowerCase())) {
        seen.add(cleaned.toLowerCase());
        keywords.push(cleaned);
      }
    }
    if (keywords.length > LIMITS.ownKeywords) {
      notes.push(
        `${keywords.length - LIMITS.ownKeywords} keywords from ${words.source} past the first ${LIMITS.ownKeywords} were left out`,
      );
      keywords = keywords.slice(0, LIMITS.ownKeywords);
    }
    if (keywords.length) {
      sources.add(words.source);
      break;
    }
  }
  if (!title && !description && !altText && keywords.length === 0) return null;
  return { title, description, keywords, altText, sources: [...sources] };
}

/** Reads the sidecars found next to a photo; a sidecar that cannot be read becomes a note. */
export async function readSidecars(paths: readonly string[]): Promise<MetadataReading> {
  const reading: MetadataReading = { found: [], notes: [] };
  // XMP sidecars first: they are what photo managers write when they leave the file alone.
  const ordered = [...paths].sort((a, b) => Number(isTakeout(a)) - Number(isTakeout(b)));
  for (const file of ordered) {
    const name = path.basename(file);
    let bytes: Buffer;
    try {
      const info = await stat(file);
      if (info.size > MAX_SIDECAR_BYTES) {
        reading.notes.push(`the sidecar ${name} is over ${MAX_SIDECAR_BYTES / 1048576} MB and was not read`);
        continue;
      }
      bytes = await readFile(file);
    } catch (error) {
      reading.notes.push(
        `the sidecar ${name} could not be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
      continue;
    }
    const result = isTakeout(file) ? readTakeoutSidecar(bytes, name) : readXmpSidecar(bytes, name);
    reading.found.push(...result.found);
    reading.notes.push(...result.notes);
    reading.takeout ??= result.takeout;
  }
  return reading;
}

function isTakeout(file: string): boolean {
  return file.toLowerCase().endsWith(".json");
}
