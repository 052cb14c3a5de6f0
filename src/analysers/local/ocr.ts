import { createRequire } from "node:module";
import sharp from "sharp";
import type Tesseract from "tesseract.js";
import { cleanText, LIMITS } from "../../domain/analysis.js";
import type { ColourStats } from "./colours.js";
import type { RgbImage } from "./pixels.js";

const require = createRequire(import.meta.url);

/** Lines below this confidence (0-100) are dropped: on photos they are mostly texture read as letters. */
export const MIN_LINE_CONFIDENCE = 70;

/**
 * Whether a photo likely holds text worth reading: the category head thinks it is a document, or it looks
 * like print (mostly white or black, little colour, with fine edges). OCR costs ~0.5-2 s, so photos skip it.
 */
export function textLikely(documentProbability: number, colours: ColourStats): boolean {
  if (documentProbability >= 0.2) return true;
  const inkAndPaper = colours.whiteShare + colours.darkShare;
  return inkAndPaper >= 0.5 && colours.saturationMean < 0.15 && colours.edgeDensity >= 0.02;
}

export interface OcrResult {
  text: string | null;
  /** Mean confidence of the kept lines, 0-100. */
  confidence: number;
  lines: number;
}

/** One tesseract worker per process (a worker thread), started on first use and reused. */
export class TextReader {
  private worker: Promise<Tesseract.Worker> | null = null;

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

  async read(image: RgbImage): Promise<OcrResult> {
    const worker = await this.start();
    // Tesseract reads letters ~20-40 px tall best: small pictures are enlarged (up to 4x).
    const scale = Math.min(4, Math.max(1, 1200 / Math.max(image.width, image.height)));
    const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize(Math.round(image.width * scale), Math.round(image.height * scale), { kernel: "lanczos3" })
      .greyscale()
      .png({ compressionLevel: 1 })
      .toBuffer();
    const { data } = await worker.recognize(png, { rotateAuto: true }, { blocks: true, text: false });
    const lines = (data.blocks ?? [])
      .flatMap((block) => block.paragraphs)
      .flatMap((paragraph) => paragraph.lines)
      .filter((line) => line.confidence >= MIN_LINE_CONFIDENCE)
      .map((line) => ({ text: cleanText(line.text, LIMITS.textChars), confidence: line.confidence }))
      // A line needs a real word: two letters or digits in a row.
      .filter((line) => /[\p{L}\p{N}]{2}/u.test(line.text));
    if (lines.length === 0) return { text: null, confidence: 0, lines: 0 };
    const text = cleanText(lines.map((l) => l.text).join("\n"), LIMITS.textChars);
    const confidence = lines.reduce((sum, l) => sum + l.confidence, 0) / lines.length;
    return { text: text || null, confidence, lines: lines.length };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await (await worker.catch(() => null))?.terminate();
  }
}
