import sharp from "sharp";
import { loadConfig } from "../../../src/config.js";
import { createContainer } from "../../../src/container.js";
import { type ImageRecord, MEDIA_TYPES } from "../../../src/domain/image.js";
import { silentLogger } from "../../../src/logger.js";
import type { QueueCounts } from "../../../src/ports/job-queue.js";
import { allKeys, originalKey, thumbnailKey } from "../../../src/services/storage-keys.js";
import { sha256 } from "./photos.js";

// Originals carry the extension of a media type the product accepts (BMP and RAW too); thumbnails are WebP.
const ORIGINAL_EXTENSIONS = Object.values(MEDIA_TYPES).map((type) => type.extension);
const KEY_PATTERN = new RegExp(
  `^(originals/[0-9a-f]{2}/[0-9a-f-]{36}\\.(${ORIGINAL_EXTENSIONS.join("|")})|thumbnails/[0-9a-f]{2}/[0-9a-f-]{36}-(small|large)\\.webp)$`,
);

export interface StoreReport {
  records: ImageRecord[];
  queue: QueueCounts;
  /** Records whose files are missing or damaged: must always be empty. */
  problems: string[];
  /** Listed keys that are not a stored photo's final name (a temporary file would show here). */
  strangeKeys: string[];
  /** Listed files of no record: allowed only after a crash between storing files and the record. */
  orphanKeys: string[];
  /** sha256 of every orphan original, to prove that even those are whole copies of an upload. */
  orphanOriginalHashes: string[];
}

/**
 * Opens a stopped Photocat's data folder and checks catalogue and files against each other: every record
 * has its original (with the recorded sha256) and two decodable thumbnails; every listed file is a final
 * key; files without a record are reported.
 */
export async function inspectStore(dataDir: string): Promise<StoreReport> {
  const container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir }), {
    logger: silentLogger(),
  });
  try {
    const { catalog, blobs, queue } = container;
    const ids = await catalog.selectIds({ all: true });
    const records: ImageRecord[] = [];
    const problems: string[] = [];
    const expected = new Set<string>();
    for (const id of ids) {
      const image = await catalog.getImage(id);
      if (!image) continue;
      records.push(image);
      for (const key of allKeys(image.id, image.mediaType)) expected.add(key);
      const original = originalKey(image.id, image.mediaType);
      if (!(await blobs.stat(original))) {
        problems.push(`${image.id}: original missing`);
      } else if (sha256(await blobs.get(original)) !== image.sha256) {
        problems.push(`${image.id}: original does not match its sha256`);
      }
      for (const size of ["small", "large"] as const) {
        const key = thumbnailKey(image.id, size);
        try {
          const meta = await sharp(await blobs.get(key)).metadata();
          if (meta.format !== "webp") problems.push(`${image.id}: ${size} thumbnail is ${meta.format}`);
        } catch (error) {
          problems.push(`${image.id}: ${size} thumbnail unreadable (${(error as Error).message})`);
        }
      }
    }
    const strangeKeys: string[] = [];
    const orphanKeys: string[] = [];
    const orphanOriginalHashes: string[] = [];
    for await (const key of blobs.list("")) {
      if (!KEY_PATTERN.test(key)) strangeKeys.push(key);
      else if (!expected.has(key)) {
        orphanKeys.push(key);
        if (key.startsWith("originals/")) orphanOriginalHashes.push(sha256(await blobs.get(key)));
      }
    }
    return { records, queue: await queue.counts(), problems, strangeKeys, orphanKeys, orphanOriginalHashes };
  } finally {
    await container.close();
  }
}
