import type { WordNet } from "../../lexicon/wordnet.js";

/**
 * Kinds: words more specific than a category that a second head can tell from the pooled embedding ("a bird",
 * not only "an animal"). Each is a WordNet concept, so what counts as a bird is WordNet's answer, and the words
 * are chosen broad enough to be learned from a few hundred photos. More specific kinds come first.
 */
export interface Kind {
  /** The caption's phrase: "a bird", "fruit". */
  phrase: string;
  /** The WordNet noun whose concept (and everything under it) is this kind. */
  concept: string;
  category: string;
}

export const KINDS: readonly Kind[] = [
  { phrase: "a bird", concept: "bird", category: "animals" },
  { phrase: "a reptile", concept: "reptile", category: "animals" },
  { phrase: "an insect", concept: "insect", category: "animals" },
  { phrase: "a mammal", concept: "mammal", category: "animals" },
  { phrase: "a car", concept: "car", category: "vehicles" },
  { phrase: "a truck", concept: "truck", category: "vehicles" },
  { phrase: "a watercraft", concept: "watercraft", category: "vehicles" },
  { phrase: "an aircraft", concept: "aircraft", category: "vehicles" },
  { phrase: "fruit", concept: "edible fruit", category: "food" },
  { phrase: "vegetables", concept: "vegetable", category: "food" },
  { phrase: "a dish", concept: "dish", category: "food" },
  { phrase: "a flower", concept: "flower", category: "nature" },
  { phrase: "a fungus", concept: "fungus", category: "nature" },
  { phrase: "a mountain", concept: "mountain", category: "nature" },
  { phrase: "a shore", concept: "shore", category: "nature" },
  { phrase: "a bridge", concept: "bridge", category: "architecture" },
  { phrase: "a place of worship", concept: "place of worship", category: "architecture" },
  { phrase: "a musical instrument", concept: "musical instrument", category: "objects" },
  { phrase: "furniture", concept: "furniture", category: "objects" },
];

/** The head's class for photos of no kind above. */
export const NO_KIND = "none";

export function kindClasses(): string[] {
  return [...KINDS.map((k) => k.concept), NO_KIND];
}

export function kindByConcept(concept: string): Kind | undefined {
  return KINDS.find((k) => k.concept === concept);
}

/** The most specific kind a WordNet synset belongs to (the concept itself or one of its ancestors), if any. */
export function kindOfSynset(wordnet: WordNet, id: number): Kind | undefined {
  const lineage = new Set([id, ...wordnet.ancestors(id)]);
  return KINDS.find((k) => wordnet.senses(k.concept).some((s) => lineage.has(s.id)));
}
