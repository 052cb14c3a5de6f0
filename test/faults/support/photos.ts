import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { HAS_TESTDATA, TESTDATA_DIR } from "../../support/testdata.js";

/** A small, fast, seeded random number generator (mulberry32): the same seed gives the same files. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Absolute paths of the real photos listed in ../shared/testdata/labelled.tsv (empty without testdata). */
export function labelledPhotoPaths(): string[] {
  if (!HAS_TESTDATA) return [];
  const list = path.join(TESTDATA_DIR, "labelled.tsv");
  if (!existsSync(list)) return [];
  return readFileSync(list, "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.split("\t")[0] ?? "")
    .filter(Boolean)
    .map((relative) => path.join(TESTDATA_DIR, relative))
    .filter((file) => existsSync(file));
}

export type GeneratedFormat = "jpeg" | "png" | "webp" | "avif";

/**
 * A photo-like picture: smooth colour gradients with blurred noise, so it compresses like a photo and
 * decoding it costs what a photo costs. Different bytes for every seed.
 */
export async function generatedPhoto(
  seed: number,
  options: { width?: number; height?: number; format?: GeneratedFormat } = {},
): Promise<Buffer> {
  const width = options.width ?? 1024;
  const height = options.height ?? 768;
  const random = seededRandom(seed + 1);
  // Noise at 1/8 resolution, scaled up: blotches like leaves or clouds rather than TV static.
  const smallWidth = Math.max(2, Math.ceil(width / 8));
  const smallHeight = Math.max(2, Math.ceil(height / 8));
  const noise = Buffer.alloc(smallWidth * smallHeight * 3);
  const base = [random() * 255, random() * 255, random() * 255];
  for (let y = 0; y < smallHeight; y++) {
    for (let x = 0; x < smallWidth; x++) {
      const i = (y * smallWidth + x) * 3;
      for (let c = 0; c < 3; c++) {
        const gradient = (c === 0 ? x / smallWidth : c === 1 ? y / smallHeight : 0.5) * 120;
        noise[i + c] = Math.max(0, Math.min(255, base[c]! * 0.5 + gradient + (random() - 0.5) * 90));
      }
    }
  }
  const image = sharp(noise, { raw: { width: smallWidth, height: smallHeight, channels: 3 } })
    .resize(width, height, { kernel: "cubic" })
    .blur(0.8);
  const format = options.format ?? "jpeg";
  if (format === "jpeg") return image.jpeg({ quality: 88 }).toBuffer();
  if (format === "png") return image.png({ compressionLevel: 3 }).toBuffer();
  if (format === "webp") return image.webp({ quality: 85 }).toBuffer();
  return image.avif({ quality: 60, effort: 2 }).toBuffer();
}

/**
 * Another file with the same picture: bytes appended after the JPEG's end-of-image marker, which decoders
 * ignore. Gives many distinct uploads of real photos without re-encoding them.
 */
export function jpegVariant(jpeg: Buffer, variant: number): Buffer {
  const tail = Buffer.alloc(16);
  tail.write(`variant:${variant}`.padEnd(16, "."), "ascii");
  return Buffer.concat([jpeg, tail]);
}

export function isJpeg(bytes: Buffer): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}
