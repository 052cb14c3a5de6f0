import { LEX_FILES, type Synset, type WordNet } from "../../lexicon/wordnet.js";

/**
 * Kinds: words more specific than a category that a second head can tell from the pooled embedding ("a bird",
 * not only "an animal"). Each is a WordNet concept, so what counts as a bird is WordNet's answer, and the words
 * are chosen broad enough to be learned from a few hundred photos. More specific kinds come first. Kinds form
 * a tree by WordNet (a dog is a mammal); a group kind has no class of its own in the head, its probability is
 * the sum of the kinds under it (a car or a truck is a motor vehicle).
 */
export interface Kind {
  /** The caption's phrase: "a bird", "fruit". */
  phrase: string;
  /** The WordNet noun whose concept (and everything under it) is this kind. */
  concept: string;
  category: string;
  /** A group of other kinds, with no head class of its own. */
  group?: boolean;
}

export const KINDS: readonly Kind[] = [
  { phrase: "a dog", concept: "dog", category: "animals" },
  { phrase: "a bird", concept: "bird", category: "animals" },
  { phrase: "a reptile", concept: "reptile", category: "animals" },
  { phrase: "an insect", concept: "insect", category: "animals" },
  { phrase: "a mammal", concept: "mammal", category: "animals" },
  { phrase: "a car", concept: "car", category: "vehicles" },
  { phrase: "a truck", concept: "truck", category: "vehicles" },
  { phrase: "a motor vehicle", concept: "motor vehicle", category: "vehicles", group: true },
  { phrase: "a locomotive", concept: "locomotive", category: "vehicles" },
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
  { phrase: "a house", concept: "house", category: "architecture" },
  { phrase: "a musical instrument", concept: "musical instrument", category: "objects" },
  { phrase: "furniture", concept: "furniture", category: "objects" },
  { phrase: "a container", concept: "container", category: "objects" },
];

/** The head's class for photos of no kind above. */
export const NO_KIND = "none";

/** The kinds the head has a class for (group kinds sum their members), plus NO_KIND. */
export function kindClasses(): string[] {
  return [...KINDS.filter((k) => !k.group).map((k) => k.concept), NO_KIND];
}

export function kindByConcept(concept: string): Kind | undefined {
  return KINDS.find((k) => k.concept === concept);
}

/**
 * The lexicographer files a kind's sense comes from: the dog the animal, not the hot dog. Only the most
 * frequent sense there counts (a car is an automobile, a house a dwelling, not a theatre).
 */
const KIND_LEX_FILES: Record<string, readonly number[]> = {
  animals: [LEX_FILES.animal],
  food: [LEX_FILES.food, LEX_FILES.plant],
  nature: [LEX_FILES.object, LEX_FILES.plant],
};

function kindSenses(wordnet: WordNet, kind: Kind): Synset[] {
  const lexFiles = KIND_LEX_FILES[kind.category] ?? [LEX_FILES.artifact];
  return wordnet
    .senses(kind.concept)
    .filter((s) => lexFiles.includes(s.lexFile))
    .slice(0, 1);
}

/**
 * The most specific kind a WordNet synset belongs to (the concept itself or one of its ancestors), if any;
 * with `trained`, only kinds the head has a class for.
 */
export function kindOfSynset(wordnet: WordNet, id: number, trained = false): Kind | undefined {
  const lineage = new Set([id, ...wordnet.ancestors(id)]);
  return KINDS.find((k) => !(trained && k.group) && kindSenses(wordnet, k).some((s) => lineage.has(s.id)));
}

/** Each kind's nearest more general kind by WordNet (dog -> mammal, car -> motor vehicle), if any. */
export function kindParents(wordnet: WordNet): Map<string, string> {
  const parents = new Map<string, string>();
  for (const kind of KINDS) {
    const ancestors = new Set(kindSenses(wordnet, kind).flatMap((s) => wordnet.ancestors(s.id)));
    const parent = KINDS.find(
      (k) =>
        k !== kind && k.category === kind.category && kindSenses(wordnet, k).some((s) => ancestors.has(s.id)),
    );
    if (parent) parents.set(kind.concept, parent.concept);
  }
  return parents;
}
