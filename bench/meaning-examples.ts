/**
 * What search by meaning finds that exact words missed: `npx tsx bench/meaning-examples.ts`. Loads the offline
 * analyser's descriptions of the test pictures (eval/results/after-sentences.tsv) into two in-memory catalogues,
 * one searching exact words only (as before), one by meaning, and prints what each query finds.
 */
import { readFile } from "node:fs/promises";
import { openSqliteStore } from "../src/adapters/sqlite/index.js";
import { PROMPT_VERSION } from "../src/domain/analysis.js";
import { exactWordsOnly } from "../src/lexicon/search-expansion.js";
import { newImage } from "../test/contracts/fixtures.js";

const QUERIES = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["animal", "cat", "dog", "automobile", "vehicle", "fruit", "food", "building", "plant", "person"];

const rows = (await readFile(new URL("../eval/results/after-sentences.tsv", import.meta.url), "utf8"))
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => {
    const [path, category, summary, altText, tags] = line.split("\t");
    return {
      path: path!,
      category: category!,
      summary: summary!,
      altText: altText!,
      tags: tags!.split(", "),
    };
  });

const exact = openSqliteStore({ path: ":memory:", expander: async () => exactWordsOnly });
const meaning = openSqliteStore({ path: ":memory:" });
const names = new Map<string, string>();
for (const store of [exact, meaning]) {
  for (const row of rows) {
    // A neutral file name: the test files are named after their subject, which search would find too.
    const { image } = await store.catalog.insertImage(newImage({ originalName: "IMG.jpg" }));
    names.set(image.id, `${row.path} ("${row.summary}" tags: ${row.tags.join(", ")})`);
    await store.catalog.saveAnalysis(
      image.id,
      {
        summary: row.summary,
        category: row.category,
        tags: row.tags,
        altText: row.altText,
        text: null,
        confidence: 0.8,
        provenance: {
          provider: "local",
          model: "eval",
          promptVersion: PROMPT_VERSION,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          ms: 0,
        },
      },
      `job-${image.id}`,
    );
  }
}

for (const q of QUERIES) {
  const before = (await exact.catalog.listImages({ limit: 500, q })).items.map((i) => names.get(i.id)!);
  const now = (await meaning.catalog.listImages({ limit: 500, q })).items.map((i) => names.get(i.id)!);
  const added = now.filter((n) => !before.includes(n));
  console.log(`\n"${q}": ${before.length} before, ${now.length} now (+${added.length})`);
  for (const example of added.slice(0, 4)) console.log(`  + ${example}`);
}
await exact.close();
await meaning.close();
