import type { RgbImage } from "./pixels.js";

/** Colour and layout statistics of a small thumbnail: cheap cues for scenes, drawings and documents. */
export interface ColourStats {
  /** Named colours covering at least 12% of the picture, most common first. */
  dominant: string[];
  saturationMean: number;
  lightnessMean: number;
  lightnessStd: number;
  /** Share of near-white and near-black pixels. */
  whiteShare: number;
  darkShare: number;
  /** Share of distinct colours among 4,096 possible (4 bits per channel), on a log scale 0..1. */
  colourVariety: number;
  /** Share of neighbouring pixel pairs with a strong lightness step. */
  edgeDensity: number;
  /** Share of pixels equal to the single most common quantised colour: high for flat graphics. */
  flatShare: number;
  /** Blue/sky share in the top third, green/vegetation share in the bottom third. */
  skyTop: number;
  greenBottom: number;
  /** Clear blue in the top third (a blue sky), blue in the bottom third (water), white or pale grey with little
   *  colour in the bottom third (snow, or a white floor or page). */
  blueTop: number;
  blueBottom: number;
  whiteBottom: number;
}

function hsl(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  let h: number;
  if (max === r) h = ((g - b) / d + (g < b ? 6 : 0)) * 60;
  else if (max === g) h = ((b - r) / d + 2) * 60;
  else h = ((r - g) / d + 4) * 60;
  return [h, s, l];
}

export function colourName(h: number, s: number, l: number): string {
  if (l < 0.12) return "black";
  if (l > 0.9 && s < 0.5) return "white";
  if (s < 0.15) return l > 0.65 ? "light grey" : "grey";
  if ((h < 45 || h >= 345) && l < 0.35) return "brown";
  if (h < 15 || h >= 345) return l > 0.7 ? "pink" : "red";
  if (h < 45) return l < 0.5 && s < 0.6 ? "brown" : "orange";
  if (h < 70) return l < 0.35 ? "olive" : "yellow";
  if (h < 165) return "green";
  if (h < 195) return "teal";
  if (h < 255) return "blue";
  if (h < 290) return "purple";
  return "pink";
}

export function colourStats(image: RgbImage): ColourStats {
  const { data, width, height } = image;
  const n = width * height;
  const names = new Map<string, number>();
  const bins = new Map<number, number>();
  const light = new Float32Array(n);
  let satSum = 0;
  let lightSum = 0;
  let lightSq = 0;
  let white = 0;
  let dark = 0;
  let skyTop = 0;
  let greenBottom = 0;
  let blueTop = 0;
  let blueBottom = 0;
  let whiteBottom = 0;
  for (let i = 0; i < n; i++) {
    const r = data[i * 3]! / 255;
    const g = data[i * 3 + 1]! / 255;
    const b = data[i * 3 + 2]! / 255;
    const [h, s, l] = hsl(r, g, b);
    light[i] = l;
    satSum += s;
    lightSum += l;
    lightSq += l * l;
    if (l > 0.9 && s < 0.3) white++;
    if (l < 0.12) dark++;
    const name = colourName(h, s, l);
    names.set(name, (names.get(name) ?? 0) + 1);
    const bin = ((data[i * 3]! >> 4) << 8) | ((data[i * 3 + 1]! >> 4) << 4) | (data[i * 3 + 2]! >> 4);
    bins.set(bin, (bins.get(bin) ?? 0) + 1);
    const row = Math.floor(i / width);
    if (row < height / 3 && (name === "blue" || name === "light grey" || name === "white")) skyTop++;
    if (row < height / 3 && name === "blue") blueTop++;
    if (row >= (2 * height) / 3) {
      if (name === "green" || name === "olive") greenBottom++;
      if (name === "blue" || name === "teal") blueBottom++;
      if ((name === "white" || name === "light grey") && s < 0.2) whiteBottom++;
    }
  }
  let edges = 0;
  let pairs = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = light[y * width + x]!;
      if (x + 1 < width) {
        pairs++;
        if (Math.abs(l - light[y * width + x + 1]!) > 0.15) edges++;
      }
      if (y + 1 < height) {
        pairs++;
        if (Math.abs(l - light[(y + 1) * width + x]!) > 0.15) edges++;
      }
    }
  }
  const lightnessMean = lightSum / n;
  const dominant = [...names.entries()]
    .filter(([, count]) => count / n >= 0.12)
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name);
  return {
    dominant,
    saturationMean: satSum / n,
    lightnessMean,
    lightnessStd: Math.sqrt(Math.max(0, lightSq / n - lightnessMean * lightnessMean)),
    whiteShare: white / n,
    darkShare: dark / n,
    colourVariety: Math.log(bins.size) / Math.log(4096),
    edgeDensity: pairs ? edges / pairs : 0,
    flatShare: Math.max(...bins.values()) / n,
    skyTop: skyTop / (n / 3),
    greenBottom: greenBottom / (n / 3),
    blueTop: blueTop / (n / 3),
    blueBottom: blueBottom / (n / 3),
    whiteBottom: whiteBottom / (n / 3),
  };
}
