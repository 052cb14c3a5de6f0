/**
 * Similar-photo quality on real pictures: `npx tsx bench/similar-examples.ts [count]`. The offline analyser
 * describes the ImageNet samples of ../shared/testdata (their file names carry the true label), the catalogue
 * stores its embeddings, and for each photo the 5 nearest are compared with its label's WordNet kind: the share
 * of neighbours of the same broad kind (animal, food, vehicle, ...) and a few examples in full.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { openSqliteStore } from "../src/adapters/sqlite/index.js";
import { createLocalAnalyser } from "../src/analysers/local/index.js";
import { DEFAULT_TAXONOMY } from "../src/domain/taxonomy.js";
import { loadWordNet } from "../src/lexicon/wordnet.js";
import { SimilarPhotos } from "../src/services/similar.js";
import { newImage } from "../test/contracts/fixtures.js";

const dir = path.resolve(import.meta.dirname, "../../../shared/testdata/imagenet-samples");
const limit = Number(process.argv[2] ?? 80);
const files = (await readdir(dir)).filter((f) => /^n\d+_.*\.JPEG$/.test(f)).slice(0, limit);
const label = (file: string) =>
  file
    .replace(/^n\d+_/, "")
    .replace(/\.JPEG$/, "")
    .replaceAll("_", " ");
const wordnet = await loadWordNet();
const KINDS = [
  "animal",
  "food",
  "plant",
  "vehicle",
  "structure",
  "device",
  "container",
  "clothing",
  "person",
];
const kindOf = (file: string) =>
  KINDS.find((kind) => wordnet.isKindOf(label(file).toLowerCase(), kind, 2)) ?? "other";

const analyser = await createLocalAnalyser({ ocr: false });
const store = openSqliteStore({ path: ":memory:" });
const names = new Map<string, { file: string; summary: string }>();
for (const file of files) {
  const bytes = await readFile(path.join(dir, file));
  const analysis = await analyser.analyse({
    bytes,
    mediaType: "image/jpeg",
    taxonomy: DEFAULT_TAXONOMY,
    language: "en",
  });
  const { image } = await store.catalog.insertImage(newImage({ originalName: file }));
  await store.catalog.saveAnalysis(image.id, analysis, `job-${file}`);
  names.set(image.id, { file, summary: analysis.summary });
}
await analyser.close?.();

const similar = new SimilarPhotos({ catalog: store.catalog });
let same = 0;
let total = 0;
const shown: string[] = [];
for (const [id, { file, summary }] of names) {
  const nearest = await similar.similar(id, 5);
  const kind = kindOf(file);
  if (kind !== "other") {
    same += nearest.filter((n) => kindOf(names.get(n.image.id)!.file) === kind).length;
    total += nearest.length;
  }
  if (
    shown.length < 6 &&
    /dog|spaniel|terrier|car|racer|orange|banana|bird|junco|lizard|iguana/i.test(file)
  ) {
    shown.push(
      `${id.slice(0, 8)} ${label(file)} ("${summary}") ->\n${nearest
        .map(
          (n) =>
            `    ${n.similarity.toFixed(2)} ${n.image.id.slice(0, 8)} ${label(names.get(n.image.id)!.file)}`,
        )
        .join("\n")}`,
    );
  }
}
console.log(
  `${names.size} photos; of the 5 nearest, ${((100 * same) / total).toFixed(1)}% are of the same kind (${KINDS.join(", ")})`,
);
const kinds = [...names.values()].map((n) => kindOf(n.file));
const chance = KINDS.map((k) => (kinds.filter((x) => x === k).length / kinds.length) ** 2).reduce(
  (a, b) => a + b,
  0,
);
console.log(
  `(by chance: about ${((100 * chance) / (1 - (kinds.filter((k) => k === "other").length / kinds.length) ** 2 || 1)).toFixed(1)}%)`,
);
console.log(shown.join("\n"));
await store.close();
