import { createRequire } from "node:module";
import sharp, { type Sharp } from "sharp";
import type Tesseract from "tesseract.js";
import { cleanText, LIMITS } from "../../domain/analysis.js";
import type { ColourStats } from "./colours.js";
import type { RgbImage } from "./pixels.js";
import { findText, type PaddleLine, readLines } from "./ppocr.js";

const require = createRequire(import.meta.url);

/** Words below this confidence (0-100) are dropped: on photos they are mostly texture read as letters. */
export const MIN_WORD_CONFIDENCE = 60;
/** In a photo, scattered marks read as letters easily: words there must be surer and made of letters or digits. */
const MIN_SCENE_WORD_CONFIDENCE = 75;

function keepWord(word: { text: string; confidence: number }, layout: Layout): boolean {
  if (!/[\p{L}\p{N}]/u.test(word.text)) return false;
  if (layout !== "sparse") return word.confidence >= MIN_WORD_CONFIDENCE;
  return word.confidence >= MIN_SCENE_WORD_CONFIDENCE && /[\p{L}\p{N}]{2}/u.test(word.text);
}

/** Orientation is corrected only when Tesseract's orientation detection is at least this sure. */
const MIN_ORIENTATION_CONFIDENCE = 2;

/**
 * Whether a photo likely holds text worth reading: the category head thinks it is a document, or it looks
 * like print (mostly white or black, little colour, with fine edges). OCR costs ~0.5-2 s, so photos skip it.
 */
export function textLikely(documentProbability: number, colours: ColourStats): boolean {
  return documentProbability >= 0.2 || looksLikePrint(colours);
}

/**
 * The long edge PP-OCR's text detector looks at to decide whether a photo holds text at all (~50-90 ms):
 * large enough for a word on a sign or a label, too small to read it. On the labelled photos it flags every
 * image of ocr_groundtruth.tsv and 19 of 22 documents, and about 8% of the other photos (most with real text).
 */
const TEXT_PROBE_EDGE = 256;

/** Whether PP-OCR's text detector finds any text region in a small copy of the picture. */
export async function seesText(image: RgbImage): Promise<boolean> {
  const small = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width: TEXT_PROBE_EDGE, height: TEXT_PROBE_EDGE, fit: "inside" })
    .greyscale()
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  // As it is: the detector finds light-on-dark text too, and turning a dim picture (a blurred word on a
  // green display) made it miss.
  const grey = { data: small.data, width: small.info.width, height: small.info.height };
  return (await findText(grey, TEXT_PROBE_EDGE)).length > 0;
}

/** Subjects whose photos seldom hold text worth reading: when the head is sure of one, no text is looked for. */
const TEXT_FREE_SUBJECTS = new Set(["people", "animals", "food", "nature"]);
const SURE_OF_SUBJECT = 0.6;

/**
 * Whether to read a photo's text, and how: as a page (a block of text) or as scattered text (a sign, a label).
 * The cheap cues decide first; the text detector (`seesText`, passed in so callers can cache it, ~70-90 ms) is
 * asked only when they say no and the head is not sure the photo shows people, animals, food or nature (about
 * half the photos), so a blurred word on a display or a label on a product is still read.
 */
export async function planReading(
  cues: {
    documentCategory: boolean;
    documentProbability: number;
    colours: ColourStats;
    /** The category head's best guess. */
    top: { label: string; p: number };
  },
  seesText: () => Promise<boolean>,
): Promise<ReadOptions | null> {
  const print = looksLikePrint(cues.colours);
  const plan = { page: cues.documentCategory || print, print };
  if (cues.documentCategory || textLikely(cues.documentProbability, cues.colours)) return plan;
  if (TEXT_FREE_SUBJECTS.has(cues.top.label) && cues.top.p >= SURE_OF_SUBJECT) return null;
  return (await seesText()) ? plan : null;
}

