import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import pLimit from "p-limit";

/** Expands files and folders (recursively, skipping hidden entries and symlinked folders) into file paths. */
export async function* expandPaths(inputs: readonly string[]): AsyncGenerator<string> {
  for (const input of inputs) {
    const info = await lstat(input).catch(() => null);
    if (!info) {
      yield input; // reported as missing by the caller, in order
      continue;
    }
    if (info.isDirectory()) yield* walk(input);
    else yield input;
  }
}

async function* walk(folder: string): AsyncGenerator<string> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** Runs `task` over items with at most `limit` at once, in order of arrival, reading items as slots free up. */
export async function forEachLimited<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const run = pLimit(limit);
  const running: Promise<void>[] = [];
  for await (const item of items) {
    running.push(run(() => task(item)));
    // Keeps a long folder walk from queueing every file at once.
    if (run.pendingCount > 0) await new Promise<void>((resolve) => run(async () => resolve()));
  }
  await Promise.all(running);
}
