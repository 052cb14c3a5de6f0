import { beforeAll, describe, expect, it } from "vitest";
import { LEX_FILES, loadWordNet, type WordNet } from "../../src/lexicon/wordnet.js";

describe("WordNet nouns", () => {
  let wordnet: WordNet;
  beforeAll(async () => {
    wordnet = await loadWordNet();
  });

  it("knows base forms of plurals, regular and irregular", () => {
    expect(wordnet.lemmas("cats")).toEqual(["cat"]);
    expect(wordnet.lemmas("mice")).toContain("mouse");
    expect(wordnet.lemmas("boxes")).toContain("box");
    expect(wordnet.lemmas("strawberries")).toContain("strawberry");
    expect(wordnet.lemmas("wolves")).toContain("wolf");
    expect(wordnet.lemmas("Sports Car")).toEqual(["sports car"]);
    expect(wordnet.lemmas("qwertyuiop")).toEqual([]);
  });

  it("orders senses most frequent first, with their synonyms and lexicographer file", () => {
    const [first] = wordnet.senses("car");
    expect(first?.words).toEqual(expect.arrayContaining(["car", "automobile", "motorcar"]));
    expect(first?.lexFile).toBe(LEX_FILES.artifact);
    expect(wordnet.senses("cat")[0]?.lexFile).toBe(LEX_FILES.animal);
  });

  it("tells a kind from its more general words, and not from other things", () => {
    expect(wordnet.isKindOf("tiger", "cat")).toBe(true);
    expect(wordnet.isKindOf("tabby", "animal")).toBe(true);
    expect(wordnet.isKindOf("lemons", "fruit")).toBe(true);
    expect(wordnet.isKindOf("automobile", "car")).toBe(true);
    expect(wordnet.isKindOf("dog", "cat")).toBe(false);
    expect(wordnet.isKindOf("cat", "tiger")).toBe(false);
    expect(wordnet.isKindOf("guitar", "remote control")).toBe(false);
    // A sense limit keeps rare senses out: only the usual meaning of a word is asked about.
    expect(wordnet.isKindOf("mandrill", "person", 1)).toBe(false);
  });

  it("walks to more general and more specific concepts", () => {
    const dog = wordnet.senses("dog")[0];
    if (!dog) throw new Error("no dog in WordNet");
    const general = wordnet.ancestors(dog.id).flatMap((id) => wordnet.synset(id).words);
    expect(general).toEqual(expect.arrayContaining(["canine", "carnivore", "mammal", "animal"]));
    const fruit = wordnet.senses("fruit")[0];
    if (!fruit) throw new Error("no fruit in WordNet");
    const kinds = wordnet.descendants(fruit.id).flatMap((id) => wordnet.synset(id).words);
    expect(kinds).toEqual(expect.arrayContaining(["berry", "apple"]));
    expect(wordnet.descendants(fruit.id, 5)).toHaveLength(5);
  });
});
