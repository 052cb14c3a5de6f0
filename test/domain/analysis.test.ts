import { describe, expect, it } from "vitest";
import { normaliseModelOutput, normaliseSummary, normaliseTags } from "../../src/domain/analysis.js";
import { DEFAULT_TAXONOMY, parseTaxonomy } from "../../src/domain/taxonomy.js";

describe("model output validation", () => {
  const valid = {
    summary: "This image shows a red bicycle leaning on a wall.",
    category: "Vehicles",
    tags: ["Bicycle", "red", "bicycle", " wall "],
    alt_text: "A red bicycle against a brick wall",
    text: "none",
    confidence: 0.8,
  };

  it("normalises a valid answer", () => {
    const out = normaliseModelOutput(valid, DEFAULT_TAXONOMY);
    expect(out.summary).toBe("A red bicycle leaning on a wall.");
    expect(out.category).toBe("vehicles");
    expect(out.tags).toEqual(["bicycle", "red", "wall"]);
    expect(out.text).toBeNull();
    expect(out.confidence).toBe(0.8);
  });

  it("refuses a category outside the taxonomy", () => {
    expect(() => normaliseModelOutput({ ...valid, category: "selfies" }, DEFAULT_TAXONOMY)).toThrow(
      /not in the taxonomy/,
    );
  });

  it("refuses missing fields with the field's name", () => {
    expect(() => normaliseModelOutput({ category: "art" }, DEFAULT_TAXONOMY)).toThrow(/summary/);
  });

  it("caps lengths and strips control characters from untrusted text", () => {
    const out = normaliseModelOutput(
      {
        ...valid,
        summary: `A cat\u0007 <script>alert(1)</script> ${"very ".repeat(200)}`,
        alt_text: "x".repeat(500),
        tags: Array.from({ length: 40 }, (_, i) => `Tag${i}`),
      },
      DEFAULT_TAXONOMY,
    );
    expect(out.summary).not.toContain("\u0007");
    expect(out.summary).toContain("<script>"); // kept as text: escaping is the renderer's job
    expect(out.summary.length).toBeLessThanOrEqual(400);
    expect(out.altText.length).toBeLessThanOrEqual(125);
    expect(out.tags).toHaveLength(15);
    expect(out.tags[0]).toBe("tag0");
  });

  it("follows a user's taxonomy", () => {
    const taxonomy = parseTaxonomy(["cats: photos of cats", "dogs"]);
    expect(taxonomy.categories.map((c) => c.slug)).toEqual(["cats", "dogs", "other"]);
    expect(normaliseModelOutput({ ...valid, category: "dogs" }, taxonomy).category).toBe("dogs");
    expect(() => normaliseModelOutput(valid, taxonomy)).toThrow();
  });

  it("summaries start with the subject", () => {
    expect(normaliseSummary("the photo depicts two dogs")).toBe("Two dogs");
    expect(normaliseSummary("  Mountains at dawn. ")).toBe("Mountains at dawn.");
  });

  it("tags are lowercase, unique and at most 15", () => {
    expect(normaliseTags(["A", "a", "B "])).toEqual(["a", "b"]);
  });
});
