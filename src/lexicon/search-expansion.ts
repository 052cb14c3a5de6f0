import { LEX_FILES, loadWordNet, type Synset, type WordNet } from "./wordnet.js";

/**
 * Search by meaning, offline: each word of a query stands for itself (and its singular and plural), its
 * synonyms, and the more specific words people use for the same thing, from WordNet. "animal" finds a dog,
 * "automobile" a car, "fruit" a lemon, "cat" a kitten.
 */
export interface ExpandedWord {
  /** The word as typed. */
  word: string;
  /** Matched as a prefix as well (the query's last word: people search as they type). */
  prefix: boolean;
  /** The word, its base forms and their plurals. */
  forms: string[];
  /** Other words for the same concept, in its usual senses, with their plurals. */
  synonyms: string[];
  /** Words for more specific concepts, the most familiar first, with their plurals (capped). */
  narrower: string[];
}

/** How closely a photo's words match a query, best first: a search page shows each tier in turn. */
export const SEARCH_TIERS = ["exact", "synonym", "narrower"] as const;
export type SearchTier = 0 | 1 | 2;

/** Familiar narrower words kept per query word: enough for "animal" to reach dogs, few enough to stay fast. */
export const NARROWER_PER_WORD = 48;
/** How far below a concept to look (WordNet's animal tree is deep; its most specific words are rare). */
const MAX_DESCENDANTS = 20_000;
const CACHED_WORDS = 2_000;

/** The words of `word` at a tier: each tier adds to the one before. */
export function wordsAtTier(word: ExpandedWord, tier: SearchTier): string[] {
  if (tier === 0) return word.forms;
  if (tier === 1) return [...word.forms, ...word.synonyms];
  return [...word.forms, ...word.synonyms, ...word.narrower];
}

/** The best tier that differs from the one before for some word: tiers past it find nothing new. */
export function lastTier(words: readonly ExpandedWord[]): SearchTier {
  if (words.some((w) => w.narrower.length > 0)) return 2;
  if (words.some((w) => w.synonyms.length > 0)) return 1;
  return 0;
}

const IRREGULAR: Readonly<Record<string, string>> = {
  mouse: "mice",
  goose: "geese",
  foot: "feet",
  tooth: "teeth",
  child: "children",
  person: "people",
  ox: "oxen",
  man: "men",
  woman: "women",
  fish: "fish",
  sheep: "sheep",
  deer: "deer",
};

/** The plurals a description may use for a noun (English rules; a wrong extra form matches nothing). */
export function pluralForms(noun: string): string[] {
  const words = noun.split(" ");
  const last = words.pop() ?? "";
  const head = words.length > 0 ? `${words.join(" ")} ` : "";
  const plurals: string[] = [];
  if (IRREGULAR[last]) plurals.push(IRREGULAR[last]);
  else if (last.endsWith("man")) plurals.push(`${last.slice(0, -3)}men`);
  else if (/(s|x|z|ch|sh)$/.test(last)) plurals.push(`${last}es`);
  else if (/[^aeiou]y$/.test(last)) plurals.push(`${last.slice(0, -1)}ies`);
  else if (/[^aeiou]o$/.test(last)) plurals.push(`${last}es`, `${last}s`);
  else if (last.endsWith("fe")) plurals.push(`${last.slice(0, -2)}ves`, `${last}s`);
  else if (/[^f]f$/.test(last)) plurals.push(`${last.slice(0, -1)}ves`, `${last}s`);
  else plurals.push(`${last}s`);
  return plurals.map((p) => head + p);
}

/** The nouns and their plurals (a noun already ending in s is taken as it is: "eggs", "glasses"). */
function withPlurals(nouns: Iterable<string>): string[] {
  const all = new Set<string>();
  for (const noun of nouns) {
    all.add(noun);
    if (!noun.endsWith("s")) for (const plural of pluralForms(noun)) all.add(plural);
  }
  return [...all];
}

/**
 * WordNet files young animals under "young mammal" and "young bird", not under their kind: a kitten is "young
 * domestic cat". Their glosses name the kind, so the kind gets them as narrower concepts.
 */
function youngOfKinds(wordnet: WordNet): Map<number, number[]> {
  const young = new Map<number, number[]>();
  const root = wordnet.sense("young", LEX_FILES.animal);
  if (!root) return young;
  for (const id of wordnet.descendants(root.id)) {
    const match = /^(?:an? )?young (?:of (?:an? |the )?)?([a-z -]+)/.exec(wordnet.synset(id).gloss);
    const phrase = match?.[1]?.split(/ (?:especially|that|which|of|in|under|before)\b/)[0]?.trim();
    if (!phrase) continue;
    const words = phrase.split(" ");
    // The longest ending that names an animal: "young domestic cat" -> "domestic cat".
    for (let start = 0; start < words.length; start++) {
      const kind = wordnet
        .senses(words.slice(start).join(" "))
        .find((s) => s.lexFile === LEX_FILES.animal && s.id !== id);
      if (kind) {
        young.set(kind.id, [...(young.get(kind.id) ?? []), id]);
        break;
      }
    }
  }
  return young;
}

