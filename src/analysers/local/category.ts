import type { Taxonomy } from "../../domain/taxonomy.js";
import { isCategory } from "../../domain/taxonomy.js";
import type { ColourStats } from "./colours.js";
import type { ModelSignals } from "./models.js";

export interface Ranked {
  label: string;
  p: number;
}

export interface CategoryDecision {
  category: string;
  confidence: number;
  /** Why, when a rule rather than the head decided (kept in extras for transparency). */
  rule: "head" | "blank" | "drawing" | "fallback";
}

/** A picture with almost no variation: blank, a flat colour, a synthetic test card. */
export function isBlank(colours: ColourStats): boolean {
  return colours.lightnessStd < 0.03 && colours.colourVariety < 0.3;
}

/** nsfwjs is confident the picture is drawn (illustration, cartoon, anime) and no real face is in it. */
export function looksDrawn(signals: ModelSignals): boolean {
  return (signals.nsfw.Drawing ?? 0) >= 0.95 && !signals.faceScores.some((s) => s >= 0.9);
}

/**
 * The category in the default taxonomy's terms: the head's ranking, with two rules for what the head
 * cannot see (taxonomy: "blank or synthetic images" are other; drawings and illustrations are art).
 */
export function decideDefault(ranking: readonly Ranked[], signals: ModelSignals, colours: ColourStats) {
  const top = ranking[0] ?? { label: "other", p: 0 };
  if (isBlank(colours)) return { category: "other", confidence: 0.9, rule: "blank" as const };
  if (looksDrawn(signals) && top.label !== "documents" && top.label !== "art") {
    const art = ranking.find((r) => r.label === "art")?.p ?? 0;
    return { category: "art", confidence: Math.max(0.5, art), rule: "drawing" as const };
  }
  return { category: top.label, confidence: top.p, rule: "head" as const };
}

/**
 * Maps the decision onto the taxonomy in use. A user's own list keeps the model's class when the slug
 * exists in it and otherwise gets the fallback (corrections then teach the real mapping, see
 * learn-from-corrections).
 */
export function decideCategory(
  ranking: readonly Ranked[],
  signals: ModelSignals,
  colours: ColourStats,
  taxonomy: Taxonomy,
): CategoryDecision {
  const decision = decideDefault(ranking, signals, colours);
  if (isCategory(taxonomy, decision.category)) return decision;
  const fallbackP = ranking.find((r) => r.label === taxonomy.fallback)?.p;
  return {
    category: taxonomy.fallback,
    confidence: Math.min(0.5, fallbackP ?? 1 - decision.confidence),
    rule: "fallback",
  };
}
