import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import chokidar from "chokidar";
import { errorMessage, isPhotocatError } from "../domain/errors.js";
import { type IngestDeps, type IngestLimits, ingestFile } from "./ingest.js";
import { findSidecars, isSidecarName } from "./sidecars.js";

export interface FolderWatcher {
  /** Resolves when the files present at start have been handled. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Moves a file into `folder` without replacing anything already there ("name (1).jpg"...). */
async function moveInto(file: string, folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  const { name, ext } = path.parse(file);
  for (let n = 0; n < 10_000; n++) {
    const target = path.join(folder, n === 0 ? `${name}${ext}` : `${name} (${n})${ext}`);
    if (existsSync(target)) continue;
    await rename(file, target);
    return target;
  }
  throw new Error(`too many files named ${name}${ext} in ${folder}`);
}

/** Tries of a file the server was too busy for, before it is left in place for the next start. */
const MAX_BUSY_ATTEMPTS = 5;

/**
 * Watches an incoming folder: every file dropped there (also in subfolders) is ingested once it has
 * stopped growing, then moved to `processed/`, or to `rejected/` with a `<name>.reason.txt` beside it.
 * Sidecars (name.xmp, name.ext.json) are read with their photo and moved with it; alone they wait.
 */
export function watchFolder(deps: IngestDeps, limits: IngestLimits, folder: string): FolderWatcher {
  const root = path.resolve(folder);
  const processed = path.join(root, "processed");
  const rejected = path.join(root, "rejected");
  const inFlight = new Set<Promise<void>>();
  let chain = Promise.resolve();

  let closed = false;
  const retryTimers = new Set<NodeJS.Timeout>();
  const handle = async (file: string, attempt = 1) => {
    const name = path.basename(file);
    // A sidecar waits for its photo, which reads it and takes it along.
    if (isSidecarName(name)) return;
    const sidecars = await findSidecars(file);
    try {
      const result = await ingestFile(deps, limits, { path: file, originalName: name, sidecars });
      await moveInto(file, processed);
      for (const sidecar of sidecars) await moveInto(sidecar, processed).catch(() => {});
      deps.logger.info(
        { file: name, id: result.image.id, duplicate: result.duplicate },
        "watched file ingested",
      );
    } catch (error) {
      if (isPhotocatError(error) && error.code === "busy") {
        // The server was too busy: the photo is not at fault, so it stays where it is and is tried again.
        if (closed || attempt >= MAX_BUSY_ATTEMPTS) {
          deps.logger.warn(
            { file: name, reason: error.message },
            "watched file left in place: try again later",
          );
          return;
        }
        const timer = setTimeout(
          () => {
            retryTimers.delete(timer);
            schedule(() => handle(file, attempt + 1));
          },
          (error.retryAfterS ?? 5) * 1000 * attempt,
        );
        retryTimers.add(timer);
        return;
      }
      const reason = isPhotocatError(error) ? `${error.code}: ${error.message}` : errorMessage(error);
      deps.logger.warn({ file: name, reason }, "watched file rejected");
      try {
        const moved = await moveInto(file, rejected);
        await writeFile(`${moved}.reason.txt`, `${reason}\n`);
        for (const sidecar of sidecars) await moveInto(sidecar, rejected).catch(() => {});
      } catch (moveError) {
        deps.logger.error({ err: moveError, file: name }, "could not move the rejected file");
      }
    }
  };

  const watcher = chokidar.watch(root, {
    ignored: (p: string) =>
      p.startsWith(processed) || p.startsWith(rejected) || path.basename(p).startsWith("."),
    awaitWriteFinish: { stabilityThreshold: 500, pollInterval: 100 },
    ignoreInitial: false,
    followSymlinks: false,
  });
  // One file at a time keeps memory flat when thousands are dropped at once.
  const schedule = (work: () => Promise<void>) => {
    const task = chain.then(work).catch(() => {});
    chain = task;
    inFlight.add(task);
    task.finally(() => inFlight.delete(task));
  };
  watcher.on("add", (file) => schedule(() => handle(file)));
  watcher.on("error", (error) => deps.logger.error({ err: error }, "folder watcher error"));

  const ready = new Promise<void>((resolve) => {
    watcher.on("ready", () => {
      chain.then(() => resolve());
    });
  });
  return {
    ready,
    close: async () => {
      closed = true;
      for (const timer of retryTimers) clearTimeout(timer);
      await watcher.close();
      await Promise.allSettled([...inFlight]);
    },
  };
}
