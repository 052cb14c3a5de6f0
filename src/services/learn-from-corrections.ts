import type { Analysis } from "../domain/analysis.js";
import type { CorrectionExample } from "../ports/catalog.js";

export interface CorrectionOptions {
  /** How many of the most similar corrected photos vote. */
  k?: number;
  /** Cosine similarity a corrected photo needs to count as "like this one". */
  minSimilarity?: number;
}

/**
 * Defaults measured on the local analyser's standardised embedding over the labelled test photos: photos
 * of the same category have a median cosine of 0.10, of different categories -0.03 (99th percentile
 * 0.37); leave-one-out 5-NN among neighbours above 0.45 agrees with the label ~70% of the time.
 */
export const CORRECTION_DEFAULTS: Required<CorrectionOptions> = { k: 5, minSimilarity: 0.45 };

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Lets a person's category corrections steer later photos: when this photo's embedding is close to photos
 * whose category was set by hand, their similarity-weighted majority decides the category. Pure: returns
 * a new analysis (the input is untouched), or the same one when nothing applies (no embedding, no
 * examples of the same embedding size, none similar enough, or no majority).
 */
export function applyCorrections(
  analysis: Analysis,
  examples: readonly CorrectionExample[],
  options: CorrectionOptions = {},
): Analysis {
  const { k, minSimilarity } = { ...CORRECTION_DEFAULTS, ...options };
  const vector = analysis.embedding?.vector;
  if (!vector || vector.length === 0 || examples.length === 0 || k < 1) return analysis;

  const neighbours = examples
    .filter((e) => e.vector.length === vector.length && e.category)
    .map((e) => ({ example: e, similarity: cosine(vector, e.vector) }))
    .filter((n) => Number.isFinite(n.similarity) && n.similarity >= minSimilarity)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
  if (neighbours.length === 0) return analysis;

  const votes = new Map<string, number>();
  for (const n of neighbours)
    votes.set(n.example.category, (votes.get(n.example.category) ?? 0) + n.similarity);
  const total = [...votes.values()].reduce((a, b) => a + b, 0);
  const [winner, weight] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const share = weight / total;
  if (share <= 0.5) return analysis;

  const supporters = neighbours.filter((n) => n.example.category === winner);
  const closest = supporters[0]!.similarity;
  // Agreement of the neighbours times how close the nearest one is: a near-duplicate of a corrected
  // photo is trusted almost fully, a loose resemblance less.
  const learnedConfidence = Math.round(Math.min(0.99, share * closest) * 1000) / 1000;
  const changed = winner !== analysis.category;
  const confidence = changed ? learnedConfidence : Math.max(analysis.confidence, learnedConfidence);
  return {
    ...analysis,
    category: winner,
    confidence,
    tags: changed
      ? [...new Set(analysis.tags.map((t) => (t === analysis.category ? winner : t)))]
      : analysis.tags,
    extras: {
      ...analysis.extras,
      learnedFrom: supporters.map((n) => n.example.imageId),
      ...(changed ? { modelCategory: analysis.category, modelConfidence: analysis.confidence } : {}),
    },
  };
}
