import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Container, createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import { ingestFile } from "../../src/services/ingest.js";
import { solidImage } from "../support/fake-analyser.js";
import { until } from "../support/wait.js";

const WORKER = path.resolve("test/support/worker-process.ts");

function startWorker(dataDir: string, leaseMs = 1500): Promise<ChildProcess> {
  // `node --import tsx` (not the tsx binary, which forks): the pid we kill is the worker itself.
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, dataDir, "400", String(leaseMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

describe("a worker killed with SIGKILL mid-job", () => {
  let dataDir: string;
  let container: Container;

  afterAll(async () => {
    await container?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("leaves no job lost or done twice after a restart", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-crash-"));
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir }), {
      logger: silentLogger(),
    });
    const photos = 8;
    for (let i = 0; i < photos; i++) {
      const file = path.join(dataDir, `p${i}.png`);
      writeFileSync(file, await solidImage({ r: 20 * i, g: 100, b: 50 }, i, "png"));
      await ingestFile(container.ingestDeps, container.ingestLimits, {
        path: file,
        originalName: `p${i}.png`,
      });
    }

    const first = await startWorker(dataDir);
    await until(async () => (await container.queue.counts()).done >= 2, 20_000);
    await until(async () => (await container.queue.counts()).running >= 1, 20_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const atKill = await container.queue.counts();
    expect(atKill.done).toBeLessThan(photos);

    const second = await startWorker(dataDir);
    await until(async () => (await container.queue.counts()).done === photos, 30_000);
    second.kill("SIGTERM");
    await new Promise((r) => second.once("exit", r));

    const counts = await container.queue.counts();
    expect(counts).toEqual({ queued: 0, running: 0, done: photos, failed: 0 });
    const stats = await container.catalog.stats();
    expect(stats.byStatus.done).toBe(photos);
    // Only the jobs in hand at the kill (at most the concurrency, 2) may have been started twice.
    const calls = readFileSync(path.join(dataDir, "calls.log"), "utf8").trim().split("\n").length;
    expect(calls).toBeGreaterThanOrEqual(photos);
    expect(calls).toBeLessThanOrEqual(photos + 2);
  }, 90_000);
});

describe("a restarted worker after a kill", () => {
  let dataDir: string;
  let container: Container;

  afterAll(async () => {
    await container?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("puts the killed worker's running photos back to queued at start, not when their leases expire", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-crash-lease-"));
    container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir }), {
      logger: silentLogger(),
    });
    const photos = 4;
    for (let i = 0; i < photos; i++) {
      const file = path.join(dataDir, `p${i}.png`);
      writeFileSync(file, await solidImage({ r: 30 * i, g: 10, b: 90 }, i, "png"));
      await ingestFile(container.ingestDeps, container.ingestLimits, {
        path: file,
        originalName: `p${i}.png`,
      });
    }
    const leaseMs = 120_000;
    const first = await startWorker(dataDir, leaseMs);
    await until(async () => (await container.catalog.stats()).byStatus.running >= 1, 20_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const held = await container.queue.leaseHolders();
    expect(held.some((h) => h.includes(`:${first.pid}:`))).toBe(true);

    const startedAt = Date.now();
    const second = await startWorker(dataDir, leaseMs);
    // By the time the new worker is ready, nothing is held by the dead one any more.
    expect((await container.queue.leaseHolders()).some((h) => h.includes(`:${first.pid}:`))).toBe(false);
    await until(async () => (await container.catalog.stats()).byStatus.done === photos, 30_000);
    expect(Date.now() - startedAt).toBeLessThan(leaseMs / 2);
    second.kill("SIGTERM");
    await new Promise((r) => second.once("exit", r));
    expect(await container.queue.counts()).toEqual({ queued: 0, running: 0, done: photos, failed: 0 });
  }, 90_000);
});
