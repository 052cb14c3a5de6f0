/**
 * Dominant colours named as a person would say them ("blue", "dark green"), for factual summaries and search.
 * Each pixel takes the name of the nearest reference colour in CIELAB (perceptually even), then names are ranked
 * by the share of the picture they cover.
 */
const REFERENCE_COLOURS: ReadonlyArray<readonly [name: string, hex: string]> = [
  ["black", "#0a0a0a"],
  ["dark grey", "#3c3c3c"],
  ["grey", "#808080"],
  ["light grey", "#c4c4c4"],
  ["white", "#f8f8f8"],
  ["red", "#c8201e"],
  ["dark red", "#6e1414"],
  ["pink", "#f0a0b4"],
  ["orange", "#ec7a1c"],
  ["brown", "#7a4a24"],
  ["beige", "#d8c4a0"],
  ["yellow", "#f0d22c"],
  ["olive", "#7a7a2a"],
  ["green", "#3c9a3c"],
  ["dark green", "#1e4a24"],
  ["light green", "#a0d27a"],
  ["teal", "#1e7a7a"],
  ["turquoise", "#40c8c8"],
  ["light blue", "#9cc8ec"],
  ["blue", "#2a5ec8"],
  ["dark blue", "#1c2850"],
  ["purple", "#783ca0"],
  ["magenta", "#c83ca0"],
];

/** A name must cover this share of the picture to count as dominant... */
const DOMINANT_SHARE = 0.05;
/** ...but up to three names are given while each still covers this much. */
const MINOR_SHARE = 0.01;
const MAX_NAMES = 5;
const MIN_NAMES = 3;

const SRGB_TO_LINEAR = Float64Array.from({ length: 256 }, (_, value) => {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

type Lab = [number, number, number];

function labOf(r: number, g: number, b: number): Lab {
  const rl = SRGB_TO_LINEAR[r]!;
  const gl = SRGB_TO_LINEAR[g]!;
  const bl = SRGB_TO_LINEAR[b]!;
  // sRGB (D65) -> XYZ, normalised by the D65 white point.
  const x = (0.4124 * rl + 0.3576 * gl + 0.1805 * bl) / 0.95047;
  const y = 0.2126 * rl + 0.7152 * gl + 0.0722 * bl;
  const z = (0.0193 * rl + 0.1192 * gl + 0.9505 * bl) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116);
  const fx = f(x);
  const fy = f(y);
  const fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const REFERENCE_LABS = REFERENCE_COLOURS.map(([, hex]) => {
  const value = Number.parseInt(hex.slice(1), 16);
  return labOf((value >> 16) & 255, (value >> 8) & 255, value & 255);
});

// Pixels are looked up at 5 bits per channel: 32768 cells, each named once.
const nameCache = new Int8Array(32768).fill(-1);

function nearestReference(r: number, g: number, b: number): number {
  const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
  const cached = nameCache[key]!;
  if (cached >= 0) return cached;
  const [l, a, bb] = labOf((r & 0xf8) | 4, (g & 0xf8) | 4, (b & 0xf8) | 4);
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  REFERENCE_LABS.forEach(([rl, ra, rb], index) => {
    const distance = (l - rl) ** 2 + (a - ra) ** 2 + (bb - rb) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  nameCache[key] = best;
  return best;
}

/**
 * Names the 3-5 colours covering most of an RGBA image (fewer when the picture really has fewer, e.g. a plain
 * background). Transparent pixels are ignored. Meant for small images (the 100 px thumbhash source).
 */
export function dominantColourNames(rgba: Uint8Array, width: number, height: number): string[] {
  const counts = new Uint32Array(REFERENCE_COLOURS.length);
  let total = 0;
  for (let i = 0; i + 3 < Math.min(rgba.length, width * height * 4); i += 4) {
    if (rgba[i + 3]! < 128) continue;
    counts[nearestReference(rgba[i]!, rgba[i + 1]!, rgba[i + 2]!)]!++;
    total++;
  }
  if (total === 0) return [];
  const ranked = [...counts.entries()]
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([index, count]) => ({ name: REFERENCE_COLOURS[index]![0], share: count / total }));
  const names: string[] = [];
  for (const { name, share } of ranked) {
    if (names.length >= MAX_NAMES) break;
    if (share >= DOMINANT_SHARE || (names.length < MIN_NAMES && share >= MINOR_SHARE)) names.push(name);
  }
  return names;
}
