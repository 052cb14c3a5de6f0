import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import type { Analyser } from "../../src/ports/analyser.js";
import { analysisHandler, contextFor, retryDelayMs } from "../../src/services/analyse.js";
import { requeueOrphans } from "../../src/services/analysis-status.js";
import { ingestFile } from "../../src/services/ingest.js";
import { startWorker } from "../../src/services/worker.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";

let dir: string | undefined;
let container: Container | undefined;
afterEach(async () => {
  await container?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  container = undefined;
});

async function setUp(photos: number, options: { analyse?: boolean } = {}) {
  dir = await mkdtemp(path.join(tmpdir(), "photocat-worker-"));
  container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir }), { logger: silentLogger() });
  const ids: string[] = [];
  for (let i = 0; i < photos; i++) {
    const file = path.join(dir, `p${i}.jpg`);
    await writeFile(file, await solidImage({ r: 200, g: 20, b: 20 }, i));
    const { image } = await ingestFile(
      container.ingestDeps,
      { ...container.ingestLimits, analyse: options.analyse ?? true },
      { path: file, originalName: `p${i}.jpg` },
    );
    ids.push(image.id);
  }
  return { container, ids };
}

function work(c: Container, analyser: Analyser, extra: { shareContext?: boolean } = {}) {
  const deps = { ...c.ingestDeps, analyser };
  const analyse = analysisHandler(deps, {
    taxonomy: c.config.taxonomy,
    language: "en",
    shareContext: extra.shareContext ?? false,
    baseBackoffMs: 10,
    maxBackoffMs: 50,
  });
  return startWorker(deps, { analyse }, { concurrency: 2, pollMs: 20 });
}

describe("analysis worker", () => {
  it("retries a provider outage with backoff until the analysis succeeds", async () => {
    const { container: c, ids } = await setUp(3);
    const analyser = fakeAnalyser({ failFirst: 4 });
    const worker = work(c, analyser);
    await worker.drain();
    await worker.stop();
    for (const id of ids) expect((await c.catalog.getImage(id))?.status).toBe("done");
    expect(analyser.calls).toHaveLength(7);
    expect(await c.queue.counts()).toMatchObject({ done: 3, failed: 0 });
  });

  it("marks a photo failed with the reason when the error is not retryable", async () => {
    const { container: c, ids } = await setUp(1);
    const worker = work(c, fakeAnalyser({ alwaysFail: "the image was refused (400)" }));
    await worker.drain();
    await worker.stop();
    const image = await c.catalog.getImage(ids[0]!);
    expect(image?.status).toBe("failed");
    expect(image?.error).toBe("the image was refused (400)");
  });

  it("gives capture date and place only to offline analysers or when the user allows it", () => {
    const image = { metadata: { takenAt: "2019-08-01T18:00:00" }, place: "Biarritz, France" } as never;
    const remote: Analyser = { provider: "x", model: "y", analyse: async () => null as never };
    expect(contextFor(image, remote, false)).toBeUndefined();
    expect(contextFor(image, remote, true)).toEqual({
      takenAt: "2019-08-01T18:00:00",
      place: "Biarritz, France",
    });
    expect(contextFor(image, { ...remote, offline: true }, false)).toEqual({
      takenAt: "2019-08-01T18:00:00",
      place: "Biarritz, France",
    });
  });

  it("re-queues photos left waiting without a job", async () => {
    const { container: c, ids } = await setUp(2, { analyse: false });
    expect((await c.queue.counts()).queued).toBe(0);
    expect(await requeueOrphans(c)).toBe(2);
    expect((await c.queue.counts()).queued).toBe(2);
    expect(await requeueOrphans(c)).toBe(2);
    expect((await c.queue.counts()).queued).toBe(2); // no duplicate jobs
    expect(ids).toHaveLength(2);
  });

  it("spreads retries: exponential, capped, never under half the delay", () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(retryDelayMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
