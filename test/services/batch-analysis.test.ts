import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { PROMPT_VERSION } from "../../src/domain/analysis.js";
import { PhotocatError } from "../../src/domain/errors.js";
import { silentLogger } from "../../src/logger.js";
import { analyseInBatches, type BatchApi, submitBatches } from "../../src/services/batch-analysis.js";
import { ingestFile } from "../../src/services/ingest.js";
import { solidImage } from "../support/fake-analyser.js";

let dir: string | undefined;
let container: Container | undefined;
afterEach(async () => {
  await container?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A batch API double: remembers submitted batches "remotely", answers all but `failIds`. */
function fakeBatchApi(remote: Map<string, string[]>, failIds: Set<string>): BatchApi & { submitted: number } {
  const api = {
    submitted: 0,
    async submit(photos: Parameters<BatchApi["submit"]>[0]) {
      const ids: string[] = [];
      for await (const p of photos) ids.push(p.id);
      const batchId = `msgbatch_${remote.size + 1}`;
      remote.set(batchId, ids);
      api.submitted += ids.length;
      return { batches: [{ batchId, imageIds: ids }], skipped: [] };
    },
    async status(batchId: string) {
      const total = remote.get(batchId)?.length ?? 0;
      return { state: "ended", done: total, total };
    },
    async *results(batchId: string) {
      for (const imageId of remote.get(batchId) ?? []) {
        if (failIds.has(imageId)) {
          yield { imageId, error: new PhotocatError("analyser_output_invalid", "no answer") };
          continue;
        }
        yield {
          imageId,
          analysis: {
            summary: "A red square.",
            category: "art",
            tags: ["red"],
            altText: "A red square",
            text: null,
            confidence: 0.7,
            provenance: {
              provider: "anthropic",
              model: "claude-haiku-4-5",
              promptVersion: PROMPT_VERSION,
              inputTokens: 1500,
              outputTokens: 100,
              costUsd: 0.001,
              ms: 0,
            },
          },
        };
      }
    },
  };
  return api;
}

describe("batch analysis", () => {
  it("stores batch results, re-queues what the batch could not describe, and resumes after a restart", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-batch-"));
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir }), { logger: silentLogger() });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const file = path.join(dir, `p${i}.jpg`);
      await writeFile(file, await solidImage({ r: 220, g: 0, b: 0 }, i));
      const { image } = await ingestFile(
        container.ingestDeps,
        { ...container.ingestLimits, analyse: false },
        { path: file, originalName: `p${i}.jpg` },
      );
      ids.push(image.id);
    }
    const remote = new Map<string, string[]>();
    const settings = {
      taxonomy: container.config.taxonomy,
      language: "en",
      shareContext: false,
      pollIntervalMs: 20,
    };

    // First run: submitted, then "killed" before any result was read. The batch is in the database.
    const interrupted = fakeBatchApi(remote, new Set());
    expect(await submitBatches(container.ingestDeps, interrupted, {}, settings, ids)).toEqual({
      batches: 1,
      requeued: 0,
    });
    expect(existsSync(path.join(dir, "batches"))).toBe(false);
    const recorded = await container.queue.pendingJobs("batch-poll");
    expect(recorded.map((j) => j.payload)).toMatchObject([{ batchId: "msgbatch_1", imageIds: ids }]);
    expect((await container.catalog.getImage(ids[0]!))?.status).toBe("running");

    // Second run, nothing new, batch still processing at first: waits, then finishes the recorded batch
    // without submitting again.
    const resumed = fakeBatchApi(remote, new Set([ids[2]!]));
    let looks = 0;
    const ended = resumed.status;
    resumed.status = async (batchId) =>
      ++looks < 3 ? { state: "in_progress", done: 0, total: 3 } : ended(batchId);
    const summary = await analyseInBatches(container.ingestDeps, resumed, {}, settings, []);
    expect(looks).toBe(3);
    expect(resumed.submitted).toBe(0);
    expect(summary).toEqual({ analysed: 2, requeued: 1, batches: 1 });
    expect(await container.queue.counts(["batch-poll"])).toMatchObject({ queued: 0, running: 0, done: 1 });
    expect(await container.catalog.getImage(ids[0]!)).toMatchObject({ status: "done" });
    expect((await container.catalog.getImage(ids[2]!))?.status).toBe("queued");
    expect((await container.queue.counts(["analyse"])).queued).toBe(1);
    expect((await container.catalog.stats()).costUsd).toBeCloseTo(0.002);
  });

  it("retries a batch poll that failed, and sends the photos to the ordinary queue when it cannot go on", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-batch-"));
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir }), { logger: silentLogger() });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const file = path.join(dir, `p${i}.jpg`);
      await writeFile(file, await solidImage({ r: 0, g: 0, b: 220 }, i));
      const { image } = await ingestFile(
        container.ingestDeps,
        { ...container.ingestLimits, analyse: false },
        { path: file, originalName: `p${i}.jpg` },
      );
      ids.push(image.id);
    }
    const settings = {
      taxonomy: container.config.taxonomy,
      language: "en",
      shareContext: false,
      pollIntervalMs: 10,
    };
    const remote = new Map<string, string[]>();

    // A network blip: the poll is retried and the batch finishes.
    const flaky = fakeBatchApi(remote, new Set());
    const ended = flaky.status;
    let looks = 0;
    flaky.status = async (batchId) => {
      if (++looks <= 2) throw new PhotocatError("analyser_failed", "socket hang up", { retryable: true });
      return ended(batchId);
    };
    expect(await analyseInBatches(container.ingestDeps, flaky, {}, settings, [ids[0]!])).toMatchObject({
      analysed: 1,
      batches: 1,
    });
    expect(looks).toBe(3);

    // A batch that can no longer be read (deleted, wrong key): its photos are analysed one by one instead.
    const gone = fakeBatchApi(remote, new Set());
    gone.status = async () => {
      throw new PhotocatError("analyser_failed", "batch not found", { retryable: false });
    };
    expect(await analyseInBatches(container.ingestDeps, gone, {}, settings, [ids[1]!])).toMatchObject({
      analysed: 0,
      batches: 0,
    });
    expect(await container.queue.counts(["batch-poll"])).toMatchObject({ done: 1, failed: 1 });
    expect(await container.catalog.getImage(ids[1]!)).toMatchObject({ status: "queued" });
    expect(await container.queue.counts(["analyse"])).toMatchObject({ queued: 1 });
  });
});