export interface ReadOptions {
  /** A document: a block of text, turned upright and levelled. Otherwise text is looked for region by region. */
  page?: boolean;
  /** The picture looks like clean print (a scan, a screenshot), see looksLikePrint. */
  print?: boolean;
}

/** Mostly white or black, little colour, fine edges: a page, a scan, a screenshot. */
export function looksLikePrint(colours: ColourStats): boolean {
  const inkAndPaper = colours.whiteShare + colours.darkShare;
  return inkAndPaper >= 0.5 && colours.saturationMean < 0.15 && colours.edgeDensity >= 0.02;
}

export interface OcrResult {
  text: string | null;
  /** Mean confidence of the kept words, 0-100. */
  confidence: number;
  lines: number;
}

interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Degrees to turn a page clockwise so its lines run level (-15..15), by projection profiles: at the right
 * angle the dark pixels fall into few rows, so the row histogram is most peaked. Measured on a small copy.
 */
export function estimateSkew(grey: GreyImage): number {
  const { data, width, height } = grey;
  let sum = 0;
  for (const v of data) sum += v;
  const threshold = (sum / data.length) * 0.75;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]! < threshold) {
        xs.push(x - width / 2);
        ys.push(y - height / 2);
      }
    }
  }
  if (xs.length < 50) return 0;
  const rows = Math.ceil(Math.hypot(width, height)) + 2;
  const score = (degrees: number) => {
    const t = (degrees * Math.PI) / 180;
    const sin = Math.sin(t);
    const cos = Math.cos(t);
    const histogram = new Float64Array(rows);
    for (let i = 0; i < xs.length; i++) histogram[Math.round(ys[i]! * cos - xs[i]! * sin + rows / 2)]! += 1;
    let s = 0;
    for (const h of histogram) s += h * h;
    return s;
  };
  let best = 0;
  let bestScore = score(0);
  for (let d = -15; d <= 15; d += 0.5) {
    const s = score(d);
    if (s > bestScore * 1.02) {
      best = d;
      bestScore = s;
    }
  }
  return -best || 0;
}

/**
 * How unevenly a page is lit: the spread, over a 4x4 grid, of each cell's paper brightness (its 90th
 * percentile), 0-255. A shadow or a gradient across the page gives a large spread.
 */
export function unevenLight(grey: GreyImage): number {
  const { data, width, height } = grey;
  const levels: number[] = [];
  for (let gy = 0; gy < 4; gy++) {
    for (let gx = 0; gx < 4; gx++) {
      const cell: number[] = [];
      for (let y = Math.floor((gy * height) / 4); y < Math.floor(((gy + 1) * height) / 4); y++) {
        for (let x = Math.floor((gx * width) / 4); x < Math.floor(((gx + 1) * width) / 4); x++) {
          cell.push(data[y * width + x]!);
        }
      }
      cell.sort((a, b) => a - b);
      if (cell.length) levels.push(cell[Math.floor(cell.length * 0.9)]!);
    }
  }
  return levels.length ? Math.max(...levels) - Math.min(...levels) : 0;
}

/**
 * Black text on white with uneven light made even: each pixel is compared with the mean of its neighbourhood
 * (a local threshold, as Sauvola's), so a shadow across a page does not swallow its letters.
 */
export function binarise(grey: GreyImage, window: number): Uint8Array {
  const { data, width, height } = grey;
  const integral = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += data[y * width + x]!;
      integral[(y + 1) * (width + 1) + x + 1] = integral[y * (width + 1) + x + 1]! + row;
    }
  }
  const out = new Uint8Array(width * height);
  const r = Math.max(4, Math.round(window / 2));
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height, y + r + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width, x + r + 1);
      const total =
        integral[y1 * (width + 1) + x1]! -
        integral[y0 * (width + 1) + x1]! -
        integral[y1 * (width + 1) + x0]! +
        integral[y0 * (width + 1) + x0]!;
      const mean = total / ((y1 - y0) * (x1 - x0));
      out[y * width + x] = data[y * width + x]! < mean * 0.85 ? 0 : 255;
    }
  }
  return out;
}