export interface SearchExpander {
  /** The expansion of each query term (lowercase words, as searchTerms gives them); the last is a prefix. */
  expand(terms: readonly string[]): ExpandedWord[];
}

/**
 * Basic colour words: in a photo's words they name its tones ("in orange and olive tones") far more often than
 * the thing, so they are never taken as narrower words ("fruit" finds lemons, not every orange-toned photo).
 */
const COLOUR_WORDS = new Set(
  "black white grey gray red pink orange brown beige yellow olive green teal turquoise blue purple magenta violet cream gold silver navy tan".split(
    " ",
  ),
);

/** A colour word, or a phrase ending in one ("black olive" would match tags "black, olive"). */
const namesColour = (word: string) => COLOUR_WORDS.has(word.split(/[ -]/).at(-1) ?? "");

export function createSearchExpander(wordnet: WordNet): SearchExpander {
  const youngOf = youngOfKinds(wordnet);
  const cache = new Map<string, Omit<ExpandedWord, "prefix">>();

  /** Whether people usually mean `synset` by `word` (so "machine" does not stand for a car). */
  const usuallyMeans = (word: string, synset: Synset) =>
    wordnet.usualSenses(word).some((s) => s.id === synset.id);

  const narrowerOf = (senses: readonly Synset[], exclude: Set<string>): string[] => {
    const seen = new Set<number>(senses.map((s) => s.id));
    const found = new Map<string, number>();
    // Words never seen in tagged text, in breadth-first order: used only when too few familiar ones exist.
    const rare: [string, number][] = [];
    let frontier = senses.map((s) => s.id);
    while (frontier.length > 0 && seen.size < MAX_DESCENDANTS) {
      const next: number[] = [];
      for (const id of frontier) {
        for (const child of [...wordnet.synset(id).narrower, ...(youngOf.get(id) ?? [])]) {
          if (seen.has(child)) continue;
          seen.add(child);
          next.push(child);
          const synset = wordnet.synset(child);
          for (const word of synset.words) {
            // "fruit" should not find every photo "in orange tones".
            if (exclude.has(word) || found.has(word) || namesColour(word)) continue;
            const count = wordnet.frequency(word, child);
            if (count === 0) rare.push([word, child]);
            // Familiar words in their usual sense: "game" is no animal to most people.
            else if (usuallyMeans(word, synset)) found.set(word, count);
          }
        }
      }
      frontier = next;
    }
    // Most familiar first (a stable sort keeps the nearer of equally familiar words first).
    const familiar = [...found]
      .sort(([, a], [, b]) => b - a)
      .slice(0, NARROWER_PER_WORD)
      .map(([word]) => word);
    // Then words with no other meaning ("dachshund"), nearest first.
    for (const [word] of rare) {
      if (familiar.length >= NARROWER_PER_WORD) break;
      if (!familiar.includes(word) && wordnet.senses(word).length === 1) familiar.push(word);
    }
    return familiar;
  };

  const expandWord = (word: string): Omit<ExpandedWord, "prefix"> => {
    const cached = cache.get(word);
    if (cached) return cached;
    // Short words and numbers stay as typed: "a", "of" or "4" mean nothing more in a search.
    const lemmas = /^\p{L}{3,}$/u.test(word) ? wordnet.lemmas(word) : [];
    // The word as typed, its base forms and their plurals (a plural typed is not made plural again).
    const forms = [...new Set([word, ...withPlurals(lemmas)])];
    // A plural form is the word itself, not a plural noun: "glasses" is also the noun "glasses".
    const senses = lemmas.length > 0 ? wordnet.usualSenses(word) : [];
    const exact = new Set(forms);
    const synonyms = senses
      .flatMap((s) => s.words.filter((w) => !exact.has(w) && usuallyMeans(w, s)))
      .filter((w, i, all) => all.indexOf(w) === i);
    const synonymForms = withPlurals(synonyms).filter((w) => !exact.has(w));
    const narrower = narrowerOf(senses, new Set([...forms, ...synonyms]));
    const known = new Set([...forms, ...synonymForms]);
    const expanded = {
      word,
      forms,
      synonyms: synonymForms,
      narrower: withPlurals(narrower).filter((w) => !known.has(w)),
    };
    if (cache.size >= CACHED_WORDS) cache.delete(cache.keys().next().value as string);
    cache.set(word, expanded);
    return expanded;
  };

  return {
    expand: (terms) => terms.map((term, i) => ({ ...expandWord(term), prefix: i === terms.length - 1 })),
  };
}

/** Each word only as typed (the last also as a prefix): search as it was before meaning, for comparisons. */
export const exactWordsOnly: SearchExpander = {
  expand: (terms) =>
    terms.map((word, i) => ({
      word,
      prefix: i === terms.length - 1,
      forms: [word],
      synonyms: [],
      narrower: [],
    })),
};

let shared: Promise<SearchExpander> | null = null;

/** The process's expander, built on first use (WordNet loads in a few hundred milliseconds). */
export function loadSearchExpander(): Promise<SearchExpander> {
  shared ??= loadWordNet()
    .then(createSearchExpander)
    .catch((error: unknown) => {
      shared = null;
      throw error;
    });
  return shared;
}
