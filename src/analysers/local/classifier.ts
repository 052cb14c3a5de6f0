import type { ColourStats } from "./colours.js";
import type { ModelSignals } from "./models.js";

/** A softmax (multinomial logistic regression) head over standardised features. */
export interface HeadWeights {
  version: string;
  classes: string[];
  /** Names of the inputs, in order (for reading the JSON; prediction checks the count). */
  inputs: string[];
  mean: number[];
  std: number[];
  /** classes x inputs */
  weights: number[][];
  bias: number[];
  /** Softmax temperature fitted on out-of-fold predictions, so confidences mean what they say. */
  temperature: number;
  trainedOn: { rows: number; sources: string[]; folds?: { accuracy: number; highAccuracy: number } };
}

export interface CueSignals {
  signals: ModelSignals;
  colours: ColourStats;
}

const CUE_NAMES = [
  "uniformity",
  "drawing",
  "nsfw",
  "faces",
  "person_area",
  "objects",
  "saturation",
  "lightness",
  "lightness_std",
  "white_share",
  "dark_share",
  "colour_variety",
  "edge_density",
  "flat_share",
  "sky_top",
  "green_bottom",
] as const;

/** Hand-made cues appended to the pooled embedding: colour, layout, faces and drawing style. */
export function cueVector({ signals, colours }: CueSignals): number[] {
  const people = signals.objects.filter((o) => o.label === "person" && o.score >= 0.4);
  const personArea = people.reduce((sum, o) => sum + o.box[2] * o.box[3], 0);
  const nsfw = (signals.nsfw.Porn ?? 0) + (signals.nsfw.Hentai ?? 0) + (signals.nsfw.Sexy ?? 0);
  return [
    // Near 1 for blank or single-colour pictures, near 0 for anything with texture.
    Math.max(0, 1 - colours.lightnessStd / 0.05) * (1 - colours.colourVariety),
    signals.nsfw.Drawing ?? 0,
    nsfw,
    Math.min(5, signals.faceScores.filter((s) => s >= 0.9).length),
    Math.min(1, personArea),
    Math.min(10, signals.objects.filter((o) => o.score >= 0.4).length),
    colours.saturationMean,
    colours.lightnessMean,
    colours.lightnessStd,
    colours.whiteShare,
    colours.darkShare,
    colours.colourVariety,
    colours.edgeDensity,
    colours.flatShare,
    colours.skyTop,
    colours.greenBottom,
  ];
}

/** Which inputs the head reads beside centernet's pooled embedding. */
export interface FeatureSet {
  cues: boolean;
  /** L2 penalty factor of the few hand-made cues relative to the embedding's many values. */
  cuePenalty: number;
}

export function inputNames(set: FeatureSet, embeddingSize: number): string[] {
  return [
    ...Array.from({ length: embeddingSize }, (_, i) => `embedding_${i}`),
    ...(set.cues ? CUE_NAMES : []),
  ];
}

export function inputPenalties(set: FeatureSet, embeddingSize: number): number[] {
  return [...Array<number>(embeddingSize).fill(1), ...(set.cues ? CUE_NAMES.map(() => set.cuePenalty) : [])];
}

export function headInput(cues: CueSignals, set: FeatureSet): number[] {
  return [...cues.signals.feature, ...(set.cues ? cueVector(cues) : [])];
}

