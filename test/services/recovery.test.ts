import { existsSync } from "node:fs";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { run } from "../../src/entry/runtime.js";
import { silentLogger } from "../../src/logger.js";
import type { Catalog } from "../../src/ports/catalog.js";
import { ingestFile } from "../../src/services/ingest.js";
import { sweepOrphanFiles } from "../../src/services/recovery.js";
import { allKeys } from "../../src/services/storage-keys.js";
import { solidImage } from "../support/fake-analyser.js";

let dir: string | undefined;
let container: Container | undefined;
afterEach(async () => {
  await container?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  container = undefined;
});

async function setUp() {
  dir = await mkdtemp(path.join(tmpdir(), "photocat-recovery-"));
  container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir }), { logger: silentLogger() });
  return container;
}

async function photoFile(seed: number): Promise<string> {
  const file = path.join(dir!, `p${seed}.jpg`);
  await writeFile(file, await solidImage({ r: 10, g: 200, b: 10 }, seed));
  return file;
}

async function storedKeys(c: Container): Promise<string[]> {
  const keys: string[] = [];
  for (const folder of ["originals/", "thumbnails/"])
    for await (const key of c.blobs.list(folder)) keys.push(key);
  return keys.sort();
}

describe("orphan files", () => {
  it("ingest removes the stored files when the catalogue write fails (disk full)", async () => {
    const c = await setUp();
    const failing: Catalog = {
      ...c.catalog,
      insertImage: async () => {
        throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
      },
    };
    const deps = { ...c.ingestDeps, catalog: failing };
    const file = await photoFile(1);
    await expect(ingestFile(deps, c.ingestLimits, { path: file, originalName: "p1.jpg" })).rejects.toThrow(
      /disk is full/,
    );
    expect(await storedKeys(c)).toEqual([]);
    // The source file of an import is left alone.
    await expect(
      ingestFile(c.ingestDeps, c.ingestLimits, { path: file, originalName: "p1.jpg" }),
    ).resolves.toMatchObject({
      duplicate: false,
    });
  });

  it("sweeps at start the files a kill left without a record, once they are older than the cut-off", async () => {
    const c = await setUp();
    const kept = await ingestFile(c.ingestDeps, c.ingestLimits, {
      path: await photoFile(2),
      originalName: "a.jpg",
    });
    const orphanId = "0f0e0d0c-0b0a-4909-8807-060504030201";
    for (const key of allKeys(orphanId, "image/jpeg")) await c.blobs.put(key, Buffer.from("x"), "image/jpeg");
    const keepKeys = allKeys(kept.image.id, kept.image.mediaType).sort();
    expect(await storedKeys(c)).toHaveLength(6);

    // Young files may be an upload another process is finishing: kept.
    expect(await sweepOrphanFiles(c, { olderThanMs: 60 * 60_000 })).toBe(0);
    expect(await storedKeys(c)).toHaveLength(6);

    const twoHoursLater = Date.now() + 2 * 60 * 60_000;
    expect(await sweepOrphanFiles(c, { olderThanMs: 60 * 60_000, now: twoHoursLater })).toBe(3);
    expect(await storedKeys(c)).toEqual(keepKeys);
  });

  it("is run when a process starts", async () => {
    const c = await setUp();
    const orphanId = "0f0e0d0c-0b0a-4909-8807-0605040302aa";
    const [key] = allKeys(orphanId, "image/jpeg");
    await c.blobs.put(key!, Buffer.from("x"), "image/jpeg");
    const file = path.join(dir!, "blobs", ...key!.split("/"));
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
    await utimes(file, twoHoursAgo, twoHoursAgo);
    await c.close();
    container = undefined;

    const running = await run(loadConfig({}, { PHOTOCAT_DATA_DIR: dir! }), {
      http: false,
      worker: false,
      logger: silentLogger(),
    });
    await running.close(); // waits for the sweep
    expect(existsSync(file)).toBe(false);
  });
});
