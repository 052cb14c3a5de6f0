import { performance } from "node:perf_hooks";
import { percentile } from "../../bench/report.js";
import type { Catalog, ImageQuery } from "../../src/ports/catalog.js";

/** The gallery's queries, timed the same way for every catalogue (used by the *-perf.ts scripts). */
export async function timeGalleryQueries(
  catalog: Catalog,
  rows: number,
  /** A cursor `offset` rows down the newest-first order of the rows matching `where` (SQL). */
  deepCursor: (offset: number, where?: string) => Promise<string>,
) {
  async function time(label: string, query: ImageQuery, runs = 30) {
    const samples: number[] = [];
    let count = 0;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const page = await catalog.listImages(query);
      samples.push(performance.now() - start);
      count = page.items.length;
    }
    const median = percentile(samples, 50);
    const p95 = percentile(samples, 95);
    console.log(
      `${label.padEnd(44)} median ${median.toFixed(2).padStart(7)} ms   p95 ${p95.toFixed(2).padStart(7)} ms   (${count} items)`,
    );
  }

  const limit = 50;
  await time("first page", { limit });
  await time("deep cursor page (90%)", { limit, cursor: await deepCursor(Math.floor(rows * 0.9)) });
  await time("category filter, first page", { limit, category: "documents" });
  await time("category filter, deep cursor page", {
    limit,
    category: "documents",
    cursor: await deepCursor(Math.floor(rows * 0.09), "category_effective = 'documents'"),
  });
  await time("edited category (art), first page", { limit, category: "art" });
  await time("status filter (failed, 2%)", { limit, status: "failed" });
  await time("date range (five days)", { limit, from: "2020-09-20", to: "2020-09-24" });
  await time("FTS common word: cat", { limit, q: "cat" });
  await time("FTS two words: red car", { limit, q: "red car" });
  await time("FTS prefix: mount", { limit, q: "mount" });
  await time("FTS rare word: zeppelin", { limit, q: "zeppelin" });
  await time("FTS + category: snow / nature", { limit, q: "snow", category: "nature" });
  await time("FTS no match: xylophone", { limit, q: "xylophone" });
  for (const [label, run] of [
    ["categoryCounts", () => catalog.categoryCounts()],
    ["stats", () => catalog.stats()],
  ] as const) {
    const start = performance.now();
    await run();
    console.log(`${label.padEnd(44)} ${(performance.now() - start).toFixed(1).padStart(7)} ms (one run)`);
  }
}
