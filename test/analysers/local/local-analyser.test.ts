import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalAnalyser, type LocalAnalyser } from "../../../src/analysers/local/index.js";
import { PhotocatError } from "../../../src/domain/errors.js";
import { DEFAULT_TAXONOMY, parseTaxonomy } from "../../../src/domain/taxonomy.js";
import type { AnalyserInput } from "../../../src/ports/analyser.js";
import { analyserInvariants } from "../../contracts/analyser.contract.js";
import { HAS_TESTDATA, TESTDATA_SKIP_REASON, testdataPath } from "../../support/testdata.js";

// The models load once for this file (a few seconds), shared by every test as in the worker.
let analyser: LocalAnalyser;
beforeAll(async () => {
  analyser = await createLocalAnalyser();
  await analyser.warmUp?.();
}, 60_000);
afterAll(async () => {
  await analyser?.close?.();
});

function input(bytes: Buffer, extra: Partial<AnalyserInput> = {}): AnalyserInput {
  return { bytes, mediaType: "image/png", taxonomy: DEFAULT_TAXONOMY, language: "en", ...extra };
}

/** A smooth colour gradient: photo-like, no text, no objects. */
async function gradient(width = 320, height = 240, hue = 0): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = (hue + 128) % 256;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

// The port's invariants, on the models loaded above.
analyserInvariants(
  "local",
  async () => analyser,
  async () => ({ bytes: await gradient(), mediaType: "image/png" }),
);

async function blackTextOnWhite(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="420">
    <rect width="100%" height="100%" fill="white"/>
    <text x="40" y="170" font-size="110" font-family="DejaVu Sans, sans-serif" fill="black">HELLO 42</text>
    <text x="40" y="330" font-size="110" font-family="DejaVu Sans, sans-serif" fill="black">PHOTOCAT</text>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

describe("local analyser: contract and wording", () => {
  it("is the offline provider and fills every field of the contract", async () => {
    expect(analyser.provider).toBe("local");
    expect(analyser.offline).toBe(true);
    const result = await analyser.analyse(input(await gradient()));
    expect(DEFAULT_TAXONOMY.categories.map((c) => c.slug)).toContain(result.category);
    expect(result.confidence).toBeGreaterThanOrEqual(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
    expect(result.altText.length).toBeLessThanOrEqual(125);
    expect(result.tags.length).toBeGreaterThan(0);
    expect(result.tags.every((t) => t === t.toLowerCase())).toBe(true);
    expect(result.embedding?.vector).toHaveLength(720);
    expect(result.provenance).toMatchObject({
      provider: "local",
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    });
    expect(result.extras?.colours?.length).toBeGreaterThan(0);
  });

  it("writes a caption with the date and place it is given, never 'This image shows'", async () => {
    const result = await analyser.analyse(
      input(await gradient(), { context: { takenAt: "2019-08-15T18:30:00Z", place: "Biarritz, France" } }),
    );
    expect(result.summary).toMatch(/^[A-Z]/);
    expect(result.summary).toMatch(/, photographed near Biarritz, France in August 2019\.$/);
    expect(result.summary).not.toMatch(/\b(this|the) (image|photo|picture) (shows|depicts)/i);
    expect(result.extras?.place).toBe("Biarritz, France");
    expect(result.tags).toEqual(expect.arrayContaining(["biarritz", "2019"]));
  });

  it("rejects bytes that are not an image with a clear error", async () => {
    const error = await analyser.analyse(input(Buffer.from("not an image at all"))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotocatError);
    expect(["corrupt_image", "unsupported_media_type"]).toContain((error as PhotocatError).code);
  });

  it("rejects a truncated PNG as a damaged image", async () => {
    const png = await gradient();
    const error = await analyser.analyse(input(png.subarray(0, png.length / 2))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotocatError);
    expect((error as PhotocatError).code).toBe("corrupt_image");
  });
});

describe("local analyser: categories on a user's taxonomy", () => {
  it("calls a blank picture 'other', also in a user's own taxonomy", async () => {
    const grey = await sharp({ create: { width: 200, height: 150, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    expect((await analyser.analyse(input(grey))).category).toBe("other");
    const mine = parseTaxonomy(["pets: our cats", "holidays: trips"]);
    const result = await analyser.analyse(input(grey, { taxonomy: mine }));
    expect(result.category).toBe("other");
  });

  it("never answers a slug outside the user's taxonomy", async () => {
    const mine = parseTaxonomy(["pets", "holidays"]);
    const result = await analyser.analyse(input(await gradient(320, 240, 90), { taxonomy: mine }));
    expect(["pets", "holidays", "other"]).toContain(result.category);
  });
});

describe("local analyser: OCR gating", () => {
  it("reads big black text on white", async () => {
    const bytes = await blackTextOnWhite();
    const result = await analyser.analyse(input(bytes));
    expect(result.text).toMatch(/HELLO 42/);
    expect(result.text).toMatch(/PHOTOCAT/);
    expect(result.category).toBe("documents");
    expect(result.summary).toMatch(/HELLO 42/);
  });

  it("reads the text of a CMYK JPEG (colour space converted before reading)", async () => {
    const cmyk = await sharp(await blackTextOnWhite())
      .toColourspace("cmyk")
      .jpeg({ quality: 95 })
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe("cmyk");
    const result = await analyser.analyse(input(cmyk, { mediaType: "image/jpeg" }));
    expect(result.text).toMatch(/HELLO 42/);
  });

  it("gives null text for a photo-like gradient", async () => {
    const result = await analyser.analyse(input(await gradient(640, 480, 30)));
    expect(result.text).toBeNull();
  });
});

describe.skipIf(!HAS_TESTDATA)("local analyser on real photos (../shared/testdata)", () => {
  if (!HAS_TESTDATA) console.warn(`[skip] ${TESTDATA_SKIP_REASON}`);

  it("describes a portrait as a person and counts the face, without naming anyone", async () => {
    const result = await analyser.analyse(
      input(await readFile(testdataPath("skimage-data/astronaut.png")), { context: {} }),
    );
    expect(result.category).toBe("people");
    expect(result.extras?.faces).toBe(1);
    expect(result.summary).toMatch(/person/);
    expect(result.summary).not.toMatch(/Collins|Eileen|astronaut/i);
  });

  it("names the dog in the darknet demo photo and reads its EXIF date when no context is given", async () => {
    const result = await analyser.analyse(
      input(await readFile(testdataPath("darknet/dog.jpg")), { mediaType: "image/jpeg" }),
    );
    expect(result.summary).toMatch(/\bdog\b/);
    expect(result.summary).toMatch(/in September 2014\.$/);
    expect(result.extras?.objects?.map((o) => o.label)).toEqual(expect.arrayContaining(["dog", "bicycle"]));
  });

  it("reads a blurred word on a green display, which only the text detector flags", async () => {
    const result = await analyser.analyse(
      input(await readFile(testdataPath("opencv-samples/text/scenetext_word04.jpg")), {
        mediaType: "image/jpeg",
        context: {},
      }),
    );
    expect(result.category).not.toBe("documents");
    expect(result.text).toMatch(/odu?kt/i); // "Produkt"
  });

  it("decodes an iPhone HEIC photo and places it from its GPS tags", async () => {
    const result = await analyser.analyse(
      input(await readFile(testdataPath("exif-samples/heic/IMG_5195.HEIC")), { mediaType: "image/heic" }),
    );
    expect(result.summary.length).toBeGreaterThan(10);
    expect(result.extras?.place).toMatch(/, United States$/);
  });
});
