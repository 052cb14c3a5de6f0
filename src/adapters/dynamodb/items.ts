import type { Analysis } from "../../domain/analysis.js";
import type { ImageRecord } from "../../domain/image.js";
import type { NewImage } from "../../ports/catalog.js";
import { storableText } from "../sql/mapping.js";
import { normaliseCaptureTime } from "../sql/query.js";

/** Photos touching one counter item spread over this many copies, so concurrent writes rarely collide. */
export const COUNTER_SHARDS = 4;
/** A photo's words beyond this many distinct ones are not searchable (each one is an item to write). */
export const MAX_INDEXED_WORDS = 300;
const MAX_WORD_CHARS = 64;

/** The photo as stored: its record (the embedding aside), what it spent, and the keys of its indexes. */
export interface ImageItem {
  PK: string;
  SK: "#";
  /** Bumped by every write: a write is conditional on the version it read (optimistic locking). */
  v: number;
  rec: ImageRecord;
  /** Capture time as UTC ISO text (the upload time when unknown): the timeline's order. */
  cap: string;
  /** Effective category, status and place, for filters on pages read from another index. */
  cat?: string;
  st: string;
  pl?: string;
  jobId: string | null;
  spentIn: number;
  spentOut: number;
  spentCost: number;
  /** The words under which the photo is indexed (empty in the trash). */
  words: string[];
  /** Models of the embeddings stored beside it (`EMB#<model>` items). */
  embModels: string[];
  /** The perceptual-hash keys it is indexed under (`HASH#<key>` items). */
  hashKeys: number[];
  G1PK?: string;
  G1SK?: string;
  G2PK?: string;
  G2SK?: string;
  G3PK?: string;
  G3SK?: string;
  G4PK?: string;
  G4SK?: string;
  G5PK?: string;
  G5SK?: string;
}

/**
 * The record is kept as JSON text: one attribute instead of a deep map, cheaper to write, read and
 * project into the indexes (its fields are never conditions or keys: those are the top-level attributes).
 */
export type StoredImageItem = Omit<ImageItem, "rec"> & { rec: string };

export function toStored(item: ImageItem): StoredImageItem {
  return { ...item, rec: JSON.stringify(item.rec) };
}

export function fromStored(item: StoredImageItem | Record<string, unknown>): ImageItem {
  const stored = item as StoredImageItem;
  return { ...stored, rec: JSON.parse(stored.rec) as ImageRecord };
}

export const imageKey = (id: string) => ({ PK: `IMG#${id}`, SK: "#" as const });
export const shaKey = (sha256: string) => ({ PK: `SHA#${sha256}`, SK: "#" });

export function shardOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % COUNTER_SHARDS;
}

export function newImageRecord(image: NewImage, now: string): ImageRecord {
  const own = image.ownWords;
  const hasOwn = Boolean(own && (own.title || own.description || own.altText || own.keywords.length > 0));
  return {
    id: image.id,
    sha256: image.sha256,
    status: "queued",
    originalName: storableText(image.originalName),
    mediaType: image.mediaType,
    byteSize: image.byteSize,
    width: image.width,
    height: image.height,
    metadata: image.metadata,
    place: image.place,
    thumbhash: image.thumbhash,
    perceptualHash: image.perceptualHash,
    sharpness: image.sharpness,
    createdAt: now,
    updatedAt: now,
    trashedAt: null,
    analysis: null,
    edits: null,
    ownWords:
      hasOwn && own
        ? {
            title: own.title ? storableText(own.title) : null,
            description: own.description ? storableText(own.description) : null,
            keywords: own.keywords.map((k) => storableText(k)),
            altText: own.altText ? storableText(own.altText) : null,
            sources: own.sources,
          }
        : null,
    metadataNotes: (image.metadataNotes ?? []).map((n) => storableText(n)),
    error: null,
  };
}

/** The analysis as the record keeps it: the embedding lives in its own item. */
export function storedAnalysis(analysis: Analysis): Analysis {
  const { embedding: _embedding, ...rest } = analysis;
  return rest;
}

export const effectiveCategory = (rec: ImageRecord) => rec.edits?.category ?? rec.analysis?.category ?? null;

/** Lower case without accents, letters and digits only: the same folding for what is stored and what is asked. */
export function foldWords(text: string): string[] {
  return (
    text
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).map((w) => w.slice(0, MAX_WORD_CHARS));
}

/**
 * The words a search finds a photo by, as the SQL catalogues index them: the summary (edited or analysed),
 * its own title and description, the tags (edited or analysed) and its own keywords, the category, the
 * visible text and the file name.
 */
