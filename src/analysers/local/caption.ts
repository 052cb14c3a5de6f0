import { cleanText, LIMITS, normaliseSummary, normaliseTags } from "../../domain/analysis.js";
import { LEX_FILES, type WordNet } from "../../lexicon/wordnet.js";
import { decideDefault, type Ranked } from "./category.js";
import type { ColourStats } from "./colours.js";
import { KINDS, type Kind, kindByConcept, kindOfSynset, kindParents } from "./kinds.js";
import { CAPTION_NOUN, OBJECT_CLASSES, type ObjectClass } from "./labels.js";
import type { DetectedObject, ModelSignals } from "./models.js";

/** What the models said about one photo, in the default taxonomy's terms. */
export interface CaptionFacts {
  /** The category decided for the photo (head plus rules) and its calibrated probability. */
  category: string;
  confidence: number;
  /** The head's calibrated ranking of every category. */
  ranking: readonly Ranked[];
  /** The kind head's calibrated ranking of kinds (kinds.ts), when it ran. */
  kinds?: readonly Ranked[];
  objects: readonly DetectedObject[];
  /** Faces confirmed by the face mesh. */
  faces: number;
  /** nsfwjs's probability that the picture is drawn. */
  drawing: number;
  colours: ColourStats;
  text: string | null;
  takenAt?: string | null;
  place?: string | null;
}

/** Faces the face mesh confirms (true faces score about 1.0; animals and textures fall away). */
export const FACE_SCORE = 0.9;

/** The facts a caption is written from: the models' signals and the head's ranking, decided with its rules. */
export function captionFacts(
  signals: ModelSignals,
  colours: ColourStats,
  ranking: readonly Ranked[],
  kinds: readonly Ranked[] | undefined,
  text: string | null,
  context: { takenAt?: string | null; place?: string | null } = {},
): CaptionFacts {
  const decided = decideDefault(ranking, signals, colours);
  return {
    category: decided.category,
    confidence: decided.confidence,
    ranking,
    kinds,
    objects: signals.objects,
    faces: signals.faceScores.filter((s) => s >= FACE_SCORE).length,
    drawing: signals.nsfw.Drawing ?? 0,
    colours,
    text,
    takenAt: context.takenAt,
    place: context.place,
  };
}

export interface Caption {
  summary: string;
  altText: string;
  tags: string[];
  /** The subject named and how sure the models were: the thing itself, its category's word, or nothing. */
  subject: { phrase: string | null; level: "specific" | "category" | "none" };
}

/**
 * What WordNet says about the words captions may name, built once per process: their more general words
 * (dog -> domestic animal, animal), so a photo named "a dog" is found by a search for "animal", and the kind
 * each detector label belongs to (car -> car, bus -> none), so the detector and the kind head can be compared.
 */
export interface Vocabulary {
  /** By COCO label and by kind concept. */
  general: ReadonlyMap<string, readonly string[]>;
  /** A detector label's most specific kind of the label's own category (dog -> dog, cat -> mammal). */
  kindOfLabel: ReadonlyMap<string, string>;
  /** Each kind's nearest more general kind (dog -> mammal, car -> motor vehicle). */
  kindParent: ReadonlyMap<string, string>;
}

export const EMPTY_VOCABULARY: Vocabulary = {
  general: new Map(),
  kindOfLabel: new Map(),
  kindParent: new Map(),
};

/** General words worth a tag: the ones people search with, not WordNet's inner nodes ("placental"). */
const USEFUL_GENERAL = new Set([
  "animal",
  "mammal",
  "bird",
  "pet",
  "domestic animal",
  "livestock",
  "vehicle",
  "motor vehicle",
  "aircraft",
  "vessel",
  "food",
  "fruit",
  "vegetable",
  "dish",
  "plant",
  "furniture",
  "container",
  "tableware",
  "appliance",
  "device",
  "computer",
  "electronic equipment",
  "sports equipment",
  "clothing",
  "toy",
  "tool",
  "person",
]);

const LEX_FILE_OF: Record<ObjectClass["category"], number> = {
  people: LEX_FILES.person,
  animals: LEX_FILES.animal,
  food: LEX_FILES.food,
  vehicles: LEX_FILES.artifact,
  objects: LEX_FILES.artifact,
  nature: LEX_FILES.plant,
  architecture: LEX_FILES.artifact,
};

/** WordNet's spelling of the COCO nouns it files under another name. */
const WORDNET_NOUN: Record<string, string> = {
  "cell phone": "cellular telephone",
  "hair drier": "hand blower",
  "potted plant": "pot plant",
  "wine glass": "wineglass",
  "sports ball": "ball",
  tv: "television receiver",
  kite: "kite",
  microwave: "microwave oven",
  toaster: "toaster",
  "hot dog": "hotdog",
  donut: "doughnut",
  "stop sign": "street sign",
  "traffic light": "traffic light",
};

