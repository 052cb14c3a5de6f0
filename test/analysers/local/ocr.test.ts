import sharp, { type Sharp } from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import type { ColourStats } from "../../../src/analysers/local/colours.js";
import { estimateSkew, planReading, seesText, TextReader } from "../../../src/analysers/local/ocr.js";
import type { RgbImage } from "../../../src/analysers/local/pixels.js";

// Both engines, and the shipped choice between them, on generated pages: turned, skewed, light on dark.
// One reader per engine for the file.
const readers = {
  auto: new TextReader("auto"),
  ppocr: new TextReader("ppocr"),
  tesseract: new TextReader("tesseract"),
};
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

describe.each(["auto", "ppocr", "tesseract"] as const)("offline OCR with %s", (engine) => {
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

  it("keeps a short sign in capitals or a number, and drops a lone lower-case scrap as texture", async () => {
    const sign = (word: string) =>
      sharp(
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="240"><rect width="100%" height="100%" fill="white"/>
          <text x="140" y="160" font-size="110" font-family="DejaVu Sans, sans-serif" fill="black">${word}</text></svg>`,
        ),
      ).flatten({ background: "white" });
    for (const options of [{ page: true }, { page: false }]) {
      expect((await reader.read(await rgb(sign("NO")), options)).text).toBe("NO");
      expect((await reader.read(await rgb(sign("60")), options)).text).toBe("60");
      expect((await reader.read(await rgb(sign("ar")), options)).text).toBeNull();
    }
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

describe("deciding whether and how to read a photo's text", () => {
  const colours = (over: Partial<ColourStats>): ColourStats => ({
    dominant: [],
    saturationMean: 0.4,
    lightnessMean: 0.5,
    lightnessStd: 0.2,
    whiteShare: 0.05,
    darkShare: 0.05,
    colourVariety: 0.6,
    edgeDensity: 0.05,
    flatShare: 0.05,
    skyTop: 0,
    greenBottom: 0,
    blueTop: 0,
    blueBottom: 0,
    whiteBottom: 0,
    ...over,
  });
  const photo = colours({});
  const print = colours({ whiteShare: 0.7, darkShare: 0.1, saturationMean: 0.02 });
  const never = async () => {
    throw new Error("the detector was asked although the cues had decided");
  };

  it("reads a document as a page without asking the detector", async () => {
    const plan = await planReading(
      {
        documentCategory: true,
        documentProbability: 0.9,
        colours: photo,
        top: { label: "documents", p: 0.9 },
      },
      never,
    );
    expect(plan).toEqual({ page: true, print: false });
  });

  it("reads clean print as a page of print", async () => {
    const plan = await planReading(
      { documentCategory: false, documentProbability: 0, colours: print, top: { label: "animals", p: 0.9 } },
      never,
    );
    expect(plan).toEqual({ page: true, print: true });
  });

  it("asks the detector about a photo and reads its text as scattered text only when it sees some", async () => {
    const cues = {
      documentCategory: false,
      documentProbability: 0.05,
      colours: photo,
      top: { label: "other", p: 0.6 },
    };
    expect(await planReading(cues, async () => true)).toEqual({ page: false, print: false });
    expect(await planReading(cues, async () => false)).toBeNull();
  });

  it("looks for no text in a photo the head is sure shows an animal, and asks the detector when it is unsure", async () => {
    const animal = (p: number) => ({
      documentCategory: false,
      documentProbability: 0.01,
      colours: photo,
      top: { label: "animals", p },
    });
    expect(await planReading(animal(0.8), never)).toBeNull();
    expect(await planReading(animal(0.4), async () => true)).toEqual({ page: false, print: false });
  });

  it("sees a word on a coloured sign and no text in a landscape", async () => {
    const sign = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
        <rect width="100%" height="100%" fill="#5b8a3c"/>
        <rect x="120" y="170" width="400" height="140" fill="#f2e6c9"/>
        <text x="150" y="270" font-size="80" font-family="DejaVu Sans, sans-serif" fill="#7a1010">EXIT</text>
      </svg>`,
    );
    expect(await seesText(await rgb(sharp(sign)))).toBe(true);
    const landscape = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
        <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
          <stop offset="0" stop-color="#3a7bd5"/><stop offset="1" stop-color="#cfe3f7"/></linearGradient></defs>
        <rect width="100%" height="100%" fill="url(#sky)"/>
        <path d="M0 300 Q160 220 320 290 T640 270 V480 H0 Z" fill="#3f7d32"/>
        <ellipse cx="480" cy="110" rx="60" ry="60" fill="#fff3b0" opacity="0.9"/>
      </svg>`,
    );
    expect(await seesText(await rgb(sharp(landscape)))).toBe(false);
  }, 60_000);
});
