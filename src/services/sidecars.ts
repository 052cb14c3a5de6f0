import { readdir } from "node:fs/promises";
import path from "node:path";

/**
 * Sidecars: files next to a photo that describe it. XMP sidecars are `name.xmp` (Lightroom, darktable's
 * default is `name.ext.xmp`, digiKam reads both); Google Takeout writes `name.ext.json`, since 2024
 * `name.ext.supplemental-metadata.json`, cutting names to 51 characters and numbering duplicates
 * `name.ext(1).json` for `name(1).ext`. Sidecars are read with their photo, never ingested as photos.
 */
export function isSidecarName(file: string): boolean {
  return /\.(xmp|json)$/i.test(file);
}

const TAKEOUT_SUFFIX = ".supplemental-metadata";
/** Takeout keeps a sidecar's name (without ".json") to this many characters. */
const TAKEOUT_NAME_CHARS = 46;

/** The sidecars of `photo` among the names of its folder (case-insensitive). */
export function sidecarsAmong(photo: string, names: readonly string[]): string[] {
  const name = path.basename(photo);
  const { name: stem, ext } = path.parse(name);
  const wanted = new Set([`${stem}.xmp`, `${name}.xmp`].map((n) => n.toLowerCase()));
  // Takeout: name(1).ext -> name.ext(1).json; name-edited.ext shares the original's sidecar.
  const numbered = /^(.*)(\(\d+\))$/.exec(stem);
  const edited = /^(.*)-edited$/i.exec(stem);
  const takeoutBases = numbered
    ? [{ base: `${numbered[1]}${ext}`, tail: numbered[2] }]
    : [{ base: edited ? `${edited[1]}${ext}` : name, tail: "" }];
  if (edited) takeoutBases.push({ base: name, tail: "" });
  const matches = names.filter((candidate) => {
    const lower = candidate.toLowerCase();
    if (wanted.has(lower)) return true;
    if (!lower.endsWith(".json")) return false;
    const base = lower.slice(0, -".json".length);
    return takeoutBases.some(({ base: photoName, tail }) => {
      const full = `${photoName}${TAKEOUT_SUFFIX}`.toLowerCase();
      const plain = `${photoName.toLowerCase()}${tail}`;
      if (base === plain || base === `${full}${tail}`) return true;
      // Cut names: a prefix of "name.ext.supplemental-metadata", or of a long name itself.
      const untailed = tail && base.endsWith(tail) ? base.slice(0, -tail.length) : base;
      if (untailed.length < photoName.length + 2 && untailed.length < TAKEOUT_NAME_CHARS) return false;
      return full.startsWith(untailed);
    });
  });
  return matches.map((m) => path.join(path.dirname(photo), m));
}

/** Finds the sidecars next to a photo on disk; `listings` caches each folder's names across calls. */
export async function findSidecars(
  photo: string,
  listings: Map<string, Promise<string[]>> = new Map(),
): Promise<string[]> {
  const folder = path.dirname(photo);
  let names = listings.get(folder);
  if (!names) {
    names = readdir(folder).then(
      (entries) => entries.filter(isSidecarName),
      () => [],
    );
    listings.set(folder, names);
  }
  return sidecarsAmong(photo, await names);
}
