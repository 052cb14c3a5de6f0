import { beforeAll, describe, expect, it } from "vitest";
import {
  buildVocabulary,
  CAPTION_THRESHOLDS,
  type CaptionFacts,
  caption,
  type Vocabulary,
} from "../../../src/analysers/local/caption.js";
import type { ColourStats } from "../../../src/analysers/local/colours.js";
import type { DetectedObject } from "../../../src/analysers/local/models.js";
import { loadWordNet } from "../../../src/lexicon/wordnet.js";

// Wording rules of the offline captions, on made-up model outputs (no photos needed).
let vocabulary: Vocabulary;
beforeAll(async () => {
  vocabulary = buildVocabulary(await loadWordNet());
});

const colours: ColourStats = {
  dominant: ["brown", "green"],
  saturationMean: 0.3,
  lightnessMean: 0.45,
  lightnessStd: 0.2,
  whiteShare: 0.05,
  darkShare: 0.05,
  colourVariety: 0.6,
  edgeDensity: 0.1,
  flatShare: 0.02,
  skyTop: 0,
  greenBottom: 0.3,
  blueTop: 0,
  blueBottom: 0,
  whiteBottom: 0,
};

function box(label: string, score: number, area = 0.2): DetectedObject {
  const side = Math.sqrt(area);
  return { label, score, box: [0.1, 0.1, side, side] };
}

function facts(overrides: Partial<CaptionFacts>): CaptionFacts {
  const category = overrides.category ?? "animals";
  const confidence = overrides.confidence ?? 0.9;
  return {
    category,
    confidence,
    ranking: [{ label: category, p: confidence }],
    objects: [],
    faces: 0,
    drawing: 0,
    colours,
    text: null,
    ...overrides,
  };
}

const kinds = (concept: string, p: number) => [
  { label: concept, p },
  { label: "none", p: 1 - p },
];

describe("offline captions: never a subject the models are not sure of", () => {
  it("never names a detector label that contradicts a confident category", () => {
    const out = caption(
      facts({ category: "animals", confidence: 0.95, objects: [box("truck", 0.8)] }),
      vocabulary,
    );
    expect(out.summary).not.toMatch(/truck/i);
    expect(out.tags).not.toContain("truck");
    expect(out.summary).toMatch(/^An animal/);
  });

  it("falls back to the category's general word when the detector is unsure", () => {
    const out = caption(
      facts({ category: "animals", confidence: 0.92, objects: [box("cat", 0.3)] }),
      vocabulary,
    );
    expect(out.summary).toMatch(/^An animal/);
    expect(out.summary).not.toMatch(/\bcat\b/);
    expect(out.subject.level).toBe("category");
  });

  it("names the thing when the head is sure and the detector agrees strongly", () => {
    const out = caption(
      facts({ category: "animals", confidence: 0.95, objects: [box("dog", 0.8, 0.6)] }),
      vocabulary,
    );
    expect(out.summary).toMatch(/^A dog, close up/);
    expect(out.subject.level).toBe("specific");
  });

  it("names the word a contradicting detector and kind head share, never either one", () => {
    const out = caption(
      facts({
        category: "vehicles",
        confidence: 0.95,
        objects: [box("truck", 0.7)],
        kinds: kinds("car", 0.8),
      }),
      vocabulary,
    );
    expect(out.summary).toMatch(/^A motor vehicle\b/);
    expect(out.summary).not.toMatch(/truck|car\b/);
    expect(out.subject.level).toBe("specific");
  });

  it("falls back to the category word when the signals share no word below it", () => {
    const out = caption(
      facts({ category: "animals", confidence: 0.95, objects: [box("dog", 0.7)], kinds: kinds("bird", 0.8) }),
      vocabulary,
    );
    expect(out.summary).toMatch(/^An animal\b/);
  });

  it("never names a dog the detector does not see, nor when it also sees a cat there", () => {
    const unseen = caption(
      facts({ category: "animals", confidence: 0.95, kinds: kinds("dog", 0.9) }),
      vocabulary,
    );
    expect(unseen.summary).toMatch(/^A mammal\b/);
    const doubtful = caption(
      facts({ category: "animals", confidence: 0.95, objects: [box("dog", 0.48), box("cat", 0.22)] }),
      vocabulary,
    );
    expect(doubtful.summary).toMatch(/^A mammal\b/);
  });

  it("names two strong detections of different kinds, not their common word", () => {
    const out = caption(
      facts({
        category: "animals",
        confidence: 0.95,
        objects: [box("zebra", 0.7), box("giraffe", 0.8), box("zebra", 0.6), box("dog", 0.2)],
      }),
      vocabulary,
    );
    expect(out.summary).toMatch(/^A giraffe and two zebras\b/);
    expect(out.subject.level).toBe("specific");
    expect(out.tags).toEqual(expect.arrayContaining(["giraffe", "zebra"]));
    expect(out.tags).not.toContain("dog");
  });

  it("says only the common word when a sure kind head names neither detection", () => {
    const out = caption(
      facts({
        category: "animals",
        confidence: 0.95,
        objects: [box("dog", 0.7), box("cat", 0.6)],
        kinds: kinds("bird", 0.9),
      }),
      vocabulary,
    );
    expect(out.summary).not.toMatch(/\b(dog|cat|bird)\b/);
  });

  it("names the kind when a weak detection and a middling kind head agree", () => {
    const out = caption(
      facts({ category: "animals", confidence: 0.95, objects: [box("dog", 0.3)], kinds: kinds("dog", 0.45) }),
      vocabulary,
      { ...CAPTION_THRESHOLDS, nameScore: 0.5, agreeScore: 0.25 },
    );
    expect(out.summary).toMatch(/^A dog\b/);
    const alone = caption(
      facts({ category: "animals", confidence: 0.95, kinds: kinds("dog", 0.45) }),
      vocabulary,
    );
    expect(alone.summary).toMatch(/^An animal\b/);
  });

  it("names no subject at all when the category is unsure, only what the pixels show", () => {
    const out = caption(
      facts({ category: "animals", confidence: 0.5, objects: [box("dog", 0.9)], kinds: kinds("dog", 0.9) }),
      vocabulary,
    );
    expect(out.subject.level).toBe("none");
    expect(out.summary).toBe("A photo in brown and green tones.");
  });

  it("calls a nature photo without sky a nature scene, never a landscape", () => {
    expect(caption(facts({ category: "nature", confidence: 0.9 }), vocabulary).summary).toBe(
      "A nature scene.",
    );
    const open = caption(
      facts({ category: "nature", confidence: 0.9, colours: { ...colours, blueTop: 0.6 } }),
    );
    expect(open.summary).toBe("A landscape, outdoors under a blue sky.");
  });

  it("needs a confirmed face before it says there is a person", () => {
    const noFace = caption(
      facts({ category: "animals", confidence: 0.6, objects: [box("person", 0.9)] }),
      vocabulary,
    );
    expect(noFace.summary).not.toMatch(/person|people/);
    const faces = caption(
      facts({ category: "people", confidence: 0.7, faces: 2, objects: [box("person", 0.8)] }),
    );
    expect(faces.summary).toBe("Two people.");
  });
});

