import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { WordNet } from "../../src/lexicon/wordnet.js";
import type { LabelledRow } from "./dataset.js";
import { pct, table } from "./report.js";
import { judgeSummary, type SubjectVerdict } from "./subject-truth.js";

/** What the analyser wrote for one labelled photo (with the category head's out-of-fold ranking). */
export interface Described {
  row: LabelledRow;
  summary: string;
  altText: string;
  tags: string[];
}

export interface DescriptionFigures {
  imagenetRows: number;
  wrongSubject: number;
  specificRight: number;
  vague: number;
  altTextRows: number;
  altUnder20: number;
  altIn40to125: number;
  handJudged: number;
  handWrong: number;
  handSpecific: number;
  handVague: number;
}

export const RESULTS_DIR = path.resolve(import.meta.dirname, "../results");
/** Hand judgements of summaries of non-ImageNet rows: path, summary, verdict, note (judged by looking). */
export const HAND_JUDGED = path.resolve(import.meta.dirname, "../hand-judged.tsv");

/** The hand-judged sample: every 5th non-ImageNet labelled row, in path order (deterministic). */
export function handSample(rows: readonly LabelledRow[]): LabelledRow[] {
  return rows
    .filter((r) => !r.path.startsWith("imagenet-samples/"))
    .sort((a, b) => a.path.localeCompare(b.path))
    .filter((_, i) => i % 5 === 0);
}

/** Things a person saw prominent in an ImageNet photo beside its class ("person" on a tandem). */
export function alsoVisible(): Map<string, string[]> {
  const file = path.resolve(import.meta.dirname, "../imagenet-visible.tsv");
  const out = new Map<string, string[]>();
  for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
    const [p, nouns] = line.split("\t");
    if (p && nouns)
      out.set(
        p,
        nouns.split(",").map((n) => n.trim()),
      );
  }
  return out;
}

function readHandJudged(): Map<string, SubjectVerdict> {
  const out = new Map<string, SubjectVerdict>();
  if (!existsSync(HAND_JUDGED)) return out;
  for (const line of readFileSync(HAND_JUDGED, "utf8").split("\n").slice(1)) {
    const [p, summary, verdict] = line.split("\t");
    if (p && summary && (verdict === "wrong" || verdict === "specific" || verdict === "vague")) {
      out.set(`${p}\t${summary}`, verdict);
    }
  }
  return out;
}

const fine = (row: LabelledRow) => row.fineLabel.replace(/_/g, " ");

export function evaluateDescriptions(
  wordnet: WordNet,
  described: readonly Described[],
  options: { verbose: boolean; quiet?: boolean },
): DescriptionFigures {
  const imagenet = described.filter((d) => d.row.path.startsWith("imagenet-samples/"));
  const visible = alsoVisible();
  const judged = imagenet.map((d) => ({
    d,
    j: judgeSummary(wordnet, d.summary, d.row.fineLabel, d.row.category, visible.get(d.row.path)),
  }));
  const count = (v: SubjectVerdict) => judged.filter((x) => x.j.verdict === v).length;
  if (options.verbose) {
    console.log("\nImageNet rows judged wrong or specific (class: summary [right | wrong nouns]):");
    for (const { d, j } of judged.filter((x) => x.j.verdict !== "vague")) {
      console.log(
        `  ${j.verdict.padEnd(8)} ${fine(d.row)}: ${d.summary} [${j.right.join(", ")} | ${j.wrong.join(", ")}]`,
      );
    }
  }

  const hand = readHandJudged();
  const sample = new Set(handSample(described.map((d) => d.row)).map((r) => r.path));
  const inSample = described.filter((d) => sample.has(d.row.path));
  const verdicts = inSample.map((d) => ({ d, v: hand.get(`${d.row.path}\t${d.summary}`) }));
  const unjudged = verdicts.filter((x) => !x.v);
  if (unjudged.length && !options.quiet) {
    console.log(
      `\n${unjudged.length} sampled summaries have no hand verdict yet (add them to eval/hand-judged.tsv):`,
    );
    for (const { d } of unjudged) console.log(`  ${d.row.path}\t${d.summary}\t?\t${d.row.fineLabel}`);
  }
  const handCount = (v: SubjectVerdict) => verdicts.filter((x) => x.v === v).length;

  const alt = described.map((d) => d.altText.length);
  return {
    imagenetRows: imagenet.length,
    wrongSubject: count("wrong"),
    specificRight: count("specific"),
    vague: count("vague"),
    altTextRows: alt.length,
    altUnder20: alt.filter((n) => n < 20).length,
    altIn40to125: alt.filter((n) => n >= 40 && n <= 125).length,
    handJudged: verdicts.length - unjudged.length,
    handWrong: handCount("wrong"),
    handSpecific: handCount("specific"),
    handVague: handCount("vague"),
  };
}

