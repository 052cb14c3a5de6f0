import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalAnalyser, type LocalAnalyser } from "../../src/analysers/local/index.js";
import type { Analysis } from "../../src/domain/analysis.js";
import { DEFAULT_TAXONOMY } from "../../src/domain/taxonomy.js";
import type { CorrectionExample } from "../../src/ports/catalog.js";
import { applyCorrections } from "../../src/services/learn-from-corrections.js";
import { HAS_TESTDATA, TESTDATA_SKIP_REASON, testdataPath } from "../support/testdata.js";

function analysis(vector: number[] | null, category = "nature", confidence = 0.6): Analysis {
  return {
    summary: "A natural landscape.",
    category,
    tags: [category, "green"],
    altText: "A natural landscape.",
    text: null,
    confidence,
    extras: { faces: 0 },
    ...(vector ? { embedding: { model: "test-embedding", vector } } : {}),
    provenance: {
      provider: "local",
      model: "photocat-local-1",
      promptVersion: "v",
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      ms: 5,
    },
  };
}

/** A unit vector along axis `axis` of `size`, nudged by `noise` on the next axis. */
function near(axis: number, noise = 0, size = 8): number[] {
  const v = Array<number>(size).fill(0);
  v[axis] = 1;
  v[(axis + 1) % size] = noise;
  return v;
}

const example = (imageId: string, category: string, vector: number[]): CorrectionExample => ({
  imageId,
  category,
  vector,
});

describe("applyCorrections", () => {
  it("follows the category people gave to very similar photos, and says so", () => {
    const result = applyCorrections(analysis(near(0, 0.1)), [
      example("a", "garden", near(0, 0.05)),
      example("b", "garden", near(0, 0.2)),
      example("c", "people", near(4)),
    ]);
    expect(result.category).toBe("garden");
    expect(result.extras?.learnedFrom).toEqual(["a", "b"]);
    expect(result.extras?.modelCategory).toBe("nature");
    expect(result.tags).toContain("garden");
    expect(result.tags).not.toContain("nature");
    expect(result.confidence).toBeGreaterThan(0.9);
    expect(result.provenance).toEqual(analysis(null).provenance);
  });

  it("leaves the analysis alone when nothing corrected is similar enough", () => {
    const input = analysis(near(0));
    const result = applyCorrections(input, [
      example("a", "garden", near(3)),
      example("b", "garden", near(5)),
    ]);
    expect(result).toBe(input);
  });

  it("changes nothing without examples, without an embedding, or with vectors of another model's size", () => {
    const input = analysis(near(0));
    expect(applyCorrections(input, [])).toBe(input);
    const noEmbedding = analysis(null);
    expect(applyCorrections(noEmbedding, [example("a", "garden", near(0))])).toBe(noEmbedding);
    expect(applyCorrections(input, [example("a", "garden", near(0, 0, 16))])).toBe(input);
  });

  it("needs a similarity-weighted majority among the k nearest", () => {
    const input = analysis(near(0));
    const split = applyCorrections(input, [
      example("a", "garden", near(0, 0.1)),
      example("b", "pets", near(0, 0.1)),
    ]);
    expect(split).toBe(input);
    const outvoted = applyCorrections(
      input,
      [
        example("a", "garden", near(0, 0.1)),
        example("b", "pets", near(0, 0.15)),
        example("c", "pets", near(0, 0.2)),
      ],
      { k: 3 },
    );
    expect(outvoted.category).toBe("pets");
    expect(outvoted.extras?.learnedFrom).toEqual(["b", "c"]);
  });

  it("only the k nearest vote", () => {
    const result = applyCorrections(
      analysis(near(0)),
      [
        example("close", "garden", near(0, 0.01)),
        example("far1", "pets", near(0, 0.9)),
        example("far2", "pets", near(0, 0.95)),
      ],
      { k: 1 },
    );
    expect(result.category).toBe("garden");
  });

  it("raises confidence when corrections agree with the model, without touching the category", () => {
    const result = applyCorrections(analysis(near(0), "nature", 0.4), [
      example("a", "nature", near(0, 0.01)),
    ]);
    expect(result.category).toBe("nature");
    expect(result.confidence).toBeGreaterThan(0.9);
    expect(result.extras?.learnedFrom).toEqual(["a"]);
    expect(result.extras?.modelCategory).toBeUndefined();
  });

  it("respects minSimilarity", () => {
    const input = analysis(near(0));
    const loose = [example("a", "garden", near(0, 1))]; // cosine ~0.71
    expect(applyCorrections(input, loose, { minSimilarity: 0.9 })).toBe(input);
    expect(applyCorrections(input, loose, { minSimilarity: 0.6 }).category).toBe("garden");
  });
});

describe.skipIf(!HAS_TESTDATA)("applyCorrections with the local analyser on real photos", () => {
  if (!HAS_TESTDATA) console.warn(`[skip] ${TESTDATA_SKIP_REASON}`);
  let analyser: LocalAnalyser;
  beforeAll(async () => {
    analyser = await createLocalAnalyser({ ocr: false });
  }, 60_000);
  afterAll(async () => {
    await analyser?.close?.();
  });

  async function analyse(file: string): Promise<Analysis> {
    return analyser.analyse({
      bytes: await readFile(testdataPath(file)),
      mediaType: file.endsWith(".png") ? "image/png" : "image/jpeg",
      taxonomy: DEFAULT_TAXONOMY,
      language: "en",
      context: {},
    });
  }

  it("after two old-town street photos are corrected, a third street photo follows; a portrait does not", async () => {
    const corrected = await Promise.all(
      ["exif-samples/jpg/gps/DSCN0025.jpg", "exif-samples/jpg/gps/DSCN0038.jpg"].map(analyse),
    );
    const countryside = await analyse("exif-samples/jpg/gps/DSCN0010.jpg");
    const examples: CorrectionExample[] = [
      ...corrected.map((a, i) => ({
        imageId: `street-${i}`,
        category: "old-town",
        vector: a.embedding!.vector,
      })),
      { imageId: "hills", category: "countryside", vector: countryside.embedding!.vector },
    ];
    const street = applyCorrections(await analyse("exif-samples/jpg/gps/DSCN0040.jpg"), examples);
    expect(street.category).toBe("old-town");
    expect(street.extras?.learnedFrom).toEqual(expect.arrayContaining(["street-0", "street-1"]));

    const portrait = await analyse("skimage-data/astronaut.png");
    expect(applyCorrections(portrait, examples)).toBe(portrait);
  }, 60_000);
});
