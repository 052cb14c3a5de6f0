import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { PROMPT_VERSION } from "../../src/domain/analysis.js";
import { PhotocatError } from "../../src/domain/errors.js";
import { silentLogger } from "../../src/logger.js";
import { analyseInBatches, type BatchApi } from "../../src/services/batch-analysis.js";
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
    async waitUntilEnded() {},
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
    const stateDir = path.join(dir, "batches");
    const remote = new Map<string, string[]>();
    const settings = { taxonomy: container.config.taxonomy, language: "en", shareContext: false, stateDir };

    // First run: submitted, then "interrupted" before results were read (waitUntilEnded throws).
    const interrupted = fakeBatchApi(remote, new Set());
    interrupted.waitUntilEnded = async () => {
      throw new Error("process killed");
    };
    await expect(analyseInBatches(container.ingestDeps, interrupted, {}, settings, ids)).rejects.toThrow();
    expect(await readdir(stateDir)).toEqual(["msgbatch_1.json"]);
    expect((await container.catalog.getImage(ids[0]!))?.status).toBe("running");

    // Second run, nothing new: finishes the recorded batch without submitting again.
    const resumed = fakeBatchApi(remote, new Set([ids[2]!]));
    const summary = await analyseInBatches(container.ingestDeps, resumed, {}, settings, []);
    expect(resumed.submitted).toBe(0);
    expect(summary).toEqual({ analysed: 2, requeued: 1, batches: 1 });
    expect(existsSync(path.join(stateDir, "msgbatch_1.json"))).toBe(false);
    expect(await container.catalog.getImage(ids[0]!)).toMatchObject({ status: "done" });
    expect((await container.catalog.getImage(ids[2]!))?.status).toBe("queued");
    expect((await container.queue.counts()).queued).toBe(1);
    expect((await container.catalog.stats()).costUsd).toBeCloseTo(0.002);
  });
});
