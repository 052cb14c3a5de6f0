/**
 * Reads and writes metadata on every file of ../shared/testdata's metadata-heavy sources (exiftool-t-images,
 * exif-samples, pillow-tests): reading must never throw, writing must succeed or refuse with a PhotocatError.
 * `npx tsx scripts/check-metadata-corpus.ts [--write] [--limit N]`; the test runs a sample of it.
 */
import { copyFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createExiftoolWriter } from "../src/adapters/metadata/exiftool.js";
import { isPhotocatError } from "../src/domain/errors.js";
import { detectMediaType } from "../src/media/detect.js";
import { mergeOwnWords, readEmbeddedWords } from "../src/media/own-words.js";

export const METADATA_SOURCES = ["exiftool-t-images", "exif-samples", "pillow-tests"];

async function* filesUnder(folder: string): AsyncGenerator<string> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (entry.name.startsWith("_") || entry.name.endsWith(".tsv")) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else yield full;
  }
}

export interface CorpusResult {
  read: number;
  withWords: number;
  notes: number;
  written: number;
  refused: number;
  crashes: string[];
}

export async function checkMetadataCorpus(
  root: string,
  options: { write: boolean; limit?: number; every?: number },
): Promise<CorpusResult> {
  const result: CorpusResult = { read: 0, withWords: 0, notes: 0, written: 0, refused: 0, crashes: [] };
  const writer = createExiftoolWriter();
  const scratch = await mkdtemp(path.join(tmpdir(), "photocat-corpus-"));
  let index = 0;
  try {
    for (const source of METADATA_SOURCES) {
      for await (const file of filesUnder(path.join(root, source))) {
        if (options.limit !== undefined && result.read >= options.limit) return result;
        if (index++ % (options.every ?? 1) !== 0) continue;
        const bytes = await readFile(file);
        result.read++;
        try {
          const reading = await readEmbeddedWords(bytes);
          const notes = [...reading.notes];
          if (mergeOwnWords(reading.found, notes)) result.withWords++;
          result.notes += notes.length;
        } catch (error) {
          result.crashes.push(`read ${file}: ${(error as Error).message}`);
          continue;
        }
        if (!options.write) continue;
        const mediaType = await detectMediaType(bytes).catch(() => null);
        if (!mediaType) continue;
        const copy = path.join(scratch, `copy${path.extname(file)}`);
        await copyFile(file, copy);
        try {
          await writer.embed(copy, mediaType, {
            title: "Corpus title",
            description: "Corpus description é «»",
            keywords: ["corpus", "test"],
            hierarchicalSubjects: ["Photocat|other"],
            altText: "alt",
            visibleText: null,
          });
          result.written++;
        } catch (error) {
          if (isPhotocatError(error) && error.code === "cannot_embed") result.refused++;
          else result.crashes.push(`write ${file}: ${(error as Error).message}`);
        } finally {
          await rm(copy, { force: true });
        }
      }
    }
    return result;
  } finally {
    await writer.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const limitAt = process.argv.indexOf("--limit");
  const root = path.resolve("../shared/testdata");
  const started = performance.now();
  const result = await checkMetadataCorpus(root, {
    write: process.argv.includes("--write"),
    ...(limitAt > 0 ? { limit: Number(process.argv[limitAt + 1]) } : {}),
  });
  console.log(
    JSON.stringify({ ...result, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2),
  );
  process.exitCode = result.crashes.length > 0 ? 1 : 0;
}
