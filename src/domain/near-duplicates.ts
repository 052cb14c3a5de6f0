/**
 * Near-duplicates: the same picture resized, re-compressed, converted to another format or lightly cropped.
 *
 * Each photo gets six 64-bit DCT perceptual hashes (pHash) of its luminance: one of the whole frame and five
 * of 90% windows (centre and the four corners). Two photos match when the whole frame of one is within
 * MATCH_DISTANCE bits of any hash of the other: a crop of up to 10% is close to one of the original's
 * windows. Chosen by measurement on ../shared/testdata and generated variants (`npm run eval -- --only
 * duplicates`): a single whole-frame pHash or dHash misses most 10% crops; a 256-bit pHash misses 5% crops.
 */

/** Whole frame, centre 90%, then the 90% windows at the top-left, top-right, bottom-left, bottom-right. */
export const HASH_WINDOWS = 6;
/** Side of the grey square the hashes are computed from (the picture resampled, aspect ignored). */
export const HASH_INPUT_SIDE = 128;
/** Bits that may differ between a whole frame and the other photo's closest hash (cross-validated). */
export const MATCH_DISTANCE = 12;
/** Standard deviation (0-255 grey) below which a picture is flat: no hash, nothing to compare. */
const FLAT_STD = 2;
const WINDOW_SHARE = 0.9;
const DCT_SIDE = 32;
const DCT_KEEP = 8;
/** Each 64-bit hash is indexed as four 16-bit bands. */
export const BANDS = 4;
const BAND_BITS = 16;

/** A photo's perceptual hashes: HASH_WINDOWS hashes of 16 hex digits, concatenated. */
export type PerceptualHash = string;

function boxResample(
  grey: Uint8Array,
  side: number,
  x0: number,
  y0: number,
  size: number,
  n: number,
): Float64Array {
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const xa = x0 + (i * size) / n;
      const xb = x0 + ((i + 1) * size) / n;
      const ya = y0 + (j * size) / n;
      const yb = y0 + ((j + 1) * size) / n;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(y + 1, yb) - Math.max(y, ya);
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const w = (Math.min(x + 1, xb) - Math.max(x, xa)) * wy;
          if (w <= 0) continue;
          sum += grey[y * side + x]! * w;
          area += w;
        }
      }
      out[j * n + i] = sum / area;
    }
  }
  return out;
}

const COSINES = (() => {
  const table = new Float64Array(DCT_KEEP * DCT_SIDE);
  for (let u = 0; u < DCT_KEEP; u++) {
    for (let x = 0; x < DCT_SIDE; x++)
      table[u * DCT_SIDE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * DCT_SIDE));
  }
  return table;
})();

/** 64 bits as 16 hex digits: the 63 lowest DCT frequencies but the mean, each above or below their median. */
function phash64(pixels: Float64Array): string {
  const n = DCT_SIDE;
  const k = DCT_KEEP;
  const rows = new Float64Array(k * n);
  for (let u = 0; u < k; u++) {
    for (let y = 0; y < n; y++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += pixels[y * n + x]! * COSINES[u * n + x]!;
      rows[u * n + y] = s;
    }
  }
  const coefficients: number[] = [];
  for (let v = 0; v < k; v++) {
    for (let u = 0; u < k; u++) {
      if (u === 0 && v === 0) continue;
      let s = 0;
      for (let y = 0; y < n; y++) s += rows[u * n + y]! * COSINES[v * n + y]!;
      coefficients.push(s);
    }
  }
  const sorted = [...coefficients].sort((a, b) => a - b);
  const median = sorted[(sorted.length - 1) >> 1]!;
  let hex = "";
  // 63 coefficients and a last bit of 0: 16 groups of 4 bits.
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let b = 0; b < 4; b++) {
      const c = coefficients[nibble * 4 + b];
      value = (value << 1) | (c !== undefined && c > median ? 1 : 0);
    }
    hex += value.toString(16);
  }
  return hex;
}

/**
 * The perceptual hashes of a picture given as a HASH_INPUT_SIDE square of grey levels (0-255, row major),
 * or null for a flat picture (one colour, or nearly), which would match every other flat picture.
 */
export function perceptualHash(grey: Uint8Array): PerceptualHash | null {
  const side = HASH_INPUT_SIDE;
  if (grey.length !== side * side) throw new Error(`perceptualHash needs ${side}x${side} grey levels`);
  let sum = 0;
  let squares = 0;
  for (const v of grey) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / grey.length;
  if (Math.sqrt(Math.max(0, squares / grey.length - mean * mean)) < FLAT_STD) return null;
  const w = side * WINDOW_SHARE;
  const o = side - w;
  const windows: [number, number, number][] = [
    [0, 0, side],
    [o / 2, o / 2, w],
    [0, 0, w],
    [o, 0, w],
    [0, o, w],
    [o, o, w],
  ];
  return windows.map(([x, y, size]) => phash64(boxResample(grey, side, x, y, size, DCT_SIDE))).join("");
}

/** The hash of one window (0: the whole frame). */
export function windowHash(hash: PerceptualHash, window: number): string {
  return hash.slice(window * 16, window * 16 + 16);
}

export function isPerceptualHash(value: unknown): value is PerceptualHash {
  return typeof value === "string" && new RegExp(`^[0-9a-f]{${HASH_WINDOWS * 16}}$`).test(value);
}

