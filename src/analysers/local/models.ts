import { createRequire } from "node:module";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import type { Config, Human } from "@vladmandic/human";
import { reclaimProcessGuards } from "../../process-guards.js";
import { OBJECT_CLASSES } from "./labels.js";
import type { PreparedPixels, RgbImage } from "./pixels.js";
import { HUMAN_DIR, tensorflow, WASM_DIR } from "./runtime.js";

const require = createRequire(import.meta.url);

/** centernet's pooled MobileNetV3 features: the embedding the category head is learned on. */
export const FEATURE_NODE = "tower_0/MobilenetV3/expanded_conv_14/squeeze_excite/Mean";
const DETECTIONS_NODE = "tower_0/detections";
const CENTERNET_INPUT = 512;

export interface DetectedObject {
  label: string;
  score: number;
  /** x, y, width, height as fractions of the picture. */
  box: [number, number, number, number];
}

/** What the neural models say about one photo. */
export interface ModelSignals {
  feature: number[];
  objects: DetectedObject[];
  /** Scores of every face found (callers keep the confident ones). */
  faceScores: number[];
  /** nsfwjs class probabilities: Drawing, Hentai, Neutral, Porn, Sexy. */
  nsfw: Record<string, number>;
}

const NSFW_CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"] as const;

const HUMAN_CONFIG: Partial<Config> = {
  backend: "wasm",
  wasmPath: WASM_DIR,
  modelBasePath: `file://${path.join(HUMAN_DIR, "models")}/`,
  debug: false,
  async: true,
  warmup: "none",
  // Photos are unrelated stills: never reuse the previous frame's result.
  cacheSensitivity: 0,
  skipAllowed: false,
  filter: { enabled: false },
  face: {
    enabled: true,
    detector: { rotation: false, maxDetected: 20, minConfidence: 0.3, skipFrames: 0, return: false },
    // The mesh confirms each detection: true faces score ~1.0, the detector's false positives drop out.
    mesh: { enabled: true },
    iris: { enabled: false },
    description: { enabled: false },
    emotion: { enabled: false },
    antispoof: { enabled: false },
    liveness: { enabled: false },
  } as Config["face"],
  body: { enabled: false } as Config["body"],
  hand: { enabled: false } as Config["hand"],
  object: { enabled: false } as Config["object"],
  gesture: { enabled: false },
  segmentation: { enabled: false } as Config["segmentation"],
};

/** Keeps only the best box per overlapping group (greedy non-maximum suppression). */
function suppress(objects: DetectedObject[], iouLimit: number): DetectedObject[] {
  const kept: DetectedObject[] = [];
  const iou = (a: DetectedObject["box"], b: DetectedObject["box"]) => {
    const w = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
    const h = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
    const inter = w * h;
    return inter / (a[2] * a[3] + b[2] * b[3] - inter || 1);
  };
  for (const candidate of [...objects].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => k.label !== candidate.label || iou(k.box, candidate.box) < iouLimit)) {
      kept.push(candidate);
    }
  }
  return kept;
}

/**
 * The offline models, loaded once and shared. tfjs on wasm runs on the JS thread, so inference is
 * serialised: concurrent photos queue here while their decoding and OCR proceed in parallel.
 */
export class LocalModels {
  private constructor(
    private readonly tf: typeof tfTypes,
    private readonly centernet: tfTypes.GraphModel,
    private readonly human: Human,
    private readonly nsfw: tfTypes.LayersModel,
  ) {}

  private queue: Promise<unknown> = Promise.resolve();

  static async load(): Promise<LocalModels> {
    const tf = await tensorflow();
    const humanModule = require(path.join(HUMAN_DIR, "dist", "human.node-wasm.js")) as {
      Human: new (config: Partial<Config>) => Human;
    };
    const human = new humanModule.Human(HUMAN_CONFIG);
    const nsfwjs = await import("nsfwjs");
    const [centernet, , nsfw] = await Promise.all([
      tf.loadGraphModel(`file://${path.join(HUMAN_DIR, "models", "centernet.json")}`),
      human.load(),
      withoutInfoLogs(() => nsfwjs.load("MobileNetV2")),
    ]);
    // The wasm runtimes just installed process handlers that rethrow unhandled rejections: ours decide.
    reclaimProcessGuards();
    return new LocalModels(tf, centernet, human, nsfw.model as tfTypes.LayersModel);
  }

  infer(pixels: PreparedPixels): Promise<ModelSignals> {
    const run = this.queue.then(() => this.inferNow(pixels));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Tensors alive in the tfjs engine: steady between photos when nothing leaks. */
  tensorCount(): number {
    return this.tf.memory().numTensors;
  }

  private async inferNow(pixels: PreparedPixels): Promise<ModelSignals> {
    const tf = this.tf;
    const [detections, pooled] = tf.tidy(() => {
      const input = this.floatTensor(pixels.square512);
      return this.centernet.execute(input, [DETECTIONS_NODE, FEATURE_NODE]) as tfTypes.Tensor[];
    }) as [tfTypes.Tensor, tfTypes.Tensor];
    let rows: number[][];
    let feature: Float32Array;
    try {
      rows = ((await detections.array()) as number[][][])[0] ?? [];
      feature = (await pooled.data()) as Float32Array;
    } finally {
      tf.dispose([detections, pooled]);
    }
    const objects = suppress(
      rows
        .filter((r) => (r[4] ?? 0) >= 0.2 && OBJECT_CLASSES[r[5] ?? -1])
        .map(([x1 = 0, y1 = 0, x2 = 0, y2 = 0, score = 0, cls = 0]) => ({
          label: OBJECT_CLASSES[cls]!.label,
          score: Math.round(score * 100) / 100,
          box: [x1, y1, x2 - x1, y2 - y1].map(
            (v) => Math.round(Math.min(1, Math.max(0, v / CENTERNET_INPUT)) * 1000) / 1000,
          ) as DetectedObject["box"],
        })),
      0.4,
    ).slice(0, 20);

    const faceInput = this.floatTensor(pixels.faces);
    let faceScores: number[];
    try {
      const result = await this.human.detect(faceInput as never);
      faceScores = result.face.map((f) => f.score);
    } finally {
      faceInput.dispose();
    }

    // nsfwjs' own preprocessing: 224x224 in 0..1.
    const classesT = tf.tidy(
      () => this.nsfw.predict(this.floatTensor(pixels.square224).div(255)) as tfTypes.Tensor,
    );
    let nsfw: Record<string, number>;
    try {
      const probs = await classesT.data();
      nsfw = Object.fromEntries(NSFW_CLASSES.map((name, i) => [name, probs[i] ?? 0]));
    } finally {
      classesT.dispose();
    }
    return { feature: Array.from(feature), objects, faceScores, nsfw };
  }

  private floatTensor(image: RgbImage): tfTypes.Tensor4D {
    return this.tf.tidy(() =>
      this.tf.tensor4d(image.data, [1, image.height, image.width, 3], "int32").toFloat(),
    );
  }

  dispose(): void {
    this.centernet.dispose();
    this.nsfw.dispose();
  }
}

/** nsfwjs prints a hosting hint with console.info as it starts loading: noise for an offline app. */
function withoutInfoLogs<T>(start: () => Promise<T>): Promise<T> {
  const info = console.info;
  console.info = () => {};
  try {
    return start();
  } finally {
    console.info = info;
  }
}