export function softmax(logits: readonly number[], temperature = 1): number[] {
  const scaled = logits.map((v) => v / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

export function logits(
  head: Pick<HeadWeights, "mean" | "std" | "weights" | "bias">,
  input: readonly number[],
) {
  if (input.length !== head.mean.length) {
    throw new Error(`the category head expects ${head.mean.length} inputs, got ${input.length}`);
  }
  const x = input.map((v, i) => (v - head.mean[i]!) / head.std[i]!);
  return head.weights.map((row, k) => row.reduce((sum, w, i) => sum + w * x[i]!, head.bias[k]!));
}

/** Class probabilities for one photo, calibrated with the head's temperature. */
export function predict(head: HeadWeights, input: readonly number[]): { label: string; p: number }[] {
  const probs = softmax(logits(head, input), head.temperature);
  return head.classes.map((label, k) => ({ label, p: probs[k]! })).sort((a, b) => b.p - a.p);
}

export interface TrainingOptions {
  /** L2 penalty on the weights (on standardised inputs). */
  l2: number;
  iterations: number;
  learningRate: number;
}

export const DEFAULT_TRAINING: TrainingOptions = { l2: 0.01, iterations: 400, learningRate: 0.05 };

/**
 * Fits a softmax head by full-batch Adam on the weighted cross-entropy. Each class gets the same total
 * weight (so rare categories count as much as common ones); `sampleWeights` scale rows further.
 */
export function trainHead(
  inputs: readonly (readonly number[])[],
  labels: readonly string[],
  classes: readonly string[],
  options: TrainingOptions = DEFAULT_TRAINING,
  sampleWeights?: readonly number[],
  /** Per-input factor on the L2 penalty (default 1 each). */
  penalties?: readonly number[],
): Pick<HeadWeights, "classes" | "mean" | "std" | "weights" | "bias"> {
  const n = inputs.length;
  const d = inputs[0]?.length ?? 0;
  const k = classes.length;
  const mean = Array.from({ length: d }, (_, j) => inputs.reduce((s, x) => s + x[j]!, 0) / n);
  const std = Array.from({ length: d }, (_, j) => {
    const v = inputs.reduce((s, x) => s + (x[j]! - mean[j]!) ** 2, 0) / n;
    return Math.sqrt(v) || 1;
  });
  const xs = inputs.map((x) => Float64Array.from(x, (v, j) => (v - mean[j]!) / std[j]!));
  const ys = labels.map((l) => classes.indexOf(l));
  const counts = classes.map((_, c) => ys.filter((y) => y === c).length);
  const raw = ys.map((y, i) => (counts[y]! ? n / (k * counts[y]!) : 0) * (sampleWeights?.[i] ?? 1));
  const total = raw.reduce((a, b) => a + b, 0) || 1;
  const rowWeight = raw.map((w) => w / total);

  const size = k * (d + 1);
  const params = new Float64Array(size);
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  const grad = new Float64Array(size);
  const z = new Float64Array(k);
  const beta1 = 0.9;
  const beta2 = 0.999;
  for (let step = 1; step <= options.iterations; step++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = params[c * (d + 1) + d]!;
        for (let j = 0; j < d; j++) s += params[c * (d + 1) + j]! * x[j]!;
        z[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) {
        z[c] = Math.exp(z[c]! - max);
        sum += z[c]!;
      }
      for (let c = 0; c < k; c++) {
        const g = (z[c]! / sum - (ys[i] === c ? 1 : 0)) * rowWeight[i]!;
        if (g === 0) continue;
        const base = c * (d + 1);
        for (let j = 0; j < d; j++) grad[base + j]! += g * x[j]!;
        grad[base + d]! += g;
      }
    }
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) {
        grad[c * (d + 1) + j]! += options.l2 * (penalties?.[j] ?? 1) * params[c * (d + 1) + j]!;
      }
    }
    const lr = options.learningRate;
    for (let p = 0; p < size; p++) {
      m[p] = beta1 * m[p]! + (1 - beta1) * grad[p]!;
      v[p] = beta2 * v[p]! + (1 - beta2) * grad[p]! ** 2;
      const mHat = m[p]! / (1 - beta1 ** step);
      const vHat = v[p]! / (1 - beta2 ** step);
      params[p]! -= (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
  }
  const weights = classes.map((_, c) => Array.from(params.subarray(c * (d + 1), c * (d + 1) + d)));
  const bias = classes.map((_, c) => params[c * (d + 1) + d]!);
  return { classes: [...classes], mean, std, weights, bias };
}

/** The softmax temperature that minimises the negative log-likelihood of held-out predictions. */
export function fitTemperature(heldOut: { logits: number[]; label: number }[]): number {
  let best = 1;
  let bestLoss = Infinity;
  for (let t = 0.25; t <= 8; t *= 1.05) {
    const loss = heldOut.reduce((sum, row) => sum - Math.log(softmax(row.logits, t)[row.label]! + 1e-12), 0);
    if (loss < bestLoss) {
      bestLoss = loss;
      best = t;
    }
  }
  return Math.round(best * 1000) / 1000;
}
