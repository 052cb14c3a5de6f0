import type { Synset, WordNet } from "../../src/lexicon/wordnet.js";
import { LEX_FILES } from "../../src/lexicon/wordnet.js";

/**
 * Judges a summary against an ImageNet class with WordNet: a noun the summary names is right when it is the
 * class, a synonym or a more general word of it (tabby -> cat -> animal), wrong when it names another concrete
 * thing. "Specific" means more specific than the row's category word ("a cat", not "an animal").
 */
export type SubjectVerdict = "wrong" | "specific" | "vague";

export interface JudgedSummary {
  verdict: SubjectVerdict;
  right: string[];
  wrong: string[];
}

/** Words of our own captions that name no subject: framing, setting, colours, function words. */
const NOT_SUBJECTS = new Set(
  `a an the and or of in on at with by near from to into beside under over mostly some several many few one two
  three four five six seven eight nine ten close up close-up closeup photographed photo photograph picture image
  shot view scene setting background foreground tones tone colour colours colors abstract natural outdoors
  outdoor indoors indoor inside outside front night day daylight evening sunset sky water snow sea grass
  reading text words writing nature surroundings light dark lit bright sunny shade shadow black white grey
  gray low red orange yellow green blue purple pink brown olive teal light-grey mainly largely single lone group
  crowd pair portrait frame framed against under across along full wide several its their shown showing
  partly mixed plain pattern texture surface detail details`
    .split(/\s+/)
    .filter(Boolean),
);

/** Words that are right for any row of a category but say no more than the category does. */
const CATEGORY_WORDS: Record<string, readonly string[]> = {
  people: ["person", "people", "human", "someone"],
  animals: ["animal", "creature", "wildlife"],
  food: ["food", "dish", "meal", "produce"],
  vehicles: ["vehicle", "conveyance", "transport"],
  nature: ["landscape", "plant", "scenery", "vegetation"],
  architecture: ["building", "structure", "architecture", "street", "interior", "room"],
  objects: ["object", "thing", "item", "artifact", "artefact", "product"],
  documents: [
    "document",
    "page",
    "sign",
    "text",
    "screen",
    "screenshot",
    "chart",
    "diagram",
    "label",
    "logo",
  ],
  art: ["artwork", "art", "painting", "illustration", "drawing", "graphic", "picture"],
  other: [],
};

/** Things that come with a category's subject and say nothing wrong about it (the bowl of a soup). */
const CONTEXT_WORDS: Record<string, readonly string[]> = {
  food: [
    "bowl",
    "plate",
    "cup",
    "glass",
    "wine",
    "wineglass",
    "table",
    "fork",
    "knife",
    "spoon",
    "bottle",
    "dining table",
  ],
};

/** Concepts the class may share with a wrongly named thing ("a dog" for a cat is wrong even beside "a cat"). */
const DOMAINS = [
  "animal",
  "person",
  "food",
  "plant",
  "conveyance",
  "structure",
  "furniture",
  "musical instrument",
  "container",
  "garment",
  "device",
];

/** Lexicographer files of things one can photograph: animals, artefacts, body, food, natural objects, people, plants, substances. */
const CONCRETE_LEX_FILES = new Set<number>([
  LEX_FILES.animal,
  LEX_FILES.artifact,
  LEX_FILES.body,
  LEX_FILES.food,
  LEX_FILES.object,
  LEX_FILES.person,
  LEX_FILES.plant,
  LEX_FILES.substance,
]);

export const CATEGORY_ANCHOR: Record<string, string> = {
  animals: "animal",
  vehicles: "conveyance",
  food: "food",
  architecture: "structure",
};

/**
 * ImageNet classes whose synset is not the one the rules below pick, by a phrase of ImageNet's gloss
 * (ImageNet's cab is the taxi, not the hansom; its vault the arched roof, not the burial chamber).
 */
const IMAGENET_SENSE: Record<string, string> = {
  cab: "take passengers",
  wooden_spoon: "a spoon made of wood",
  vault: "arched brick",
  mortarboard: "academic cap",
  plate: "main course",
};

/** The sense of an ImageNet class that fits its row's category (pickup the truck, not the pickup the device). */
export function classSense(wordnet: WordNet, className: string, category: string): Synset | undefined {
  const senses = wordnet.senses(className.replace(/_/g, " "));
  const glossed = IMAGENET_SENSE[className];
  const chosen = glossed && senses.find((s) => s.gloss.includes(glossed));
  if (chosen) return chosen;
  const wanted: Record<string, number[]> = {
    animals: [LEX_FILES.animal],
    food: [LEX_FILES.food, LEX_FILES.plant],
    nature: [LEX_FILES.object, LEX_FILES.plant, LEX_FILES.location],
    people: [LEX_FILES.person, LEX_FILES.artifact],
    documents: [10, LEX_FILES.artifact],
  };
  const prefer = wanted[category] ?? [LEX_FILES.artifact];
  // Among the senses of the right kind, the one under the category's concept: cab the taxi, not the compartment.
  const anchor = CATEGORY_ANCHOR[category];
  const underAnchor = (s: Synset) =>
    !anchor || wordnet.senses(anchor).some((a) => a.id === s.id || wordnet.ancestors(s.id).includes(a.id));
  for (const lexFile of prefer) {
    const found = senses.find((s) => s.lexFile === lexFile && underAnchor(s));
    if (found) return found;
  }
  for (const lexFile of prefer) {
    const found = senses.find((s) => s.lexFile === lexFile);
    if (found) return found;
  }
  return senses[0];
}

