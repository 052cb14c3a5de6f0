import { randomUUID } from "node:crypto";
import type { BigIntStats, Dirent } from "node:fs";
import {
  copyFile,
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { PhotocatError } from "../../domain/errors.js";
import type { BlobInfo, BlobStore } from "../../ports/blob-store.js";
import { checkKey, contentTypeForKey } from "./keys.js";

/** Temporary files start with this; keys may not, so a crash's leftovers are never an object. */
const TEMP_PREFIX = ".photocat-tmp-";

/** A replaced object is a new file (new inode) with a new mtime, so its etag changes. */
function etagOf(s: BigIntStats): string {
  return `${s.size.toString(16)}-${s.mtimeNs.toString(16)}-${s.ino.toString(16)}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function fsyncPath(target: string, flags: "r" | "r+"): Promise<void> {
  const handle = await open(target, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Same disk: a rename, no copy. The source is synced first so the rename never exposes bytes that
 * are still only in the page cache. False when the source is on another file system.
 */
async function moveFile(source: string, target: string): Promise<boolean> {
  await fsyncPath(source, "r+");
  try {
    await rename(source, target);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === "EXDEV") return false;
    throw error;
  }
}

/** Makes a rename durable; some file systems cannot sync a folder, which is fine. */
async function fsyncFolder(folder: string): Promise<void> {
  await fsyncPath(folder, "r").catch(() => {});
}

/**
 * Objects as files under a root folder. Writes go to a temporary file in the target's folder, are
 * synced, then renamed over the target: readers see the old bytes or the new, never a part.
 * Content types come from the key's extension (keys are named after what they hold).
 */
export function createFsBlobStore(options: { root: string }): BlobStore {
  if (!options?.root) throw new PhotocatError("configuration", "[blob:fs] missing option root");
  const root = path.resolve(options.root);

  const fileOf = (key: string) => path.join(root, ...checkKey(key, TEMP_PREFIX).split("/"));

  async function info(file: string, key: string): Promise<BlobInfo | null> {
    try {
      const s = await stat(file, { bigint: true });
      if (!s.isFile()) return null;
      return {
        size: Number(s.size),
        contentType: contentTypeForKey(key),
        etag: etagOf(s),
        modifiedMs: Number(s.mtimeMs),
      };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  function notFound(key: string): PhotocatError {
    return new PhotocatError("not_found", `no stored object ${key}`);
  }

  async function* walk(folder: string, relative: string): AsyncGenerator<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) yield* walk(path.join(folder, entry.name), key);
      else if (entry.isFile()) yield key;
    }
  }

  return {
    kind: "fs",

    async put(key, data, _contentType) {
      const target = fileOf(key);
      const folder = path.dirname(target);
      await mkdir(folder, { recursive: true });
      const moved = !Buffer.isBuffer(data) && data.move && (await moveFile(data.path, target));
      if (!moved) {
        const temp = path.join(folder, `${TEMP_PREFIX}${randomUUID()}`);
        try {
          if (Buffer.isBuffer(data)) {
            await writeFile(temp, data, { flush: true });
          } else {
            await copyFile(data.path, temp);
            await fsyncPath(temp, "r+");
          }
          await rename(temp, target);
        } catch (error) {
          await unlink(temp).catch(() => {});
          throw error;
        }
        if (!Buffer.isBuffer(data) && data.move) await unlink(data.path).catch(() => {});
      }
      await fsyncFolder(folder);
      const stored = await info(target, key);
      if (!stored) throw notFound(key);
      return stored;
    },

    async get(key) {
      try {
        return await readFile(fileOf(key));
      } catch (error) {
        if (isMissing(error) || (error as { code?: unknown }).code === "EISDIR") throw notFound(key);
        throw error;
      }
    },

    async stat(key) {
      return info(fileOf(key), key);
    },

    async stream(key): Promise<{ body: Readable; info: BlobInfo }> {
      const file = fileOf(key);
      // Open first: the stream then reads the file that was stat-ed, even if it is replaced meanwhile.
      let handle: FileHandle;
      try {
        handle = await open(file, "r");
      } catch (error) {
        if (isMissing(error)) throw notFound(key);
        throw error;
      }
      const s = await handle.stat({ bigint: true });
      if (!s.isFile()) {
        await handle.close();
        throw notFound(key);
      }
      const size = Number(s.size);
      return {
        body: handle.createReadStream({ autoClose: true }),
        info: {
          size,
          contentType: contentTypeForKey(key),
          etag: etagOf(s),
          modifiedMs: Number(s.mtimeMs),
        },
      };
    },

    async delete(key) {
      try {
        await unlink(fileOf(key));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    },

    async *list(prefix) {
      checkKey(prefix, TEMP_PREFIX, { prefix: true });
      // Walk only the deepest folder the prefix names, then filter by the rest of it.
      const slash = prefix.lastIndexOf("/");
      const folderKey = slash >= 0 ? prefix.slice(0, slash) : "";
      const start = folderKey ? path.join(root, ...folderKey.split("/")) : root;
      for await (const key of walk(start, folderKey)) {
        if (key.startsWith(prefix)) yield key;
      }
    },
  };
}
