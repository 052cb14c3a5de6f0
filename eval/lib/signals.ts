import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileTypeFromBuffer } from "file-type";
import type { CueSignals } from "../../src/analysers/local/classifier.js";
import { colourStats } from "../../src/analysers/local/colours.js";
import type { LocalModels } from "../../src/analysers/local/models.js";
import { preparePixels } from "../../src/analysers/local/pixels.js";
import { TESTDATA_DIR } from "./dataset.js";

/** Extracted signals are cached here (gitignored) so evaluation and training reruns take seconds. */
export const CACHE_DIR = path.resolve(import.meta.dirname, "../../.tmp/local-signals");
/** Bump when what models.ts or colours.ts extract changes, so stale cached signals are recomputed. */
const SIGNALS_VERSION = "local-2026-12-06.1";

function cacheFile(relative: string): string {
  const stat = statSync(path.join(TESTDATA_DIR, relative));
  const key = createHash("sha256")
    .update(`${SIGNALS_VERSION}\0${relative}\0${stat.size}\0${stat.mtimeMs}`)
    .digest("hex")
    .slice(0, 32);
  return path.join(CACHE_DIR, `${key}.json`);
}

export async function mediaTypeOf(bytes: Buffer, fallback: string): Promise<string> {
  return (await fileTypeFromBuffer(bytes))?.mime ?? fallback;
}

/** Signals for each file, from the cache or computed with the given models; null when a file cannot be read. */
export async function signalsFor(
  files: readonly string[],
  models: () => Promise<LocalModels>,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, CueSignals | null>> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const out = new Map<string, CueSignals | null>();
  let done = 0;
  for (const file of files) {
    const cached = cacheFile(file);
    if (existsSync(cached)) {
      out.set(file, JSON.parse(readFileSync(cached, "utf8")) as CueSignals | null);
    } else {
      let value: CueSignals | null = null;
      try {
        const bytes = await readFile(path.join(TESTDATA_DIR, file));
        const pixels = await preparePixels(bytes, {
          mediaType: await mediaTypeOf(bytes, "application/octet-stream"),
          maxPixels: 100_000_000,
        });
        value = { signals: await (await models()).infer(pixels), colours: colourStats(pixels.tiny) };
      } catch (error) {
        console.warn(`[signals] ${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
      writeFileSync(cached, JSON.stringify(value));
      out.set(file, value);
    }
    onProgress?.(++done, files.length);
  }
  return out;
}