/** Nouns a summary names, longest WordNet match first ("sports car", not "sports" and "car"); quotes dropped. */
export function namedNouns(wordnet: WordNet, summary: string): string[] {
  const main = summary
    .replace(/"[^"]*"/g, " ")
    .replace(/,?\s*photographed\b.*$/i, "")
    .toLowerCase();
  const tokens = main.match(/[a-z][a-z'-]*/g) ?? [];
  const nouns: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    let matched = 0;
    for (let len = Math.min(3, tokens.length - i); len >= 1; len--) {
      const phrase = tokens.slice(i, i + len).join(" ");
      // Setting words, also as the head of a phrase ("blue sky", "low light"), name no subject.
      if (NOT_SUBJECTS.has(tokens[i + len - 1]!) && (len === 1 || NOT_SUBJECTS.has(tokens[i]!))) {
        if (len === 1) break;
        continue;
      }
      if (wordnet.senses(phrase).length > 0) {
        nouns.push(phrase);
        matched = len;
        break;
      }
    }
    i += Math.max(1, matched);
  }
  return nouns;
}

export function judgeSummary(
  wordnet: WordNet,
  summary: string,
  className: string,
  category: string,
  /** Nouns a person saw prominent in this photo beside its class (eval/imagenet-visible.tsv). */
  alsoVisible: readonly string[] = [],
): JudgedSummary {
  const sense = classSense(wordnet, className, category);
  if (!sense) throw new Error(`WordNet has no noun for the class ${className}`);
  const truth = new Set([sense.id, ...wordnet.ancestors(sense.id)]);
  // The labelling rules make a person the subject of every "people" row (often an ImageNet clothing class).
  if (category === "people") {
    for (const p of wordnet.senses("person").slice(0, 1)) {
      truth.add(p.id);
      for (const a of wordnet.ancestors(p.id)) truth.add(a);
    }
  }
  const vagueWords = new Set(CATEGORY_WORDS[category] ?? []);
  const domainOf = (s: Synset): string | undefined => {
    const lineage = new Set([s.id, ...wordnet.ancestors(s.id)]);
    return DOMAINS.find((d) => wordnet.senses(d).some((g) => lineage.has(g.id)));
  };
  const classDomain = domainOf(sense);
  const right: string[] = [];
  const wrong: string[] = [];
  let specific = false;
  let sameDomainWrong = false;
  const neutral = new Set([...(CONTEXT_WORDS[category] ?? []), ...alsoVisible]);
  for (const named of namedNouns(wordnet, summary)) {
    // "people" is also a group noun in WordNet (a nation): in a caption it means persons.
    const noun = named === "people" ? "person" : named;
    if (neutral.has(noun) || wordnet.lemmas(noun).some((lemma) => neutral.has(lemma))) continue;
    const senses = wordnet.senses(noun);
    const isRight = senses.some((s) => truth.has(s.id));
    const base = wordnet.lemmas(noun)[0] ?? noun;
    // A plant, fungus or animal close up is not a landscape (the "flower called a natural landscape").
    const sceneWord = base === "landscape" || base === "scenery";
    const sceneFits =
      !sceneWord || sense.lexFile === LEX_FILES.object || sense.lexFile === LEX_FILES.location;
    if (isRight || (sceneFits && (vagueWords.has(base) || vagueWords.has(noun)))) {
      right.push(noun);
      // More specific than the category: right, and not one of the category's own words or their ancestors.
      const categoryLevel =
        vagueWords.has(base) ||
        vagueWords.has(noun) ||
        senses.some((s) => [...vagueWords].some((w) => wordnet.isKindOf(w, s.words[0] ?? noun, 1)));
      if (isRight && !categoryLevel) specific = true;
      continue;
    }
    if (sceneWord) {
      wrong.push(noun);
      continue;
    }
    const concrete = senses.slice(0, 2).some((s) => CONCRETE_LEX_FILES.has(s.lexFile));
    if (!concrete) continue;
    wrong.push(noun);
    if (classDomain && senses.slice(0, 2).some((s) => domainOf(s) === classDomain)) sameDomainWrong = true;
  }
  const verdict: SubjectVerdict =
    (wrong.length > 0 && right.length === 0) || sameDomainWrong ? "wrong" : specific ? "specific" : "vague";
  return { verdict, right, wrong };
}
