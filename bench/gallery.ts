import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import sharp from "sharp";
import { thumbnailKey } from "../src/services/storage-keys.js";
import { CHROMIUM_SKIP_REASON, ensureWebBuilt, HAS_CHROMIUM, launchChromium } from "../test/e2e/browser.js";
import { percentile, round } from "./report.js";

export interface GalleryResults {
  records: number;
  runs: number;
  /** From navigation start until the first thumbnail of the grid has loaded, cold cache each run. */
  first_thumbnail_p50_ms: number;
  first_thumbnail_max_ms: number;
}

/**
 * Seeded records have no files: give the newest ones real thumbnails so the gallery's first screen can load,
 * as it would in a catalogue of that size.
 */
export async function writeNewestThumbnails(dbPath: string, blobRoot: string, count = 200): Promise<void> {
  const db = new BetterSqlite3(dbPath, { readonly: true });
  const ids = db.prepare("select id from images order by created_at desc, id desc limit ?").all(count) as {
    id: string;
  }[];
  db.close();
  const thumbnail = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#4a7ab0" } })
    .webp({ quality: 78 })
    .toBuffer();
  for (const { id } of ids) {
    const file = path.join(blobRoot, thumbnailKey(id, "small"));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, thumbnail);
  }
}

/** Opens the gallery in Debian's Chromium and times the first thumbnail on screen (issue 5's "within 1 s"). */
export async function firstThumbnailMs(url: string, records: number, runs = 5): Promise<GalleryResults> {
  if (!HAS_CHROMIUM) throw new Error(CHROMIUM_SKIP_REASON);
  await ensureWebBuilt();
  const chromium = await launchChromium();
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "commit" });
      const handle = await page.waitForFunction(
        () => {
          const img = document.querySelector<HTMLImageElement>('[aria-label="Photos"] img');
          return img?.complete && img.naturalWidth > 0 ? performance.now() : null;
        },
        null,
        { polling: "raf", timeout: 30_000 },
      );
      times.push((await handle.jsonValue()) as number);
      await context.close();
    }
  } finally {
    await chromium.close();
  }
  return {
    records,
    runs,
    first_thumbnail_p50_ms: round(percentile(times, 50)),
    first_thumbnail_max_ms: round(Math.max(...times)),
  };
}
