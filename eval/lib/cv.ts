import {
  type CueSignals,
  DEFAULT_TRAINING,
  type FeatureSet,
  fitTemperature,
  headInput,
  inputPenalties,
  logits,
  softmax,
  type TrainingOptions,
  trainHead,
} from "../../src/analysers/local/classifier.js";
import type { LabelledRow } from "./dataset.js";

export interface Example {
  row: LabelledRow;
  cues: CueSignals;
}

export interface CvSettings {
  features: FeatureSet;
  training: TrainingOptions;
  /** Weight of rows labelled with low confidence (0 = leave them out of training). */
  lowWeight: number;
}

/** Chosen by cross-validation (see the README): cues at the same penalty, low-confidence rows at half weight. */
export const DEFAULT_CV_SETTINGS: CvSettings = {
  features: { cues: true, cuePenalty: 1 },
  training: { ...DEFAULT_TRAINING, l2: 0.03, iterations: 300 },
  lowWeight: 0.5,
};

export interface OutOfFold {
  row: LabelledRow;
  logits: number[];
  fold: number;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/**
 * Assigns folds so that near-duplicates (the same picture in another codec: embeddings almost equal)
 * always share a fold, and each category is spread evenly over the folds.
 */
export function assignFolds(examples: readonly Example[], k: number): number[] {
  const group = examples.map((_, i) => i);
  const find = (i: number): number => {
    while (group[i] !== i) i = group[i]!;
    return i;
  };
  for (let i = 0; i < examples.length; i++) {
    for (let j = i + 1; j < examples.length; j++) {
      if (cosine(examples[i]!.cues.signals.feature, examples[j]!.cues.signals.feature) > 0.97) {
        group[find(j)] = find(i);
      }
    }
  }
  const roots = [...new Set(examples.map((_, i) => find(i)))];
  // Deterministic order: by category, then by path, dealt round-robin.
  roots.sort((a, b) =>
    `${examples[a]!.row.category}\0${examples[a]!.row.path}`.localeCompare(
      `${examples[b]!.row.category}\0${examples[b]!.row.path}`,
    ),
  );
  const foldOfRoot = new Map<number, number>();
  roots.forEach((root, i) => {
    foldOfRoot.set(root, i % k);
  });
  return examples.map((_, i) => foldOfRoot.get(find(i))!);
}

/** What a head learns to predict for a row: its category, or another label (e.g. its kind). */
export type LabelOf = (e: Example) => string;
const categoryOf: LabelOf = (e) => e.row.category;

export function trainOn(
  examples: readonly Example[],
  classes: readonly string[],
  settings: CvSettings,
  labelOf: LabelOf = categoryOf,
) {
  const used = examples.filter((e) => e.row.high || settings.lowWeight > 0);
  return trainHead(
    used.map((e) => headInput(e.cues, settings.features)),
    used.map(labelOf),
    classes,
    settings.training,
    used.map((e) => (e.row.high ? 1 : settings.lowWeight)),
    inputPenalties(settings.features, used[0]?.cues.signals.feature.length ?? 0),
  );
}

/** k-fold cross-validation: every row is predicted by a head that never saw it (or its duplicates). */
export function crossValidate(
  examples: readonly Example[],
  classes: readonly string[],
  settings: CvSettings,
  k = 5,
  labelOf: LabelOf = categoryOf,
): { outOfFold: OutOfFold[]; temperature: number } {
  const folds = assignFolds(examples, k);
  const byRow = new Map(examples.map((e) => [e.row, e]));
  const outOfFold: OutOfFold[] = [];
  for (let fold = 0; fold < k; fold++) {
    const head = trainOn(
      examples.filter((_, i) => folds[i] !== fold),
      classes,
      settings,
      labelOf,
    );
    examples.forEach((e, i) => {
      if (folds[i] === fold)
        outOfFold.push({ row: e.row, logits: logits(head, headInput(e.cues, settings.features)), fold });
    });
  }
  const temperature = fitTemperature(
    outOfFold.map((o) => ({ logits: o.logits, label: classes.indexOf(labelOf(byRow.get(o.row)!)) })),
  );
  return { outOfFold, temperature };
}

export interface Scored {
  row: LabelledRow;
  predicted: string;
  confidence: number;
}

export function scoreOutOfFold(
  outOfFold: readonly OutOfFold[],
  classes: readonly string[],
  temperature: number,
) {
  return outOfFold.map((o): Scored => {
    const probs = softmax(o.logits, temperature);
    const best = probs.indexOf(Math.max(...probs));
    return { row: o.row, predicted: classes[best]!, confidence: probs[best]! };
  });
}

export function accuracy(scored: readonly Scored[]): number {
  return scored.length ? scored.filter((s) => s.predicted === s.row.category).length / scored.length : 0;
}

/** Mean of per-category accuracies: every category counts the same. */
export function balancedAccuracy(scored: readonly Scored[], classes: readonly string[]): number {
  const per = classes
    .map((c) => scored.filter((s) => s.row.category === c))
    .filter((rows) => rows.length > 0)
    .map((rows) => accuracy(rows));
  return per.reduce((a, b) => a + b, 0) / (per.length || 1);
}
