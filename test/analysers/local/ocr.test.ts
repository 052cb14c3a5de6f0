import sharp, { type Sharp } from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { estimateSkew, TextReader } from "../../../src/analysers/local/ocr.js";
import type { RgbImage } from "../../../src/analysers/local/pixels.js";

// Both engines on generated pages: turned, skewed, light on dark. One reader per engine for the file.
const readers = { ppocr: new TextReader("ppocr"), tesseract: new TextReader("tesseract") };
afterAll(async () => {
  for (const reader of Object.values(readers)) await reader.close();
});

const LINES = [
  "The quick brown fox jumps over the lazy dog.",
  "Photocat reads pages that were scanned upside down.",
  "Every line of this page should come back as text.",
  "Orientation is found before the words are read.",
  "A page turned by a few degrees is levelled first.",
];

async function page(options: { fill?: string; ink?: string } = {}): Promise<Sharp> {
  const text = LINES.map(
    (line, i) =>
      `<text x="40" y="${80 + i * 60}" font-size="34" font-family="DejaVu Serif, serif" fill="${options.ink ?? "black"}">${line}</text>`,
  ).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="400"><rect width="100%" height="100%" fill="${options.fill ?? "white"}"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).flatten({ background: options.fill ?? "white" });
}

async function rgb(image: Sharp): Promise<RgbImage> {
  const { data, info } = await image
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const words = (text: string | null) => (text ?? "").replace(/\s+/g, " ");

describe.each(["ppocr", "tesseract"] as const)("offline OCR with %s", (engine) => {
  const reader = readers[engine];
  it("reads a page turned upside down", async () => {
    const { text } = await reader.read(await rgb((await page()).rotate(180)), { page: true });
    expect(words(text)).toContain("quick brown fox jumps over the lazy dog");
    expect(words(text)).toContain("scanned upside down");
  }, 60_000);

  it("reads a page turned by 6 degrees", async () => {
    const turned = await sharp(await (await page()).png().toBuffer())
      .rotate(-6, { background: "#ffffff" })
      .png()
      .toBuffer();
    const { text } = await reader.read(await rgb(sharp(turned)), { page: true });
    expect(words(text)).toContain("levelled first");
  }, 60_000);

  it("reads light letters on a dark ground", async () => {
    const { text } = await reader.read(await rgb(await page({ fill: "#123a7a", ink: "white" })), {
      page: true,
    });
    expect(words(text)).toContain("quick brown fox");
  }, 60_000);
});

describe("offline OCR preparation", () => {
  it("finds the skew of text lines, and none on a level page", async () => {
    const grey = async (image: Sharp) => {
      const { data, info } = await image
        .resize({ width: 400 })
        .greyscale()
        .extractChannel(0)
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    };
    const level = await (await page()).png().toBuffer();
    expect(estimateSkew(await grey(sharp(level)))).toBe(0);
    const turned = sharp(await sharp(level).rotate(-5, { background: "#ffffff" }).png().toBuffer());
    // Turning the page back by the estimate levels it (within the 0.5 degree search step).
    expect(Math.abs(estimateSkew(await grey(turned)) - 5)).toBeLessThanOrEqual(1);
  });
});
