import { z } from "zod";
import type { Taxonomy } from "./taxonomy.js";
import { isCategory } from "./taxonomy.js";

/** Bumped whenever the shared prompt or output contract changes; stored with every analysis. */
export const PROMPT_VERSION = "2026-11-26.1";

export const LIMITS = {
  summaryChars: 400,
  tags: 15,
  tagChars: 40,
  altTextChars: 125,
  textChars: 4000,
  // The words a photo came with (its metadata or sidecar): IPTC's own limits, roughly.
  ownTitleChars: 256,
  ownDescriptionChars: 2000,
  ownKeywords: 50,
  ownKeywordChars: 64,
} as const;

/** Where an analysis came from and what it cost. */
export interface Provenance {
  provider: string;
  model: string;
  promptVersion: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  ms: number;
}

/** Facts some analysers add beyond the contract (the local one: objects, faces, colours...). */
export interface AnalysisExtras {
  objects?: { label: string; score: number; box: [number, number, number, number] }[];
  faces?: number;
  drawing?: boolean;
  nsfw?: boolean;
  colours?: string[];
  place?: string | null;
  [key: string]: unknown;
}

/** The validated result of one analysis, as the analyser contract in DESIGN.md defines it. */
export interface Analysis {
  summary: string;
  category: string;
  tags: string[];
  altText: string;
  text: string | null;
  confidence: number;
  extras?: AnalysisExtras;
  /** An image embedding, when the analyser makes one: used to learn from the user's corrections. */
  embedding?: { model: string; vector: number[] };
  provenance: Provenance;
}

/** Raw fields a model returns (snake_case as in the prompt), before normalisation. */
export const modelOutputSchema = z.object({
  summary: z.string().min(1),
  category: z.string().min(1),
  tags: z.array(z.string()).default([]),
  alt_text: z.string().default(""),
  text: z.string().nullable().optional(),
  confidence: z.number().min(0).max(1).optional(),
});
export type ModelOutput = z.infer<typeof modelOutputSchema>;

// Control characters other than tab and newline never belong in stored text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Removes control characters but tab and newline, and bidi overrides (which can disguise text). */
export function stripControlCharacters(value: string): string {
  return value.replace(CONTROL, "");
}

export function cleanText(value: string, maxChars: number): string {
  const cleaned = stripControlCharacters(value)
    .replace(/[ \t]+/g, " ")
    .trim();
  if (cleaned.length <= maxChars) return cleaned;
  return `${cleaned.slice(0, maxChars - 1).trimEnd()}…`;
}

export function normaliseTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    const t = cleanText(tag, LIMITS.tagChars).toLowerCase().replace(/\s+/g, " ");
    if (t && !seen.has(t)) seen.add(t);
    if (seen.size >= LIMITS.tags) break;
  }
  return [...seen];
}

const BANNED_OPENINGS =
  /^(this|the)\s+(image|photo|photograph|picture)\s+(shows|depicts|contains|features)\s+/i;

/** Summaries start with the subject: "This image shows a cat" becomes "A cat". */
export function normaliseSummary(summary: string): string {
  let s = cleanText(summary.replace(/\s+/g, " "), LIMITS.summaryChars);
  s = s.replace(BANNED_OPENINGS, "");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Validates untrusted model output against the contract and the taxonomy.
 * Throws a readable error when the output cannot be used; a category outside the taxonomy is an error
 * (never stored), so the caller can retry or fail the job with the reason.
 */
export function normaliseModelOutput(
  raw: unknown,
  taxonomy: Taxonomy,
): Omit<Analysis, "provenance" | "extras" | "embedding"> {
  const parsed = modelOutputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`model output is invalid: ${issue?.path.join(".") || "value"}: ${issue?.message}`);
  }
  const out = parsed.data;
  const category = out.category.trim().toLowerCase();
  if (!isCategory(taxonomy, category)) {
    throw new Error(`model output is invalid: category "${cleanText(category, 40)}" is not in the taxonomy`);
  }
  const summary = normaliseSummary(out.summary);
  if (!summary) throw new Error("model output is invalid: summary is empty");
  const text = out.text ? cleanText(out.text, LIMITS.textChars) : "";
  return {
    summary,
    category,
    tags: normaliseTags(out.tags),
    altText: cleanText(out.alt_text || summary, LIMITS.altTextChars),
    text: text && !/^(none|null|n\/a)$/i.test(text) ? text : null,
    confidence: out.confidence ?? 0.5,
  };
}
