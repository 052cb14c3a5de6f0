import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { inspectStore } from "./support/consistency.js";
import { type FakeProvider, fakeProviderEnv, startFakeProvider } from "./support/fake-provider.js";
import { generatedPhoto, sha256 } from "./support/photos.js";
import { type ServerProcess, startServerProcess, uploadFile } from "./support/server-process.js";

const PHOTOS = 100;
const CLIENTS = 8;
const CONCURRENCY = 2;

interface Stats {
  images: number;
  by_status: Record<string, number>;
}

async function stats(url: string): Promise<Stats> {
  return (await (await fetch(`${url}/api/stats`)).json()) as Stats;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Files anywhere under `folder` whose name marks them as temporary (a crash's leftovers). */
async function tempFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && /tmp|\.upload$/i.test(e.name)).map((e) => e.name);
}

describe("the server killed with SIGKILL mid-import and mid-analysis, then restarted", () => {
  let dataDir = "";
  let provider: FakeProvider | undefined;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.kill();
    await provider?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("loses no photo, shows no half-written file and finishes every job exactly once", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-faults-crash-"));
    // Analysis (2 at a time, 1 s each) is slower than uploading, so work is queued when the server is killed.
    provider = await startFakeProvider({ latencyMs: 1000 });
    const env = { ...fakeProviderEnv(provider), PHOTOCAT_CONCURRENCY: String(CONCURRENCY) };
    const start = () => startServerProcess({ dataDir, env, shortLeases: true });
    const photos: Buffer[] = [];
    for (let i = 0; i < PHOTOS; i++)
      photos.push(await generatedPhoto(5000 + i, { width: 1600, height: 1200 }));
    const hashes = photos.map(sha256);
    /** Every upload answered 2xx: photo index -> the id it was given. None may be lost. */
    const accepted = new Map<number, string>();
    /** Uploads sent and not answered yet. */
    let pending = 0;

    async function uploadAll(url: string, indexes: number[], stopWhen: () => boolean): Promise<number[]> {
      const failed: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < indexes.length && !stopWhen()) {
            const index = indexes[next++]!;
            pending++;
            const result = await uploadFile(url, { name: `p${index}.jpg`, bytes: photos[index]! }).catch(
              () => null,
            );
            pending--;
            const id = (result?.body.images as { id: string }[] | undefined)?.[0]?.id;
            if (result && (result.status === 200 || result.status === 201) && id) accepted.set(index, id);
            else failed.push(index);
          }
        }),
      );
      return [...failed, ...indexes.slice(next)];
    }

    // 1. Kill while uploads are being received and stored.
    server = await start();
    const first = server;
    let inFlightAtKill = -1;
    let killed = false;
    const uploading = uploadAll(
      first.url,
      photos.map((_, i) => i),
      () => killed,
    );
    await until(async () => accepted.size >= 30, 60_000, "30 accepted uploads");
    inFlightAtKill = pending;
    await first.kill();
    killed = true;
    const notStored = await uploading;
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(notStored.length).toBeGreaterThan(0);
    const acceptedBeforeKill = accepted.size;

    // 2. Restart, send what did not get through, and kill again while photos are being analysed.
    server = await start();
    const second = server;
    expect(await uploadAll(second.url, notStored, () => false)).toEqual([]);
    expect(accepted.size).toBe(PHOTOS);
    await until(async () => provider!.stats.inFlight > 0, 60_000, "analysis under way");
    const before = await stats(second.url);
    await second.kill();
    expect(before.by_status.running).toBeGreaterThan(0);
    expect(before.by_status.queued).toBeGreaterThan(0);

    // 3. Restart and let every job finish.
    server = await start();
    const third = server;
    await until(
      async () => {
        const { done = 0, failed = 0, queued = 0, running = 0 } = (await stats(third.url)).by_status;
        return done + failed === PHOTOS && queued + running === 0;
      },
      150_000,
      "every photo analysed",
    );
    expect(await third.stop()).toBe(0);
    server = undefined;

    const store = await inspectStore(dataDir);
    const leftovers = await tempFiles(dataDir);
    console.info(
      `[faults] killed after ${acceptedBeforeKill} accepted uploads and mid-analysis ` +
        `(${before.by_status.done} done, ${before.by_status.running} running); ` +
        `${store.orphanKeys.length} unreferenced files and ${leftovers.length} temporary files left by the kills; ` +
        `${provider.stats.requests} provider requests for ${PHOTOS} photos`,
    );

    // No photo lost: every upload that was answered 2xx is in the catalogue, with its files.
    const byId = new Map(store.records.map((r) => [r.id, r]));
    for (const [index, id] of accepted) {
      expect(byId.get(id)?.sha256, `photo ${index} (${id})`).toBe(hashes[index]);
    }
    expect(store.records).toHaveLength(PHOTOS);
    expect(store.problems).toEqual([]);
    // No half-written file visible: every listed key is a final name, and even unreferenced originals
    // (a kill between storing files and the record) are whole copies of an upload.
    expect(store.strangeKeys).toEqual([]);
    for (const hash of store.orphanOriginalHashes) expect(hashes).toContain(hash);

    // Every queued job finished exactly once: one analysis per photo, done; re-runs only for jobs in hand at a
    // kill. A photo whose upload was killed between its record and its near-duplicate hashes gets them from a
    // fingerprint job at restart (at most one per upload in flight), done too.
    const db = new BetterSqlite3(path.join(dataDir, "photocat.db"), { readonly: true });
    const jobs = db.prepare("select image_id, kind, state from jobs").all() as {
      image_id: string;
      kind: string;
      state: string;
    }[];
    db.close();
    const analyses = jobs.filter((j) => j.kind === "analyse");
    const others = jobs.filter((j) => j.kind !== "analyse");
    expect(analyses).toHaveLength(PHOTOS);
    expect(new Set(analyses.map((j) => j.image_id)).size).toBe(PHOTOS);
    expect(others.every((j) => j.kind === "fingerprint")).toBe(true);
    expect(others.length).toBeLessThanOrEqual(CLIENTS);
    expect(jobs.every((j) => j.state === "done")).toBe(true);
    expect(store.queue).toEqual({ queued: 0, running: 0, done: jobs.length, failed: 0 });
    expect(store.records.every((r) => r.status === "done")).toBe(true);
    expect(provider.stats.requests).toBeLessThanOrEqual(PHOTOS + 2 * CONCURRENCY);
  });
});