export function indexedWords(rec: ImageRecord): string[] {
  const a = rec.analysis;
  const e = rec.edits;
  const own = rec.ownWords;
  const parts = [
    e?.summary ?? a?.summary ?? "",
    own?.title ?? "",
    own?.description ?? "",
    ...(e?.tags ?? a?.tags ?? []),
    ...(own?.keywords ?? []),
    effectiveCategory(rec) ?? "",
    a?.text ?? "",
    rec.originalName,
  ];
  const words = new Set<string>();
  for (const part of parts) {
    for (const word of foldWords(part)) {
      words.add(word);
      if (words.size >= MAX_INDEXED_WORDS) return [...words];
    }
  }
  return [...words];
}

/** Recomputes everything derived from the record: filter attributes, index keys, indexed words. */
export function deriveItem(item: Omit<ImageItem, "cap" | `G${number}${"PK" | "SK"}`>): ImageItem {
  const rec = item.rec;
  const cap = normaliseCaptureTime(rec.metadata.takenAt, rec.createdAt);
  const added = `${rec.createdAt}#${rec.id}`;
  const category = effectiveCategory(rec);
  const live = !rec.trashedAt;
  const out: ImageItem = {
    PK: item.PK,
    SK: item.SK,
    v: item.v,
    rec,
    cap,
    st: rec.status,
    jobId: item.jobId,
    spentIn: item.spentIn,
    spentOut: item.spentOut,
    spentCost: item.spentCost,
    words: live ? indexedWords(rec) : [],
    embModels: item.embModels,
    hashKeys: item.hashKeys,
  };
  if (category) out.cat = category;
  if (rec.place) out.pl = rec.place;
  if (!live) {
    out.G1PK = "TRASH";
    out.G1SK = `${rec.trashedAt}#${rec.id}`;
    return out;
  }
  out.G1PK = "ADDED";
  out.G1SK = added;
  out.G2PK = "TAKEN";
  out.G2SK = `${cap}#${rec.id}`;
  if (category) {
    out.G3PK = `CAT#${category}`;
    out.G3SK = added;
  }
  out.G4PK = `ST#${rec.status}`;
  out.G4SK = added;
  if (rec.place) {
    out.G5PK = `PL#${rec.place}`;
    out.G5SK = added;
  }
  return out;
}

/** What one photo adds to the counters (`STATS#<shard>` items): nothing while in the trash. */
export function counterContributions(item: ImageItem | null): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  if (!item || item.rec.trashedAt) return out;
  const rec = item.rec;
  out.set("TOTAL", {
    images: 1,
    [`st_${rec.status}`]: 1,
    inputTokens: item.spentIn,
    outputTokens: item.spentOut,
    costUsd: item.spentCost,
  });
  if (item.cat) out.set(`CAT#${item.cat}`, { n: 1 });
  if (rec.analysis) {
    const p = rec.analysis.provenance;
    out.set(`MODEL#${p.provider}\t${p.model}`, { n: 1, cost: p.costUsd });
  }
  out.set(`MONTH#${item.cap.slice(0, 7)}`, { n: 1 });
  const gps = rec.metadata.gps;
  if (rec.place && gps) out.set(`PLACE#${rec.place}`, { n: 1, lat: gps.latitude, lon: gps.longitude });
  return out;
}

/** The counter changes from one state of a photo to the next. */
export function counterDeltas(before: ImageItem | null, after: ImageItem | null) {
  const a = counterContributions(before);
  const b = counterContributions(after);
  const deltas = new Map<string, Record<string, number>>();
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const delta: Record<string, number> = {};
    const was = a.get(key) ?? {};
    const now = b.get(key) ?? {};
    for (const attr of new Set([...Object.keys(was), ...Object.keys(now)])) {
      const d = (now[attr] ?? 0) - (was[attr] ?? 0);
      if (d !== 0) delta[attr] = d;
    }
    if (Object.keys(delta).length > 0) deltas.set(key, delta);
  }
  return deltas;
}

/** One word of one photo: sorted newest added first, with what the other filters need. */
export function wordItems(item: ImageItem) {
  const ws = ` ${item.words.join(" ")} `;
  return item.words.map((word) => ({
    PK: `W#${word}`,
    SK: `${item.rec.createdAt}#${item.rec.id}`,
    id: item.rec.id,
    ws,
    st: item.st,
    cap: item.cap,
    ...(item.cat ? { cat: item.cat } : {}),
    ...(item.pl ? { pl: item.pl } : {}),
  }));
}

export const vocabularyKey = (word: string) => ({ PK: `V#${[...word][0]}`, SK: word });
