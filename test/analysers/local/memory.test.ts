import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalAnalyser, type LocalAnalyser } from "../../../src/analysers/local/index.js";
import { DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";

const CALLS = 200;

let analyser: LocalAnalyser;
beforeAll(async () => {
  // OCR off: this checks the tfjs models (tensors) and the decode path, not tesseract's worker.
  analyser = await createLocalAnalyser({ ocr: false });
  await analyser.warmUp?.();
}, 60_000);
afterAll(async () => {
  await analyser?.close?.();
});

/** Small, varied pictures: a different colour pattern on each call. */
async function smallPicture(seed: number): Promise<Buffer> {
  const width = 48 + (seed % 5) * 8;
  const height = 40 + (seed % 3) * 8;
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * (seed + 7) + seed * 31) % 256;
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe("local analyser memory", () => {
  it(`keeps the tensor count flat and RSS steady over ${CALLS} photos, some analysed concurrently`, async () => {
    const pictures = await Promise.all(Array.from({ length: 20 }, (_, i) => smallPicture(i)));
    const run = (i: number) =>
      analyser.analyse({
        bytes: pictures[i % pictures.length]!,
        mediaType: "image/png",
        taxonomy: DEFAULT_TAXONOMY,
        language: "en",
      });
    // Warm-up: the first calls allocate kernels and pools that then stay.
    for (let i = 0; i < 20; i++) await run(i);
    const tensorsBefore = analyser.tensorCount();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < CALLS; i += 4) await Promise.all([run(i), run(i + 1), run(i + 2), run(i + 3)]);
    expect(analyser.tensorCount()).toBe(tensorsBefore);
    const growthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    expect(growthMb).toBeLessThan(80);
  }, 300_000);
});