export function buildVocabulary(wordnet: WordNet): Vocabulary {
  const general = new Map<string, string[]>();
  const kindOfLabel = new Map<string, string>();
  const generalOf = (id: number) => [
    ...new Set(
      wordnet.ancestors(id).flatMap((a) => wordnet.synset(a).words.filter((w) => USEFUL_GENERAL.has(w))),
    ),
  ];
  for (const c of OBJECT_CLASSES) {
    const noun = WORDNET_NOUN[c.label] ?? c.label;
    const lexFile =
      c.label === "kite" || c.label === "toaster" ? LEX_FILES.artifact : LEX_FILE_OF[c.category];
    const sense = wordnet.sense(noun, lexFile);
    if (!sense) continue;
    general.set(c.label, generalOf(sense.id));
    const kind = kindOfSynset(wordnet, sense.id);
    if (kind && kind.category === c.category) kindOfLabel.set(c.label, kind.concept);
  }
  for (const kind of KINDS) {
    const sense = wordnet.senses(kind.concept)[0];
    if (sense) general.set(kind.concept, generalOf(sense.id));
  }
  return { general, kindOfLabel, kindParent: kindParents(wordnet) };
}

/**
 * How sure the models must be before a caption names something. Chosen on the evaluation's trade-off curve
 * (`npm run eval -- --only descriptions`: wrong-subject share against specific-right share, out of fold).
 */
export interface CaptionThresholds {
  /** The category's own word is named when the head is this sure... */
  sure: number;
  /** ...or this sure and a detection of that category agrees. */
  likely: number;
  /** A detection this strong counts as agreement with the category. */
  agreeScore: number;
  /** A detection this strong is evidence for its label (a dog); weaker agreeing ones can only generalise. */
  nameScore: number;
  /** The kind head's evidence: a kind it gives this much (with the kinds under it)... */
  kindSure: number;
  /** ...and its opinion, which can only generalise the word (a dog box, the kind head thinking "bird"). */
  kindInMind: number;
  /** Without strong evidence, a kind head opinion this strong and a weaker detection agreeing name their word. */
  kindAgree: number;
}

export const CAPTION_THRESHOLDS: CaptionThresholds = {
  sure: 0.8,
  likely: 0.55,
  agreeScore: 0.4,
  nameScore: 0.4,
  kindSure: 0.7,
  kindInMind: 0.1,
  kindAgree: 0.3,
};
/** A detection this weak still backs a kind the kind head names, and makes a named word more general (a cat box at 0.22 beside a dog box: "a mammal"). */
const KIND_BACKING_SCORE = 0.2;
const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

function classOf(label: string): ObjectClass | undefined {
  return OBJECT_CLASSES.find((c) => c.label === label);
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) && !/^(uni|eu|one)/i.test(noun) ? "an" : "a";
}

/** "a dog", "two dogs", "several dogs", "many dogs". */
export function countPhrase(label: string, count: number): string {
  const noun = CAPTION_NOUN[label] ?? label;
  if (count <= 1) return `${article(noun)} ${noun}`;
  const plural = label === "person" ? "people" : (classOf(label)?.plural ?? `${label}s`);
  if (count <= 5) return `${NUMBER_WORDS[count]} ${plural}`;
  return count <= 12 ? `several ${plural}` : `many ${plural}`;
}

export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function colourPhrase(colours: readonly string[]): string {
  const named = colours.filter((c) => c !== "grey" && c !== "light grey").slice(0, 2);
  return named.length ? `in ${joinList(named)} tones` : "";
}

function when(takenAt: string | null | undefined): string | null {
  if (!takenAt) return null;
  const date = new Date(takenAt);
  if (Number.isNaN(date.getTime())) return null;
  return new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
}

function quote(text: string, words: number): string {
  const cut = text.replace(/\s+/g, " ").trim().split(" ").slice(0, words).join(" ");
  return cleanText(cut, 60);
}

/** Where the photo was taken, as far as the pixels show it. Only said when the evidence is plain. */
export interface Setting {
  sky: boolean;
  water: boolean;
  snow: boolean;
  dark: boolean;
}