function popcount16(x: number): number {
  let v = x - ((x >> 1) & 0x5555);
  v = (v & 0x3333) + ((v >> 2) & 0x3333);
  v = (v + (v >> 4)) & 0x0f0f;
  return (v + (v >> 8)) & 0x1f;
}

function distance64(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < 16; i += 4)
    d += popcount16(Number.parseInt(a.slice(i, i + 4), 16) ^ Number.parseInt(b.slice(i, i + 4), 16));
  return d;
}

/**
 * How far apart two photos are: the fewest differing bits between the whole frame of one and any hash of
 * the other (so a lightly cropped copy is near one of the original's windows). 0 is identical; a match
 * is at most MATCH_DISTANCE.
 */
export function hashDistance(a: PerceptualHash, b: PerceptualHash): number {
  const fullA = windowHash(a, 0);
  const fullB = windowHash(b, 0);
  let best = distance64(fullA, fullB);
  for (let w = 1; w < HASH_WINDOWS && best > 0; w++) {
    best = Math.min(best, distance64(fullA, windowHash(b, w)), distance64(windowHash(a, w), fullB));
  }
  return best;
}

/**
 * The index keys a photo is stored under: each band (16 bits) of each window hash, tagged with its window
 * and band, so a lookup is an exact match on an indexed integer.
 */
export function hashKeys(hash: PerceptualHash): number[] {
  const keys: number[] = [];
  for (let w = 0; w < HASH_WINDOWS; w++) {
    const h = windowHash(hash, w);
    for (let b = 0; b < BANDS; b++) keys.push(bandKey(w, b, Number.parseInt(h.slice(b * 4, b * 4 + 4), 16)));
  }
  return keys;
}

function bandKey(window: number, band: number, value: number): number {
  return (window * BANDS + band) * 2 ** BAND_BITS + value;
}

/**
 * The keys to look up to find the photos a new one may match (multi-index hashing). Whole frame against
 * whole frame (re-encoded, resized, converted copies) probes each band as it is and with each one bit
 * flipped: every stored photo within 7 bits is found for sure (one of four bands differs by at most one
 * bit). Crops (whole frame against a window, either way) probe exact bands only, which keeps a lookup to
 * about a hundred candidates at 100,000 photos. `npm run eval` reports what the lookup misses.
 */
export function candidateKeys(hash: PerceptualHash): number[] {
  const keys = new Set<number>();
  const probe = (storedWindow: number, h: string, flips: boolean) => {
    for (let b = 0; b < BANDS; b++) {
      const value = Number.parseInt(h.slice(b * 4, b * 4 + 4), 16);
      keys.add(bandKey(storedWindow, b, value));
      if (flips)
        for (let bit = 0; bit < BAND_BITS; bit++) keys.add(bandKey(storedWindow, b, value ^ (1 << bit)));
    }
  };
  const full = windowHash(hash, 0);
  probe(0, full, true);
  for (let w = 1; w < HASH_WINDOWS; w++) {
    probe(0, windowHash(hash, w), false);
    probe(w, full, false);
  }
  return [...keys];
}

/**
 * Sharpness as the variance of the Laplacian of grey levels (a common focus measure): blur, upscaling and
 * heavy compression lower it. Measured on the decoded preview, so only photos of the same size compare.
 */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let squares = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += l;
      squares += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return Math.round((squares / n - mean * mean) * 100) / 100;
}

export interface KeepCandidate {
  id: string;
  width: number;
  height: number;
  byteSize: number;
  sharpness: number | null;
  createdAt: string;
}

/**
 * Sharpness in steps of x1.5: re-encoding moves it by a few percent either way (JPEG blocks add edges),
 * blurring or upscaling by far more. Measured with `npm run eval -- --only duplicates` (keep table).
 */
function sharpnessStep(sharpness: number | null): number {
  return sharpness && sharpness > 0 ? Math.floor(Math.log(sharpness) / Math.log(1.5)) : -1;
}

/**
 * Orders copies of one picture best first: the largest (most pixels), then the clearly sharper, then the
 * biggest file (least compressed), then the first added. The first is the one to keep.
 */
export function compareCopies(a: KeepCandidate, b: KeepCandidate): number {
  return (
    b.width * b.height - a.width * a.height ||
    sharpnessStep(b.sharpness) - sharpnessStep(a.sharpness) ||
    b.byteSize - a.byteSize ||
    a.createdAt.localeCompare(b.createdAt) ||
    a.id.localeCompare(b.id)
  );
}

/** Groups photos linked by duplicate pairs (connected components), each group sorted, groups by first id. */
export function groupPairs(pairs: readonly { a: string; b: string }[]): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let node = x;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  for (const { a, b } of pairs) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    // The smaller id becomes the root, so groups come out the same whatever the order of the pairs.
    if (ra < rb) parent.set(rb, ra);
    else if (rb < ra) parent.set(ra, rb);
  }
  const groups = new Map<string, string[]>();
  for (const id of parent.keys()) {
    const root = find(id);
    groups.set(root, [...(groups.get(root) ?? []), id]);
  }
  return [...groups.values()].map((g) => g.sort()).sort((x, y) => x[0]!.localeCompare(y[0]!));
}
