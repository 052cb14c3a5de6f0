import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** ../shared/testdata beside the project (never copied into the repo: licences differ per source). */
export const TESTDATA_DIR = path.resolve(fileURLToPath(new URL("../../../shared/testdata", import.meta.url)));

export interface LabelledRow {
  path: string;
  category: string;
  fineLabel: string;
  high: boolean;
}

export interface OcrRow {
  path: string;
  language: string;
  expected: string;
}

function tsv(file: string): string[][] {
  const full = path.join(TESTDATA_DIR, file);
  if (!existsSync(full)) {
    throw new Error(`${full} not found: the evaluation needs ../shared/testdata beside the project`);
  }
  return readFileSync(full, "utf8")
    .split("\n")
    .slice(1)
    .filter((line) => line.trim())
    .map((line) => line.split("\t"));
}

export function labelledRows(): LabelledRow[] {
  return tsv("labelled.tsv").map(([p = "", category = "", fineLabel = "", , confidence = ""]) => ({
    path: p,
    category,
    fineLabel,
    high: confidence.trim() === "high",
  }));
}

/** Transcriptions made for this evaluation of testdata images that ocr_groundtruth.tsv leaves without one. */
const EXTRA_OCR = path.resolve(import.meta.dirname, "../ocr-extra.tsv");

/**
 * OCR rows with a usable transcription: ocr_groundtruth.tsv (a "See file.txt" row reads that file; a note in
 * brackets is skipped) plus eval/ocr-extra.tsv.
 */
export function ocrRows(): OcrRow[] {
  const extra = readFileSync(EXTRA_OCR, "utf8")
    .split("\n")
    .slice(1)
    .filter((line) => line.trim())
    .map((line) => line.split("\t"));
  return [...tsv("ocr_groundtruth.tsv"), ...extra]
    .map(([p = "", language = "", expected = ""]) => {
      const see = /^See (\S+)$/.exec(expected.trim());
      const text = see ? readFileSync(path.join(TESTDATA_DIR, see[1]!), "utf8") : expected;
      return { path: p, language, expected: text.replaceAll("\\n", "\n") };
    })
    .filter((row) => row.expected.trim() && !row.expected.startsWith("("));
}

/** Source folder of a testdata path, e.g. "imagenet-samples". */
export function sourceOf(p: string): string {
  return p.split("/")[0] ?? p;
}