export function settingOf(colours: ColourStats, category: string): Setting {
  const scenic = category === "nature" || category === "vehicles" || category === "architecture";
  const sky = colours.blueTop >= 0.3;
  return {
    sky,
    water: scenic && sky && colours.blueBottom >= 0.35,
    snow:
      scenic &&
      colours.whiteBottom >= 0.6 &&
      colours.whiteShare >= 0.2 &&
      colours.saturationMean < 0.2 &&
      colours.lightnessMean > 0.55,
    dark: colours.lightnessMean < 0.2 && colours.darkShare >= 0.5,
  };
}

function settingPhrase(setting: Setting): string {
  if (setting.dark) return "in low light";
  if (setting.snow) return "in the snow";
  if (setting.water) return "by the water under a blue sky";
  if (setting.sky) return "outdoors under a blue sky";
  return "";
}

function lightPhrase(colours: ColourStats): string {
  if (colours.lightnessMean >= 0.65) return "bright and light";
  if (colours.lightnessMean <= 0.3) return "dark and shadowy";
  return colours.saturationMean >= 0.45 ? "in vivid colour" : "in soft, even light";
}

interface Subject {
  /** "a dog", "two people", "an animal"; null when the models are not sure what the photo shows. */
  phrase: string | null;
  level: Caption["subject"]["level"];
  /** COCO labels named, for tags. */
  labels: string[];
  closeUp: boolean;
}

/** Categories whose subject is a thing the detector also names; a label of another one contradicts them. */
const SUBJECT_CATEGORIES = new Set(["people", "animals", "food", "vehicles"]);

const CATEGORY_PHRASE: Record<string, string> = {
  animals: "an animal",
  food: "food",
  vehicles: "a vehicle",
  architecture: "a building",
  objects: "an object",
  documents: "a document",
};

/** A kind and every kind more general than it (dog, mammal). */
function lineage(concept: string, parents: ReadonlyMap<string, string>): string[] {
  const out = [concept];
  for (let c = parents.get(concept); c && !out.includes(c); c = parents.get(c)) out.push(c);
  return out;
}

/**
 * The kind head's probability of each kind of a category, a kind counting the kinds under it (a motor
 * vehicle = car + truck + motor vehicles of no finer kind).
 */
function kindMass(facts: CaptionFacts, vocabulary: Vocabulary): Map<string, number> {
  const mass = new Map<string, number>();
  for (const { label, p } of facts.kinds ?? []) {
    if (!kindByConcept(label)) continue;
    for (const concept of lineage(label, vocabulary.kindParent))
      mass.set(concept, (mass.get(concept) ?? 0) + p);
  }
  return mass;
}

/** How deep a kind is in the tree of kinds (mammal 0, dog 1). */
const depth = (concept: string, vocabulary: Vocabulary) => lineage(concept, vocabulary.kindParent).length;

/**
 * What the photo shows, said only as far as the models agree: the detector's label when the category head is
 * likely right, the detection is strong and of that category, and the kind head does not have another kind of
 * the category in mind; else the most specific kind the kind head is sure of (a bird, a motor vehicle); else
 * the category's own word when the head is sure (or likely and backed by a detection); nothing otherwise.
 * A label of another subject category is never named.
 */
