import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { ConfigurationError } from "../../src/domain/errors.js";
import { DEFAULT_TAXONOMY } from "../../src/domain/taxonomy.js";
import { isDeadHolder, startContainerWorker } from "../../src/entry/worker.js";
import { silentLogger } from "../../src/logger.js";
import type { JobQueue } from "../../src/ports/job-queue.js";
import { failAbandonedJobs, markRunning, releaseDeadWorkers } from "../../src/services/analysis-status.js";
import { ingestFile } from "../../src/services/ingest.js";
import { isUnwritableStore, newWorkerId, parseWorkerId, startWorker } from "../../src/services/worker.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";

let dir: string | undefined;
let container: Container | undefined;
afterEach(async () => {
  await container?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  container = undefined;
});

async function setUp(photos: number) {
  dir = await mkdtemp(path.join(tmpdir(), "photocat-jobs-"));
  container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dir, PHOTOCAT_CONCURRENCY: "2" }), {
    logger: silentLogger(),
    analyser: fakeAnalyser(),
  });
  const ids: string[] = [];
  for (let i = 0; i < photos; i++) {
    const file = path.join(dir, `p${i}.jpg`);
    await writeFile(file, await solidImage({ r: 30, g: 90, b: 200 }, i));
    ids.push(
      (await ingestFile(container.ingestDeps, container.ingestLimits, { path: file, originalName: "p.jpg" }))
        .image.id,
    );
  }
  return { c: container, ids };
}