function median(values: Uint8Array): number {
  const counts = new Uint32Array(256);
  for (const v of values) counts[v]! += 1;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += counts[v]!;
    if (seen * 2 >= values.length) return v;
  }
  return 255;
}

/** Light letters on a dark ground (a wordmark, a street sign) turned to dark on light. */
function darkOnLight(grey: GreyImage): GreyImage {
  return median(grey.data) < 100 ? { ...grey, data: grey.data.map((v) => 255 - v) } : grey;
}

async function rawGrey(pipeline: Sharp): Promise<GreyImage> {
  const { data, info } = await pipeline.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function toPng(grey: GreyImage): Promise<Buffer> {
  return sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** Tesseract reads letters about 20-40 px tall best: small pictures are enlarged, up to 4 times. */
function ocrScale(image: RgbImage): number {
  return Math.min(4, Math.max(1, 1400 / Math.max(image.width, image.height)));
}

type Layout = "line" | "block" | "sparse";

/**
 * How Tesseract should look for text: a strip is one line, a page a block of text, and a photo has scattered
 * text (signs, labels), found region by region.
 */
export function layoutOf(image: { width: number; height: number }, page: boolean): Layout {
  if (image.width / image.height >= 3.5) return "line";
  return page ? "block" : "sparse";
}

/**
 * Which engine reads the prepared picture: PP-OCRv4 (ONNX, onnxruntime-web) or Tesseract. Both get the same
 * preparation (upscaling, light-on-dark turned, pages turned upright by Tesseract's orientation detection and
 * deskewed). "auto" picks per picture, by measurement (`npm run eval -- --only ocr` and the per-engine times
 * there): PP-OCRv4 reads scene text, badges and wordmarks far better (scenetext01: 98% against 47%), while on
 * pages of clean print both read 97-100% and Tesseract takes a third to a quarter of the time (PP-OCR
 * recognises every long line at 48 px height, ~0.4 s a line here), which keeps a page within seconds.
 */
export type OcrEngine = "auto" | "ppocr" | "tesseract";
export const DEFAULT_OCR_ENGINE: OcrEngine = "auto";

function engineFor(engine: OcrEngine, options: ReadOptions): "ppocr" | "tesseract" {
  if (engine !== "auto") return engine;
  return options.page && options.print ? "tesseract" : "ppocr";
}
/** PP-OCR lines below this mean character probability are dropped; in photos they must be surer. */
const MIN_LINE_CONFIDENCE = 0.5;
const MIN_SCENE_LINE_CONFIDENCE = 0.8;
/**
 * Text read needs a word of three letters or digits, a number ("26 of 27"), or to be capitals ("NO", "2.6L"):
 * texture and shadows read as letters give short lower-case bits ("po", "Ye ar"). So does each line read in a
 * photo.
 */
const LOOKS_LIKE_WORDS = /[\p{L}\p{N}]{3}|\p{N}{2}|^(?=(?:.*[\p{Lu}\p{N}]){2})[\p{Lu}\p{N}\s\p{P}]+$/u;
const NOTHING_READ: OcrResult = { text: null, confidence: 0, lines: 0 };

/** Lines in reading order joined: boxes on the same row with spaces, rows with line breaks. */
export function joinLines(lines: readonly PaddleLine[]): string {
  const rows: PaddleLine[][] = [];
  for (const line of lines) {
    const row = rows.at(-1);
    const last = row?.at(-1);
    const middle = (l: PaddleLine) => l.box.top + l.box.height / 2;
    if (row && last && Math.abs(middle(line) - middle(last)) < Math.min(line.box.height, last.box.height) / 2)
      row.push(line);
    else rows.push([line]);
  }
  return rows.map((row) => row.map((l) => l.text).join(" ")).join("\n");
}

/** One tesseract worker per process (a worker thread), started on first use and reused; another for orientation. */
export class TextReader {
  private worker: Promise<Tesseract.Worker> | null = null;
  private orientationWorker: Promise<Tesseract.Worker> | null = null;

  constructor(private readonly engine: OcrEngine = DEFAULT_OCR_ENGINE) {}

  private start(): Promise<Tesseract.Worker> {
    this.worker ??= (async () => {
      const { createWorker, OEM } = await import("tesseract.js");
      const eng = require("@tesseract.js-data/eng") as { langPath: string; gzip: boolean };
      const worker = await createWorker("eng", OEM.LSTM_ONLY, {
        langPath: eng.langPath,
        gzip: eng.gzip,
        cacheMethod: "none",
        errorHandler: () => {},
      });
      // Tesseract writes diagnostics ("Estimating resolution...") to the console unless told otherwise.
      await worker.setParameters({ debug_file: "/dev/null", user_defined_dpi: "300" });
      return worker;
    })();
    this.worker.catch(() => {
      this.worker = null;
    });
    return this.worker;
  }

  /** Orientation and script detection needs Tesseract's legacy engine and its osd data (both in npm). */
  private startOrientation(): Promise<Tesseract.Worker> {
    this.orientationWorker ??= (async () => {
      const { createWorker, OEM } = await import("tesseract.js");
      const osd = require("@tesseract.js-data/osd") as { langPath: string; gzip: boolean };
      const worker = await createWorker("osd", OEM.TESSERACT_ONLY, {
        langPath: osd.langPath,
        gzip: osd.gzip,
        cacheMethod: "none",
        legacyCore: true,
        legacyLang: true,
        errorHandler: () => {},
      });
      await worker.setParameters({ debug_file: "/dev/null", user_defined_dpi: "300" });
      return worker;
    })();
    this.orientationWorker.catch(() => {
      this.orientationWorker = null;
    });
    return this.orientationWorker;
  }

  /** Degrees to turn the picture clockwise so its text stands upright (0 when unsure or no text). */
  private async orientation(png: Buffer): Promise<number> {
    try {
      const { data } = await (await this.startOrientation()).detect(png);
      if ((data.orientation_confidence ?? 0) < MIN_ORIENTATION_CONFIDENCE) return 0;
      return (360 - (data.orientation_degrees ?? 0)) % 360;
    } catch {
      return 0; // "Too few characters": nothing to orient.
    }
  }

  /**
   * Reads the text of a picture. `page` says it is a document (a block of text, evened out and deskewed);
   * otherwise text is looked for region by region, as on a sign in a photo.
   */
  async read(image: RgbImage, options: ReadOptions = {}): Promise<OcrResult> {
    const page = options.page ?? true;
    const engine = engineFor(this.engine, { ...options, page });
    const scale = ocrScale(image);
    const width = Math.round(image.width * scale);
    const height = Math.round(image.height * scale);
    let grey: GreyImage = {
      data: await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .resize(width, height, { kernel: "lanczos3" })
        .greyscale()
        .extractChannel(0)
        .raw()
        .toBuffer(),
      width,
      height,
    };
    grey = darkOnLight(grey);
    let uneven = false;
    if (page) {
      // Turned pages: orientation from Tesseract's detector, small skews from the lines themselves.
      const turn = await this.orientation(
        await rawGrey(
          sharp(grey.data, { raw: { width, height, channels: 1 } }).resize({
            width: 1000,
            height: 1000,
            fit: "inside",
            withoutEnlargement: true,
          }),
        ).then(toPng),
      );
      const small = await rawGrey(
        sharp(grey.data, { raw: { width, height, channels: 1 } })
          .rotate(turn)
          .resize({ width: 400, height: 400, fit: "inside" }),
      );
      const skew = estimateSkew(small);
      grey = await rawGrey(
        sharp(grey.data, { raw: { width, height, channels: 1 } }).rotate(turn + skew, {
          background: "#ffffff",
        }),
      );
      uneven = unevenLight(small) > 40;
    }
    let read: OcrResult;
    if (engine === "ppocr") read = await this.readPaddle(grey, page);
    else {
      read = await this.readTesseract(grey, layoutOf({ width, height }, page), uneven);
      // Chosen for a page of print, Tesseract finding nothing there is a reason to look again with PP-OCR.
      if (read.text === null && this.engine === "auto") read = await this.readPaddle(grey, page);
    }
    return read.text !== null && LOOKS_LIKE_WORDS.test(read.text) ? read : NOTHING_READ;
  }

  private async readTesseract(grey: GreyImage, layout: Layout, uneven: boolean): Promise<OcrResult> {
    const evened = (g: GreyImage) => ({ ...g, data: binarise(g, Math.max(g.width, g.height) / 12) });
    // Evenly lit pages are left to Tesseract's own thresholding; a shadowed one is evened out first. When the
    // first reading finds little, the other one is tried and the surer of the two kept.
    const first = await this.recognise(uneven ? evened(grey) : grey, layout);
    if (first.score >= 12) return first.result;
    const second = await this.recognise(uneven ? grey : evened(grey), layout);
    return (second.score > first.score ? second : first).result;
  }

  private async readPaddle(grey: GreyImage, page: boolean): Promise<OcrResult> {
    const minimum = page ? MIN_LINE_CONFIDENCE : MIN_SCENE_LINE_CONFIDENCE;
    const lines = (await readLines(grey)).filter(
      (line) => line.confidence >= minimum && (page ? /[\p{L}\p{N}]{2}/u : LOOKS_LIKE_WORDS).test(line.text),
    );
    if (lines.length === 0) return NOTHING_READ;
    const text = cleanText(joinLines(lines), LIMITS.textChars);
    const confidence = (100 * lines.reduce((sum, l) => sum + l.confidence, 0)) / lines.length;
    return { text: text || null, confidence, lines: lines.length };
  }

  private async recognise(grey: GreyImage, layout: Layout): Promise<{ result: OcrResult; score: number }> {
    const worker = await this.start();
    // A margin: letters touching the edge are often lost.
    const margin = Math.round(Math.max(grey.width, grey.height) * 0.03) + 8;
    const input = await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
      .extend({ top: margin, bottom: margin, left: margin, right: margin, background: "#ffffff" })
      .png({ compressionLevel: 1 })
      .toBuffer();
    const { PSM } = await import("tesseract.js");
    await worker.setParameters({
      tessedit_pageseg_mode:
        layout === "line" ? PSM.SINGLE_LINE : layout === "block" ? PSM.SINGLE_BLOCK : PSM.SPARSE_TEXT,
    });
    const { data } = await worker.recognize(input, {}, { blocks: true, text: false });
    const lines = (data.blocks ?? [])
      .flatMap((block) => block.paragraphs)
      .flatMap((paragraph) => paragraph.lines)
      .map((line) => line.words.filter((word) => keepWord(word, layout)))
      // A line needs a real word: two letters or digits in a row.
      .filter((words) => words.some((word) => /[\p{L}\p{N}]{2}/u.test(word.text)));
    const words = lines.flat();
    if (words.length === 0) return { result: { text: null, confidence: 0, lines: 0 }, score: 0 };
    const text = cleanText(
      lines.map((line) => line.map((word) => word.text).join(" ")).join("\n"),
      LIMITS.textChars,
    );
    const confidence = words.reduce((sum, w) => sum + w.confidence, 0) / words.length;
    // Confident letters read: what decides between two readings of the same picture.
    const score = words.reduce((sum, w) => sum + (w.text.length * w.confidence) / 100, 0);
    return { result: { text: text || null, confidence, lines: lines.length }, score };
  }

  async close(): Promise<void> {
    const workers = [this.worker, this.orientationWorker];
    this.worker = null;
    this.orientationWorker = null;
    for (const worker of workers) if (worker) await (await worker.catch(() => null))?.terminate();
  }
}