describe("offline captions: alt text and tags", () => {
  const cases: Partial<CaptionFacts>[] = [
    { category: "objects", confidence: 0.95, objects: [box("cup", 0.9)] },
    { category: "animals", confidence: 0.95, objects: [box("dog", 0.8, 0.6)] },
    { category: "documents", confidence: 0.9, text: "HERE" },
    { category: "other", confidence: 0.9 },
    { category: "art", confidence: 0.9, drawing: 0.97 },
    { category: "food", confidence: 0.3 },
    { category: "people", confidence: 0.95, faces: 1, objects: [box("person", 0.9, 0.5)] },
  ];

  it("writes alt text of 40 to 125 characters, never a bare 'A cup.'", () => {
    for (const c of cases) {
      const { altText } = caption(facts(c), vocabulary);
      expect(altText.length, altText).toBeGreaterThanOrEqual(40);
      expect(altText.length, altText).toBeLessThanOrEqual(125);
    }
  });

  it("keeps alt text consistent with the summary: it starts with the same subject", () => {
    for (const c of cases) {
      const out = caption(facts(c), vocabulary);
      expect(out.altText.startsWith(out.summary.replace(/\.$/, "")), `${out.summary} / ${out.altText}`).toBe(
        true,
      );
    }
  });

  it("tags a named dog with its general words, so a search for 'animal' finds it", () => {
    const { tags } = caption(
      facts({ category: "animals", confidence: 0.95, objects: [box("dog", 0.8)] }),
      vocabulary,
    );
    expect(tags).toEqual(expect.arrayContaining(["dog", "animal", "animals"]));
  });

  it("tags a kind with its general words (fruit is food)", () => {
    const { summary, tags } = caption(
      facts({ category: "food", confidence: 0.95, kinds: kinds("edible fruit", 0.9) }),
      vocabulary,
    );
    expect(summary).toMatch(/^Fruit/);
    expect(tags).toEqual(expect.arrayContaining(["fruit", "food"]));
  });

  it("keeps the date and place in the summary and the place in the alt text", () => {
    const out = caption(
      facts({
        category: "animals",
        confidence: 0.95,
        takenAt: "2014-09-03T10:00:00Z",
        place: "Biarritz, France",
      }),
      vocabulary,
    );
    expect(out.summary).toBe("An animal, photographed near Biarritz, France in September 2014.");
    expect(out.altText).toContain("near Biarritz, France");
    expect(out.tags).toEqual(expect.arrayContaining(["biarritz", "2014"]));
  });
});
