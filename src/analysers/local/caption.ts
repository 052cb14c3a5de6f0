import { cleanText, LIMITS, normaliseSummary, normaliseTags } from "../../domain/analysis.js";
import { CAPTION_NOUN, OBJECT_CLASSES } from "./labels.js";
import type { DetectedObject } from "./models.js";

export interface CaptionFacts {
  /** Category in the default taxonomy's terms (what the models think), even when a user taxonomy differs. */
  category: string;
  objects: readonly DetectedObject[];
  faces: number;
  drawing: boolean;
  colours: readonly string[];
  text: string | null;
  takenAt?: string | null;
  place?: string | null;
}

export interface Caption {
  summary: string;
  altText: string;
  tags: string[];
}

/** Objects this sure are named in the caption; weaker ones only become tags. */
const NAMED_SCORE = 0.45;
const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

function pluralOf(label: string): string {
  return OBJECT_CLASSES.find((c) => c.label === label)?.plural ?? `${label}s`;
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) && !/^(uni|eu|one)/i.test(noun) ? "an" : "a";
}

/** "a dog", "two dogs", "several dogs", "many dogs". */
export function countPhrase(label: string, count: number): string {
  const noun = CAPTION_NOUN[label] ?? label;
  if (count <= 1) return `${article(noun)} ${noun}`;
  const plural = label === "person" ? "people" : pluralOf(label);
  if (count <= 5) return `${NUMBER_WORDS[count]} ${plural}`;
  return count <= 12 ? `several ${plural}` : `many ${plural}`;
}

export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Objects of the photo's own category are named from this score (a dog in an animal photo). */
const EXPECTED_SCORE = 0.25;

/** Things worth naming, most salient first: people (from faces or person boxes), then other objects. */
function subjects(facts: CaptionFacts): string[] {
  const counts = new Map<string, { count: number; area: number; expected: boolean }>();
  for (const o of facts.objects) {
    const expected = OBJECT_CLASSES.find((c) => c.label === o.label)?.category === facts.category;
    if (o.score < (expected ? EXPECTED_SCORE : NAMED_SCORE)) continue;
    const entry = counts.get(o.label) ?? { count: 0, area: 0, expected };
    entry.count++;
    entry.area += o.box[2] * o.box[3];
    counts.set(o.label, entry);
  }
  const people = Math.max(facts.faces, counts.get("person")?.count ?? 0);
  counts.delete("person");
  const others = [...counts.entries()]
    .sort((a, b) => Number(b[1].expected) - Number(a[1].expected) || b[1].area - a[1].area)
    .slice(0, 2)
    .map(([label, { count }]) => countPhrase(label, count));
  return people > 0 ? [countPhrase("person", people), ...others] : others;
}

const SCENE: Record<string, string> = {
  people: "a portrait",
  animals: "an animal",
  food: "food",
  vehicles: "a vehicle",
  nature: "a natural landscape",
  architecture: "a building",
  objects: "an object",
  documents: "a document with text",
  art: "a painting or artwork",
  other: "an abstract picture",
};

/** Where the named subjects are, for scene categories. */
const SETTING: Record<string, string> = {
  nature: "outdoors in nature",
  architecture: "in front of buildings",
  documents: "beside some text",
};

function colourPhrase(colours: readonly string[]): string {
  const named = colours.filter((c) => c !== "grey" && c !== "light grey").slice(0, 2);
  return named.length ? ` in ${joinList(named)} tones` : "";
}

function when(takenAt: string | null | undefined): string | null {
  if (!takenAt) return null;
  const date = new Date(takenAt);
  if (Number.isNaN(date.getTime())) return null;
  return new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
}

function quote(text: string): string {
  const words = text.replace(/\s+/g, " ").trim().split(" ").slice(0, 8).join(" ");
  return cleanText(words, 60);
}

/** The main clause: what the picture shows, without context. Never names anyone. */
function describe(facts: CaptionFacts): string {
  const named = subjects(facts);
  const category = facts.category;
  if (category === "art") {
    const base = facts.drawing ? "an illustration" : "a painting or artwork";
    return named.length ? `${base} of ${joinList(named)}` : `${base}${colourPhrase(facts.colours)}`;
  }
  if (category === "documents") {
    const base = facts.text ? `a document or sign reading "${quote(facts.text)}"` : SCENE.documents!;
    return base;
  }
  if (category === "other" && named.length === 0) {
    const dominant = facts.colours[0];
    return dominant ? `an abstract picture, mostly ${dominant}` : SCENE.other!;
  }
  if (named.length === 0) return `${SCENE[category] ?? SCENE.other}${colourPhrase(facts.colours)}`;
  const setting = SETTING[category];
  if (setting) return `${joinList(named)} ${setting}`;
  if (category === "people" && facts.faces === 1 && named.length === 1) return "a portrait of a person";
  return joinList(named);
}

export function caption(facts: CaptionFacts): Caption {
  const main = describe(facts);
  const date = when(facts.takenAt);
  const place = facts.place ? cleanText(facts.place, 80) : null;
  let context = "";
  if (place && date) context = `, photographed near ${place} in ${date}`;
  else if (place) context = `, photographed near ${place}`;
  else if (date) context = `, photographed in ${date}`;
  const summary = normaliseSummary(`${main}${context}.`);
  const altText = cleanText(normaliseSummary(`${main}.`), LIMITS.altTextChars);

  const tags = [
    facts.category,
    facts.drawing ? "illustration" : "",
    ...(facts.faces > 0 ? ["people"] : []),
    ...facts.objects.filter((o) => o.score >= 0.35).map((o) => (o.label === "person" ? "people" : o.label)),
    ...facts.colours.slice(0, 2),
    ...(facts.text ? ["text"] : []),
    ...(place ? [place.split(",")[0] ?? ""] : []),
    ...(date ? [date.split(" ").at(-1) ?? ""] : []),
  ].filter(Boolean);
  return { summary, altText, tags: normaliseTags(tags) };
}
