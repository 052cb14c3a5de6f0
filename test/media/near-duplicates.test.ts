import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  candidateKeys,
  compareCopies,
  groupPairs,
  HASH_INPUT_SIDE,
  hashDistance,
  hashKeys,
  isPerceptualHash,
  laplacianVariance,
  MATCH_DISTANCE,
  perceptualHash,
} from "../../src/domain/near-duplicates.js";
import { inspectImage } from "../../src/media/inspect.js";
import { sceneImage } from "./fixtures.js";

const inspect = async (bytes: Buffer) => inspectImage(bytes, { maxPixels: 1e8 });

describe("perceptual hashes at ingest", () => {
  it("match the same picture resized, re-compressed, converted and lightly cropped", async () => {
    const png = await sceneImage(800, 600, 1);
    const original = await inspect(png);
    expect(isPerceptualHash(original.perceptualHash)).toBe(true);
    const variants = {
      "half size JPEG": sharp(png).resize(400).jpeg({ quality: 80 }),
      "JPEG q30": sharp(png).jpeg({ quality: 30 }),
      "WebP q50": sharp(png).webp({ quality: 50 }),
      AVIF: sharp(png).avif({ quality: 50, effort: 0 }),
      "5% cropped off the right": sharp(png).extract({ left: 0, top: 0, width: 760, height: 600 }).jpeg(),
      "10% cropped off the top and left": sharp(png)
        .extract({ left: 80, top: 60, width: 720, height: 540 })
        .jpeg(),
    };
    for (const [name, variant] of Object.entries(variants)) {
      const copy = await inspect(await variant.toBuffer());
      expect(hashDistance(original.perceptualHash!, copy.perceptualHash!), name).toBeLessThanOrEqual(
        MATCH_DISTANCE,
      );
    }
  });

  it("tell different pictures apart", async () => {
    const hashes = await Promise.all(
      [2, 3, 4, 5].map(async (seed) => (await inspect(await sceneImage(400, 300, seed))).perceptualHash!),
    );
    for (let i = 0; i < hashes.length; i++)
      for (let j = i + 1; j < hashes.length; j++)
        expect(hashDistance(hashes[i]!, hashes[j]!)).toBeGreaterThan(MATCH_DISTANCE);
  });

  it("give no hash to a flat picture, which would match every other flat one", async () => {
    const grey = await sharp({ create: { width: 50, height: 50, channels: 3, background: "#777" } })
      .png()
      .toBuffer();
    expect((await inspect(grey)).perceptualHash).toBeNull();
    expect(perceptualHash(new Uint8Array(HASH_INPUT_SIDE * HASH_INPUT_SIDE).fill(9))).toBeNull();
    expect(() => perceptualHash(new Uint8Array(10))).toThrow(/128x128/);
  });

  it("measure a blurred copy as less sharp", async () => {
    const png = await sceneImage(400, 300, 6);
    const sharpOne = await inspect(png);
    const blurred = await inspect(await sharp(png).blur(2).png().toBuffer());
    expect(blurred.sharpness).toBeLessThan(sharpOne.sharpness);
    expect(laplacianVariance(new Uint8Array(4), 2, 2)).toBe(0);
  });
});

describe("the hash index", () => {
  const random = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };

  const next = random(42);
  const hex = () => Array.from({ length: 16 }, () => Math.floor(next() * 16).toString(16)).join("");
  /** `hex` with `count` distinct bits flipped. */
  const flipped = (hex16: string, count: number) => {
    let value = BigInt(`0x${hex16}`);
    const bits = new Set<number>();
    while (bits.size < count) bits.add(Math.floor(next() * 64));
    for (const bit of bits) value ^= 1n << BigInt(bit);
    return value.toString(16).padStart(16, "0");
  };
  const found = (stored: string, query: string) => {
    const keys = new Set(candidateKeys(query));
    return hashKeys(stored).some((k) => keys.has(k));
  };

  it("finds every stored photo whose whole frame is within 7 bits of the new one's", () => {
    for (let trial = 0; trial < 200; trial++) {
      const stored = Array.from({ length: 6 }, hex).join("");
      const query = [flipped(stored.slice(0, 16), 7), ...Array.from({ length: 5 }, hex)].join("");
      expect(found(stored, query), `trial ${trial}`).toBe(true);
    }
  });

  it("finds a crop: a window within 3 bits of the other photo's whole frame, either way", () => {
    for (let trial = 0; trial < 200; trial++) {
      const stored = Array.from({ length: 6 }, hex).join("");
      const window = 1 + Math.floor(next() * 5);
      // The new photo is a crop of the stored one: its whole frame is near one of the stored windows.
      const crop = [
        flipped(stored.slice(window * 16, window * 16 + 16), 3),
        ...Array.from({ length: 5 }, hex),
      ].join("");
      expect(found(stored, crop), `crop, trial ${trial}`).toBe(true);
      // The new photo is the original of a stored crop: one of its windows is near the stored whole frame.
      const parts = Array.from({ length: 6 }, hex);
      parts[window] = flipped(stored.slice(0, 16), 3);
      expect(found(stored, parts.join("")), `original, trial ${trial}`).toBe(true);
    }
  });
});

describe("keeping the best copy and grouping pairs", () => {
  const copy = (id: string, over: Partial<Parameters<typeof compareCopies>[0]> = {}) => ({
    id,
    width: 1000,
    height: 800,
    byteSize: 1000,
    sharpness: 10,
    createdAt: "2025-01-01T00:00:00Z",
    ...over,
  });

  it("keeps the largest, then the sharpest, then the biggest file, then the first added", () => {
    const order = (copies: ReturnType<typeof copy>[]) => [...copies].sort(compareCopies).map((c) => c.id);
    expect(order([copy("small", { width: 500 }), copy("big")])).toEqual(["big", "small"]);
    expect(order([copy("blurred", { sharpness: 2 }), copy("crisp")])).toEqual(["crisp", "blurred"]);
    expect(order([copy("q50", { byteSize: 10 }), copy("q95")])).toEqual(["q95", "q50"]);
    expect(order([copy("later", { createdAt: "2026-01-01T00:00:00Z" }), copy("first")])).toEqual([
      "first",
      "later",
    ]);
  });

  it("groups photos linked by pairs, whatever the order of the pairs", () => {
    const pairs = [
      { a: "d", b: "c" },
      { a: "a", b: "b" },
      { a: "c", b: "e" },
    ];
    const expected = [
      ["a", "b"],
      ["c", "d", "e"],
    ];
    expect(groupPairs(pairs)).toEqual(expected);
    expect(groupPairs([...pairs].reverse())).toEqual(expected);
    expect(groupPairs([])).toEqual([]);
  });
});
