import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAnthropicAnalyser } from "../../src/analysers/anthropic/index.js";
import { anthropicSettings } from "../../src/analysers/registry.js";
import { ANSWER_TOOL_NAME } from "../../src/analysers/shared/prompt.js";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import type { Analyser } from "../../src/ports/analyser.js";
import { analysisHandler, contextFor, retryDelayMs } from "../../src/services/analyse.js";
import { requeueOrphans } from "../../src/services/analysis-status.js";
import { ingestFile } from "../../src/services/ingest.js";
import { startWorker } from "../../src/services/worker.js";
import { FAST_RETRY, startFakeServer, testConfig, validAnswer } from "../analysers/shared/fixtures.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";
import { until } from "../support/wait.js";

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

  it("says on the running photo that its provider call is retried, and clears the note on success", async () => {
    const { container: c, ids } = await setUp(1);
    const id = ids[0]!;
    const inner = fakeAnalyser();
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const analyser: Analyser = {
      ...inner,
      async analyse(input) {
        input.onRetry?.({
          attempt: 2,
          maxAttempts: 5,
          reason: "rate limited by Anthropic (429)",
          delayMs: 5,
        });
        await released;
        return inner.analyse(input);
      },
    };
    const worker = work(c, analyser);
    await until(async () => Boolean((await c.catalog.getImage(id))?.error), 5000, "the retry note");
    expect(await c.catalog.getImage(id)).toMatchObject({
      status: "running",
      error: "retrying (attempt 2 of 5): rate limited by Anthropic (429)",
    });
    release();
    await worker.drain();
    await worker.stop();
    expect(await c.catalog.getImage(id)).toMatchObject({ status: "done", error: null });
  });

  it("shows a real provider's retry on the photo: Anthropic rate limited, then described", async () => {
    const fake = await startFakeServer([
      {
        status: 429,
        headers: { "retry-after-ms": "800" },
        body: { type: "error", error: { type: "rate_limit_error", message: "slow down" } },
      },
      {
        body: {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "claude-haiku-4-5",
          content: [{ type: "tool_use", id: "toolu_1", name: ANSWER_TOOL_NAME, input: validAnswer() }],
          stop_reason: "tool_use",
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 5 },
        },
      },
    ]);
    try {
      const { container: c, ids } = await setUp(1);
      const id = ids[0]!;
      const settings = anthropicSettings(
        testConfig({ ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: fake.url }),
      );
      const worker = work(c, await createAnthropicAnalyser(settings, { retry: FAST_RETRY }));
      await until(async () => Boolean((await c.catalog.getImage(id))?.error), 5000, "the retry note");
      expect(await c.catalog.getImage(id)).toMatchObject({
        status: "running",
        error: expect.stringMatching(/^retrying \(attempt 2 of 3\): rate limited by Anthropic \(429\)/),
      });
      await worker.drain();
      await worker.stop();
      expect(await c.catalog.getImage(id)).toMatchObject({ status: "done", error: null });
    } finally {
      await fake.close();
    }
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
