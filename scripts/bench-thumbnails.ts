/**
 * Compares inspectImage (detect + header + EXIF + one decode -> two WebP thumbnails + thumbhash + colours + place)
 * with sharp alone making the same two thumbnails from the file, on the real photos of ../shared/testdata.
 * Prints both throughputs and their ratio (inspectImage / sharp alone; the target is >= 0.8).
 *
 *   npx tsx scripts/bench-thumbnails.ts [--rounds 3] [--limit 60]
 */
import { parseArgs } from "node:util";
import sharp from "sharp";
import { inspectImage, THUMBNAIL_EDGES, THUMBNAIL_WEBP } from "../src/media/inspect.js";
import { HAS_TESTDATA, readManifests, TESTDATA_SKIP_REASON, testdataPath } from "../test/support/testdata.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, limit: { type: "string", default: "60" } },
});
if (!HAS_TESTDATA) {
  console.error(TESTDATA_SKIP_REASON);
  process.exit(2);
}

// Camera photos and wallpapers: the files people import. Sorted by path so runs compare like with like.
const photos = readManifests()
  .filter((row) =>
    /^(exif-samples\/jpg|debian-wallpapers|imagenet-samples|opencv-samples|darknet)\//.test(row.path),
  )
  .filter((row) => /\.(jpe?g|png|webp)$/i.test(row.path) && !/corrupt|invalid/i.test(row.path + row.label))
  .sort((a, b) => a.path.localeCompare(b.path))
  .filter((_, i, all) => i % Math.max(1, Math.floor(all.length / Number(values.limit))) === 0)
  .map((row) => testdataPath(row.path));

async function sharpAlone(file: string): Promise<void> {
  const base = sharp(file, { autoOrient: true });
  const inside = (edge: number) =>
    ({ width: edge, height: edge, fit: "inside", withoutEnlargement: true }) as const;
  await Promise.all([
    base.clone().resize(inside(THUMBNAIL_EDGES.large)).webp(THUMBNAIL_WEBP).toBuffer(),
    base.clone().resize(inside(THUMBNAIL_EDGES.small)).webp(THUMBNAIL_WEBP).toBuffer(),
  ]);
}

async function inspectOnly(file: string): Promise<void> {
  await inspectImage(file, { maxPixels: 100_000_000 });
}

async function timeAll(run: (file: string) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (const file of photos) await run(file);
  return performance.now() - t0;
}

// Warm up: load libvips codecs and the city table once.
await timeAll(inspectOnly);
await timeAll(sharpAlone);

const rows = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  // Alternate the order so a noisy neighbour on the machine hurts both sides alike.
  const aloneFirst = round % 2 === 1;
  const alone = aloneFirst ? await timeAll(sharpAlone) : 0;
  const inspected = await timeAll(inspectOnly);
  const aloneMs = aloneFirst ? alone : await timeAll(sharpAlone);
  rows.push({
    round,
    files: photos.length,
    "sharp alone files/s": +(photos.length / (aloneMs / 1000)).toFixed(1),
    "inspectImage files/s": +(photos.length / (inspected / 1000)).toFixed(1),
    ratio: +(aloneMs / inspected).toFixed(2),
  });
}
console.table(rows);
const ratios = rows.map((row) => row.ratio).sort((a, b) => a - b);
console.log(
  `median ratio inspectImage / sharp alone: ${ratios[Math.floor(ratios.length / 2)]} (target >= 0.8)`,
);
