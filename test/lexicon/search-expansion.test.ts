import { beforeAll, describe, expect, it } from "vitest";
import {
  createSearchExpander,
  lastTier,
  NARROWER_PER_WORD,
  pluralForms,
  type SearchExpander,
  wordsAtTier,
} from "../../src/lexicon/search-expansion.js";
import { loadWordNet, type WordNet } from "../../src/lexicon/wordnet.js";

describe("search expansion", () => {
  let wordnet: WordNet;
  let expander: SearchExpander;
  beforeAll(async () => {
    wordnet = await loadWordNet();
    expander = createSearchExpander(wordnet);
  });
  const expand = (word: string) => expander.expand([word])[0]!;

  it("knows the usual senses of a word by how often each was seen", () => {
    expect(wordnet.usualSenses("cat").map((s) => s.words[0])).toEqual(["cat"]);
    expect(wordnet.frequency("cat", wordnet.senses("cat")[0]!.id)).toBeGreaterThan(10);
    expect(wordnet.frequency("cat", 999)).toBe(0);
  });

  it("widens a word with its forms, synonyms and familiar narrower words", () => {
    const animal = expand("animal");
    expect(animal.forms).toEqual(["animal", "animals"]);
    expect(animal.synonyms).toEqual(expect.arrayContaining(["creature", "beast"]));
    expect(animal.narrower).toEqual(
      expect.arrayContaining(["dog", "dogs", "cat", "horse", "horses", "kitten"]),
    );
    expect(expand("automobile").synonyms).toEqual(expect.arrayContaining(["car", "cars"]));
    expect(expand("fruit").narrower).toEqual(expect.arrayContaining(["lemon", "lemons", "apple"]));
    // A kitten is a "young domestic cat" in WordNet, filed under young mammals.
    expect(expand("cat").narrower).toEqual(expect.arrayContaining(["kitten", "kittens"]));
    expect(expand("cats").forms).toEqual(["cats", "cat"]);
  });

  it("keeps rare senses, short words and numbers out, and the expansion capped", () => {
    const cat = wordsAtTier(expand("cat"), 2);
    for (const rare of ["guy", "vomit", "computerized tomography", "caterpillar"])
      expect(cat).not.toContain(rare);
    // "machine" is a car only in a rare sense.
    expect(expand("car").synonyms).not.toContain("machine");
    expect(expand("of")).toMatchObject({ forms: ["of"], synonyms: [], narrower: [] });
    expect(expand("2024")).toMatchObject({ forms: ["2024"], synonyms: [], narrower: [] });
    // Each narrower word comes with its plurals.
    expect(expand("animal").narrower.length).toBeLessThanOrEqual(NARROWER_PER_WORD * 3);
    expect(lastTier(expander.expand(["of", "2024"]))).toBe(0);
    expect(lastTier(expander.expand(["sunset"]))).toBe(1);
    expect(lastTier(expander.expand(["dog"]))).toBe(2);
  });

  it("marks the last word as a prefix", () => {
    expect(expander.expand(["red", "bicy"]).map((w) => w.prefix)).toEqual([false, true]);
  });

  it("makes plurals as descriptions write them", () => {
    expect(pluralForms("cat")).toEqual(["cats"]);
    expect(pluralForms("box")).toEqual(["boxes"]);
    expect(pluralForms("strawberry")).toEqual(["strawberries"]);
    expect(pluralForms("wolf")).toContain("wolves");
    expect(pluralForms("knife")).toContain("knives");
    expect(pluralForms("mouse")).toEqual(["mice"]);
    expect(pluralForms("sports car")).toEqual(["sports cars"]);
    expect(pluralForms("fireman")).toEqual(["firemen"]);
  });
});
