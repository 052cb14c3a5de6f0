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

/** Album k holds about (k+1)*100 photos (every row i with i % 2000 < 2(k+1)): 100 to 5,000 photos each. */
export const PERF_ALBUMS = 50;

/** The timeline, places, capture-time order and albums, on the rows the *-perf.ts scripts seeded. */
export async function timeOrganiseQueries(catalog: Catalog, albumIds: string[]) {
  const limit = 50;
  const runs = 20;
  async function time(label: string, run: () => Promise<unknown>) {
    const samples: number[] = [];
    let result: unknown;
    // CPU time of this process too: on a busy machine wall times say more about the neighbours.
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      result = await run();
      samples.push(performance.now() - start);
    }
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
    const size = Array.isArray(result)
      ? `${result.length} rows`
      : `${(result as { items?: unknown[] }).items?.length ?? 1} items`;
    console.log(
      `${label.padEnd(44)} median ${percentile(samples, 50).toFixed(2).padStart(7)} ms   p95 ${percentile(samples, 95).toFixed(2).padStart(7)} ms   cpu ${cpuMs.toFixed(2).padStart(7)} ms   (${size})`,
    );
  }
  const taken = await catalog.listImages({ limit, order: "taken", to: "2008-06-30" });
  await time("taken order, first page", () => catalog.listImages({ limit, order: "taken" }));
  await time("taken order, from a month (to=2008-06-30)", () =>
    catalog.listImages({ limit, order: "taken", to: "2008-06-30" }),
  );
  await time("taken order, next page after that month", () =>
    catalog.listImages({ limit, order: "taken", to: "2008-06-30", cursor: taken.nextCursor }),
  );
  await time("taken order + category", () => catalog.listImages({ limit, order: "taken", category: "food" }));
  await time("timeline, whole library", () => catalog.timeline({}));
  await time("timeline, category", () => catalog.timeline({ category: "food" }));
  await time("timeline, search: cat", () => catalog.timeline({ q: "cat" }));
  await time("places", () => catalog.places({}));
  await time("place filter, first page", () => catalog.listImages({ limit, place: "Place 17" }));
  const [smallest, largest] = [albumIds[0]!, albumIds.at(-1)!];
  await time("album of 100, first page", () => catalog.listImages({ limit, album: smallest }));
  await time("album of 5,000, first page", () => catalog.listImages({ limit, album: largest }));
  await time("album of 5,000, taken order", () =>
    catalog.listImages({ limit, album: largest, order: "taken" }),
  );
  await time(`album list (${albumIds.length} albums, counts and covers)`, () => catalog.listAlbums());
  await time("one album (count and cover)", () => catalog.getAlbum(largest));
}