function chooseSubject(facts: CaptionFacts, vocabulary: Vocabulary, t: CaptionThresholds): Subject {
  const { category, confidence: p } = facts;
  const agreeing = facts.objects.filter(
    (o) => classOf(o.label)?.category === category && o.label !== "person",
  );
  const strongest = agreeing.reduce<DetectedObject | undefined>(
    (a, o) => (!a || o.score > a.score ? o : a),
    undefined,
  );
  const backed = (strongest?.score ?? 0) >= t.agreeScore;
  const categoryNamed = p >= t.sure || (p >= t.likely && backed);
  const none: Subject = { phrase: null, level: "none", labels: [], closeUp: false };

  // People: a confirmed face and either the head or a strong person box agreeing.
  const personBoxes = facts.objects.filter((o) => o.label === "person" && o.score >= t.nameScore);
  if (facts.faces > 0 && ((category === "people" && p >= t.likely) || personBoxes.length > 0)) {
    const count = Math.max(facts.faces, personBoxes.length);
    const area = Math.max(0, ...personBoxes.map((o) => o.box[2] * o.box[3]));
    if (count === 1)
      return {
        phrase: area >= 0.3 ? "a portrait of a person" : "a person",
        level: "category",
        labels: ["person"],
        closeUp: false,
      };
    return {
      phrase: count >= 6 ? "a group of people" : countPhrase("person", count),
      level: "category",
      labels: ["person"],
      closeUp: false,
    };
  }
  if (category === "people")
    return p >= t.sure ? { ...none, phrase: "a person", level: "category", labels: ["person"] } : none;

  if (!categoryNamed) return none;
  // Each signal names a word of the category: the kind head its deepest kind, each agreeing detection its
  // label. The caption names the most specific word all of them support: their nearest common word (a car
  // box and a kind head sure of "truck" make "a motor vehicle"). Weak signals can only make the word more
  // general; a word needs at least one strong one.
  const mass = kindMass(facts, vocabulary);
  const deepest = (threshold: number) =>
    KINDS.filter((k) => k.category === category && (mass.get(k.concept) ?? 0) >= threshold).sort(
      (a, b) =>
        depth(b.concept, vocabulary) - depth(a.concept, vocabulary) ||
        (mass.get(b.concept) ?? 0) - (mass.get(a.concept) ?? 0),
    )[0];
  const labelLineage = (label: string) => {
    const kind = vocabulary.kindOfLabel.get(label);
    return [`label:${label}`, ...(kind ? lineage(kind, vocabulary.kindParent) : [])];
  };
  const strong: string[][] = [];
  const weak: string[][] = [];
  // A kind the detector has a class for (dog, bird, car, truck) is named from the kind head only when a
  // detection of it agrees, however weakly: the kind head alone takes cats for dogs. Else its parent kind is.
  const seen = new Set(agreeing.filter((o) => o.score >= KIND_BACKING_SCORE).map((o) => o.label));
  const backedKind = (kind: Kind | undefined): Kind | undefined => {
    let k = kind;
    while (k && classOf(k.concept) && !seen.has(k.concept)) {
      const parent = vocabulary.kindParent.get(k.concept);
      k = parent ? kindByConcept(parent) : undefined;
    }
    return k;
  };
  const sureKind = backedKind(deepest(t.kindSure));
  const kindInMind = sureKind ?? deepest(t.kindInMind);
  if (kindInMind) (sureKind ? strong : weak).push(lineage(kindInMind.concept, vocabulary.kindParent));
  if (SUBJECT_CATEGORIES.has(category)) {
    for (const o of agreeing) {
      if (o.score >= t.nameScore) strong.push(labelLineage(o.label));
      else if (o.score >= KIND_BACKING_SCORE) weak.push(labelLineage(o.label));
    }
  }
  // Two weak signals of different models agreeing count as evidence (a dog box at 0.43, the kind head 0.4 "dog").
  const agreeingKind = deepest(t.kindAgree);
  const weakAgreement =
    !sureKind &&
    agreeingKind &&
    weak.length > 1 &&
    kindInMind &&
    (mass.get(kindInMind.concept) ?? 0) >= t.kindAgree;
  const word =
    strong.length > 0 || weakAgreement
      ? [...strong, ...weak].reduce((common, next) => common.filter((w) => next.includes(w)))[0]
      : undefined;
  // Two or three strong detections of different classes (a giraffe and a zebra) are each named: their common
  // word ("a mammal") says less than either. Not when a sure kind head names neither (a bird, beside a dog and
  // a cat boxes): then only the common word is said.
  const strongLabels = SUBJECT_CATEGORIES.has(category)
    ? [
        ...new Set(
          agreeing
            .filter((o) => o.score >= t.nameScore)
            .sort((a, b) => b.score - a.score)
            .map((o) => o.label),
        ),
      ]
    : [];
  const headAgrees = !sureKind || strongLabels.some((l) => labelLineage(l).includes(sureKind.concept));
  if (
    word &&
    !word.startsWith("label:") &&
    headAgrees &&
    strongLabels.length >= 2 &&
    strongLabels.length <= 3
  ) {
    const count = (label: string) =>
      agreeing.filter((o) => o.label === label && o.score >= t.agreeScore).length;
    return {
      phrase: joinList(strongLabels.map((label) => countPhrase(label, count(label)))),
      level: "specific",
      labels: strongLabels,
      closeUp: false,
    };
  }
  if (word?.startsWith("label:")) {
    const label = word.slice("label:".length);
    const boxes = agreeing.filter((o) => o.label === label && o.score >= t.agreeScore);
    const largest = Math.max(0, ...boxes.map((o) => o.box[2] * o.box[3]));
    return {
      phrase: countPhrase(label, Math.max(1, boxes.length)),
      level: "specific",
      labels: [label],
      closeUp: boxes.length === 1 && largest >= 0.45,
    };
  }
  const kind = word ? kindByConcept(word) : undefined;
  if (kind) return { phrase: kind.phrase, level: "specific", labels: [kind.concept], closeUp: false };
  const phrase = CATEGORY_PHRASE[category];
  return phrase ? { phrase, level: "category", labels: [], closeUp: false } : none;
}

