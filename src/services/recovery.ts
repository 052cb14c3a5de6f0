import type { Logger } from "../logger.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Catalog } from "../ports/catalog.js";

const PHOTO_FOLDERS = ["originals/", "thumbnails/"];
const ID_IN_KEY = /^(?:originals|thumbnails)\/[^/]+\/([0-9a-f-]{36})[-.]/i;

/**
 * Removes stored files whose photo has no catalogue record: what a kill between storing an upload's
 * files and writing its record left behind. Only files older than `olderThanMs` are touched, so the
 * uploads other processes are storing right now are safe. Returns how many files were removed.
 */
export async function sweepOrphanFiles(
  deps: { catalog: Catalog; blobs: BlobStore; logger: Logger },
  options: { olderThanMs: number; now?: number },
): Promise<number> {
  const cutoff = (options.now ?? Date.now()) - options.olderThanMs;
  const known = new Map<string, boolean>();
  let removed = 0;
  for (const folder of PHOTO_FOLDERS) {
    for await (const key of deps.blobs.list(folder)) {
      const id = ID_IN_KEY.exec(key)?.[1];
      if (!id) continue;
      let recorded = known.get(id);
      if (recorded === undefined) {
        recorded = (await deps.catalog.getImage(id)) !== null;
        known.set(id, recorded);
      }
      if (recorded) continue;
      const info = await deps.blobs.stat(key);
      // A store that cannot tell a file's age keeps it: it might be an upload in flight.
      if (!info || info.modifiedMs === undefined || info.modifiedMs > cutoff) continue;
      await deps.blobs.delete(key);
      removed++;
    }
  }
  if (removed > 0) deps.logger.info({ removed }, "removed stored files that no photo record refers to");
  return removed;
}
