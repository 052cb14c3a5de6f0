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

/** OCR rows with a usable transcription (rows whose expected text is a note in brackets are skipped). */
export function ocrRows(): OcrRow[] {
  return tsv("ocr_groundtruth.tsv")
    .map(([p = "", language = "", expected = ""]) => ({ path: p, language, expected }))
    .filter((row) => row.expected && !row.expected.startsWith("(") && !/^See /.test(row.expected))
    .map((row) => ({ ...row, expected: row.expected.replaceAll("\\n", "\n") }));
}

/** Source folder of a testdata path, e.g. "imagenet-samples". */
export function sourceOf(p: string): string {
  return p.split("/")[0] ?? p;
}