/** The main clause, without date and place. Never names anyone. */
function mainClause(facts: CaptionFacts, subject: Subject, setting: Setting, t: CaptionThresholds): string {
  const { category, confidence: p } = facts;
  const where = settingPhrase(setting);
  const colours = colourPhrase(facts.colours.dominant);
  if (category === "documents" && (p >= t.likely || facts.text)) {
    return facts.text ? `text reading "${quote(facts.text, 8)}"` : "a document";
  }
  if (category === "art" && p >= t.likely) {
    return facts.drawing >= 0.5 ? "an illustration" : "an artwork";
  }
  if (category === "other" && p >= t.likely) {
    const dominant = facts.colours.dominant[0];
    return dominant ? `an abstract picture, mostly ${dominant}` : "an abstract picture";
  }
  if (category === "nature" && p >= t.likely && !subject.phrase) {
    // A landscape shows sky; without it, plants or rocks close up are a nature scene, never "a landscape".
    return setting.sky || facts.colours.skyTop >= 0.5
      ? `a landscape${where ? `, ${where}` : ""}`
      : "a nature scene";
  }
  if (subject.phrase) {
    const framing = subject.closeUp ? ", close up" : "";
    return `${subject.phrase}${framing}${where ? `, ${where}` : ""}`;
  }
  // Not sure what it shows: say what the pixels plainly show.
  if (where) return `a photo ${where}`;
  if (facts.colours.saturationMean < 0.04) return "a black-and-white photo";
  return colours ? `a photo ${colours}` : "a photo";
}

const CATEGORY_TAG: Record<string, string> = {
  people: "person",
  animals: "animal",
  food: "food",
  vehicles: "vehicle",
  nature: "nature",
  architecture: "building",
  objects: "object",
  documents: "document",
  art: "art",
  other: "abstract",
};

export function caption(
  facts: CaptionFacts,
  vocabulary: Vocabulary = EMPTY_VOCABULARY,
  thresholds: CaptionThresholds = CAPTION_THRESHOLDS,
): Caption {
  const setting = settingOf(facts.colours, facts.category);
  const subject = chooseSubject(facts, vocabulary, thresholds);
  const main = mainClause(facts, subject, setting, thresholds);
  const date = when(facts.takenAt);
  const place = facts.place ? cleanText(facts.place, 80) : null;
  let context = "";
  if (place && date) context = `, photographed near ${place} in ${date}`;
  else if (place) context = `, photographed near ${place}`;
  else if (date) context = `, photographed in ${date}`;
  const summary = normaliseSummary(`${main}${context}.`);

  // Alt text: the same subject and setting, plus what a sighted reader notices first (colours, the text,
  // the place, the light), at most 125 characters.
  const extras: string[] = [];
  const greyscale = facts.colours.saturationMean < 0.04;
  const colours = greyscale ? "in black and white" : colourPhrase(facts.colours.dominant);
  if (colours && !main.includes(" tones") && !main.includes("mostly")) extras.push(colours);
  if (facts.text && !main.startsWith("text reading")) extras.push(`with the text "${quote(facts.text, 6)}"`);
  if (place) extras.push(`near ${place}`);
  if (!setting.dark) extras.push(lightPhrase(facts.colours));
  let alt = capitalise(main);
  for (const extra of extras) {
    if (alt.length >= 60 && extra === extras.at(-1)) break;
    if (`${alt}, ${extra}.`.length > LIMITS.altTextChars) break;
    alt = `${alt}, ${extra}`;
  }
  const altText = cleanText(normaliseSummary(`${alt}.`), LIMITS.altTextChars);

  const categoryNamed = facts.confidence >= thresholds.likely || subject.level !== "none";
  const tags = [
    facts.category,
    categoryNamed ? (CATEGORY_TAG[facts.category] ?? "") : "",
    ...subject.labels.flatMap((label) => [
      label === "person"
        ? "people"
        : (kindByConcept(label)?.phrase.replace(/^an? /, "") ?? CAPTION_NOUN[label] ?? label),
      ...(vocabulary.general.get(label) ?? []),
    ]),
    facts.drawing >= 0.5 && facts.category === "art" ? "illustration" : "",
    setting.sky ? "sky" : "",
    setting.water ? "water" : "",
    setting.snow ? "snow" : "",
    setting.dark ? "dark" : "",
    ...facts.colours.dominant.slice(0, 2),
    ...(facts.text ? ["text"] : []),
    ...(place ? [place.split(",")[0] ?? ""] : []),
    ...(date ? [date.split(" ").at(-1) ?? ""] : []),
  ].filter(Boolean);
  return {
    summary,
    altText,
    tags: normaliseTags(tags),
    subject: { phrase: subject.phrase, level: subject.level },
  };
}