/** A logger that keeps its lines, to count what an operator would read. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function storeFull(): Error {
  return Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
}

/** A pid no process has (one that just exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid ?? 999_999;
}

describe("typed job worker", () => {
  it("refuses at start a kind it has no handler for", async () => {
    const { c } = await setUp(0);
    const handle = async () => {};
    expect(() => startWorker(c, { analyse: handle }, { concurrency: 1, kinds: ["batch-poll"] })).toThrow(
      ConfigurationError,
    );
    expect(() => startWorker(c, { analyse: handle }, { concurrency: 1, kinds: ["batch-poll"] })).toThrow(
      /no handler for "batch-poll" jobs/,
    );
    expect(() => startWorker(c, {}, { concurrency: 1 })).toThrow(/no job kinds/);
    // The factory too: this configuration (offline analyser) has no batch handler.
    await expect(startContainerWorker(c, { kinds: ["batch-poll"] })).rejects.toThrow(
      /no handler for "batch-poll"/,
    );
    expect(() =>
      startWorker(c, { analyse: handle }, { concurrency: 1, kinds: ["transcode" as never] }),
    ).toThrow(/unknown kind "transcode"/);
  });

  it("runs each kind by its handler and claims only its kinds", async () => {
    const { c, ids } = await setUp(1);
    await c.queue.enqueue("batch-poll", { batchId: "b1", imageIds: [], submittedAt: "x" });
    const seen: string[] = [];
    const worker = startWorker(
      c,
      {
        analyse: async (job, ctx) => {
          seen.push(`analyse ${job.payload.imageId}`);
          await c.queue.complete(job.id, ctx.workerId);
        },
      },
      { concurrency: 1, pollMs: 10 },
    );
    await worker.drain();
    await worker.stop();
    expect(seen).toEqual([`analyse ${ids[0]}`]);
    expect(await c.queue.counts(["batch-poll"])).toMatchObject({ queued: 1 });
  });
});

describe("a worker whose store cannot be written", () => {
  it("pauses claiming with one log line, probes with backoff, and one line when it resumes", async () => {
    const { c } = await setUp(3);
    let full = true;
    let claimsWhileFull = 0;
    const queue: JobQueue = {
      ...c.queue,
      claim: async (...args) => {
        if (full) {
          claimsWhileFull++;
          throw storeFull();
        }
        return c.queue.claim(...args);
      },
    };
    const { logger, lines } = recordingLogger();
    const analyser = await c.analyser();
    const { analysisHandler } = await import("../../src/services/analyse.js");
    const deps = { ...c.ingestDeps, queue, analyser, logger };
    const analyse = analysisHandler(deps, {
      taxonomy: c.config.taxonomy,
      language: "en",
      shareContext: false,
    });
    const worker = startWorker(
      deps,
      { analyse },
      { concurrency: 2, pollMs: 10, probeMs: 20, maxProbeMs: 80 },
    );
    await new Promise((r) => setTimeout(r, 600));
    full = false;
    await worker.drain();
    await worker.stop();

    // Without the pause, 2 slots polling every 10 ms would have tried about 120 times.
    expect(claimsWhileFull).toBeGreaterThan(1);
    expect(claimsWhileFull).toBeLessThan(15);
    const paused = lines.filter((l) => /cannot be written/.test(l.msg));
    const resumed = lines.filter((l) => /can be written again/.test(l.msg));
    expect(paused).toHaveLength(1);
    expect(resumed).toHaveLength(1);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]); // no error line per job
    expect(await c.queue.counts()).toMatchObject({ done: 3, queued: 0, running: 0 });
  });

  it("pauses too when a job's own bookkeeping hits a read-only database", async () => {
    const { c } = await setUp(2);
    const { logger, lines } = recordingLogger();
    let failures = 1;
    const worker = startWorker(
      { queue: c.queue, logger },
      {
        analyse: async (job, ctx) => {
          if (failures-- > 0) {
            // The lease is given back so that the test need not wait for it.
            await c.queue.fail(job.id, ctx.workerId, "x", { retryable: true, retryInMs: 0 });
            throw Object.assign(new Error("attempt to write a readonly database"), {
              code: "SQLITE_READONLY_DBMOVED",
            });
          }
          await c.queue.complete(job.id, ctx.workerId);
        },
      },
      { concurrency: 1, pollMs: 10, probeMs: 20 },
    );
    await worker.drain();
    await worker.stop();
    expect(lines.filter((l) => /cannot be written/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /can be written again/.test(l.msg))).toHaveLength(1);
    expect(await c.queue.counts()).toMatchObject({ done: 2 });
  });

  it("tells store-full and read-only errors from others, causes included", () => {
    expect(isUnwritableStore(storeFull())).toBe(true);
    expect(isUnwritableStore({ code: "SQLITE_IOERR_WRITE" })).toBe(true);
    expect(isUnwritableStore({ code: "53100" })).toBe(true);
    expect(isUnwritableStore(new Error("wrapped", { cause: { code: "ENOSPC" } }))).toBe(true);
    expect(isUnwritableStore({ code: "SQLITE_BUSY" })).toBe(false);
    expect(isUnwritableStore(new Error("fetch failed"))).toBe(false);
  });
});

describe("after a kill", () => {
  it("fails a photo whose worker kept dying, leaves an analysed one alone, and requeues a dead batch's photos", async () => {
    const { c, ids } = await setUp(3);
    const [dying, analysed, batched] = ids as [string, string, string];
    for (const id of ids) await c.queue.cancel(id);
    await c.queue.enqueue("analyse", { imageId: dying }, { maxAttempts: 1 });
    await c.queue.claim("gone", 1); // on its last attempt, lease over at once
    await c.queue.enqueue("analyse", { imageId: analysed }, { maxAttempts: 1 });
    const saved = await c.queue.claim("gone", 1);
    const bytes = await solidImage({ r: 200, g: 0, b: 0 }, 9);
    const analysis = await fakeAnalyser().analyse({
      bytes,
      mediaType: "image/jpeg",
      taxonomy: DEFAULT_TAXONOMY,
      language: "en",
    });
    await c.catalog.saveAnalysis(analysed, analysis, saved!.id);
    await c.queue.enqueue(
      "batch-poll",
      { batchId: "b", imageIds: [batched], submittedAt: "x" },
      { maxAttempts: 1 },
    );
    await markRunning(c, batched);
    await c.queue.claim("gone", 1);
    await new Promise((r) => setTimeout(r, 20));

    expect(await failAbandonedJobs(c)).toBe(3);
    expect(await c.catalog.getImage(dying)).toMatchObject({ status: "failed", error: "worker died 1 times" });
    expect(await c.catalog.getImage(analysed)).toMatchObject({ status: "done" });
    expect(await c.catalog.getImage(batched)).toMatchObject({ status: "queued" });
    expect(await c.queue.counts(["analyse"])).toMatchObject({ queued: 1, failed: 2 });
  });

  it("queues again at once the jobs a dead process of this host held, photos included", async () => {
    const { c, ids } = await setUp(2);
    const dead = `${hostname()}:${deadPid()}:abc123.1`;
    const alive = `${hostname()}:${process.ppid}:def456.1`;
    expect(parseWorkerId(dead)?.host).toBe(hostname());
    const first = await c.queue.claim(dead, 600_000);
    const second = await c.queue.claim(alive, 600_000);
    await markRunning(c, first!.imageId!);
    await markRunning(c, second!.imageId!);

    expect(await releaseDeadWorkers(c, isDeadHolder)).toBe(1);
    expect(await c.catalog.getImage(first!.imageId!)).toMatchObject({ status: "queued" });
    expect(await c.catalog.getImage(second!.imageId!)).toMatchObject({ status: "running" });
    expect(await c.queue.leaseHolders()).toEqual([alive]);
    // Another host's holders (another machine or container) are not judged: their leases run out.
    const elsewhere = `another-host:${deadPid()}:ghi789`;
    expect(isDeadHolder(elsewhere)).toBe(false);
    // This process's own workers are alive; an earlier process that had our pid (pid 1 in a container) is not.
    const own = newWorkerId();
    expect(isDeadHolder(own)).toBe(false);
    expect(isDeadHolder(`${hostname()}:${process.pid}:earlier1.1`)).toBe(true);
    expect(isDeadHolder("not-a-worker-id")).toBe(false);

    // The worker factory does it at start: the released photo is analysed long before its 10-minute lease.
    await c.queue.releaseLeases(alive);
    const worker = await startContainerWorker(c, { pollMs: 10 });
    await worker.drain();
    await worker.stop();
    for (const id of ids) expect(await c.catalog.getImage(id)).toMatchObject({ status: "done" });
  });
});