export function printDescriptionFigures(
  after: DescriptionFigures,
  before: DescriptionFigures | undefined,
): void {
  const share = (
    f: DescriptionFigures | undefined,
    part: keyof DescriptionFigures,
    whole: keyof DescriptionFigures,
  ) => (f ? `${pct(f[part] / (f[whole] || 1))} (${f[part]}/${f[whole]})` : "-");
  console.log(
    table(
      ["measure", "before (main)", "after", "target"],
      [
        [
          "wrong subject, ImageNet rows (WordNet judge)",
          share(before, "wrongSubject", "imagenetRows"),
          share(after, "wrongSubject", "imagenetRows"),
          "<= 5%",
        ],
        [
          "specific and right, ImageNet rows",
          share(before, "specificRight", "imagenetRows"),
          share(after, "specificRight", "imagenetRows"),
          ">= 40%",
        ],
        [
          "vague but right, ImageNet rows",
          share(before, "vague", "imagenetRows"),
          share(after, "vague", "imagenetRows"),
          "",
        ],
        [
          "wrong subject, hand-judged sample of other rows",
          share(before, "handWrong", "handJudged"),
          share(after, "handWrong", "handJudged"),
          "<= 5%",
        ],
        [
          "specific and right, hand-judged sample",
          share(before, "handSpecific", "handJudged"),
          share(after, "handSpecific", "handJudged"),
          "",
        ],
        [
          "vague but right, hand-judged sample",
          share(before, "handVague", "handJudged"),
          share(after, "handVague", "handJudged"),
          "",
        ],
        [
          "alt text under 20 characters, all rows",
          share(before, "altUnder20", "altTextRows"),
          share(after, "altUnder20", "altTextRows"),
          "<= 5%",
        ],
        [
          "alt text 40-125 characters, all rows",
          share(before, "altIn40to125", "altTextRows"),
          share(after, "altIn40to125", "altTextRows"),
          "",
        ],
      ],
    ),
  );
}

/** Every figure of the evaluation, saved so a later run can print main's figures beside its own. */
export interface EvalFigures {
  descriptions?: DescriptionFigures;
  categories?: { highRows: number; highRight: number; perCategory: Record<string, [number, number]> };
  ocr?: { images: number; accuracy: number };
  speed?: { medianMs: number; p95Ms: number; medianCpuMs?: number; loadMs: number; load: string };
}

export function readFigures(file: string): EvalFigures {
  const full = path.join(RESULTS_DIR, file);
  return existsSync(full) ? (JSON.parse(readFileSync(full, "utf8")) as EvalFigures) : {};
}

export function mergeFigures(file: string, figures: EvalFigures): void {
  const full = path.join(RESULTS_DIR, file);
  writeFileSync(full, `${JSON.stringify({ ...readFigures(file), ...figures }, null, 2)}\n`);
}

/** The sentences written for each row, as TSV (for the closing note's examples and the hand judging). */
export function writeSentences(file: string, described: readonly Described[]): void {
  const clean = (s: string) => s.replace(/[\t\n]/g, " ");
  const lines = described.map((d) =>
    [d.row.path, d.row.category, clean(d.summary), clean(d.altText), d.tags.join(", ")].join("\t"),
  );
  writeFileSync(
    path.join(RESULTS_DIR, file),
    `path\tcategory\tsummary\talt_text\ttags\n${lines.join("\n")}\n`,
  );
}

/** Sentences saved by writeSentences, for the rows still in the evaluation. */
export function readSentences(file: string, examples: readonly { row: LabelledRow }[]): Described[] {
  const full = path.join(RESULTS_DIR, file);
  if (!existsSync(full)) return [];
  const rows = new Map(examples.map((e) => [e.row.path, e.row]));
  return readFileSync(full, "utf8")
    .split("\n")
    .slice(1)
    .flatMap((line) => {
      const [p = "", , summary = "", altText = "", tags = ""] = line.split("\t");
      const row = rows.get(p);
      return row ? [{ row, summary, altText, tags: tags.split(", ").filter(Boolean) }] : [];
    });
}
