import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { run } from "../../src/entry/runtime.js";
import { newImage } from "../contracts/fixtures.js";
import { fakeAnalyser } from "../support/fake-analyser.js";

const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
let dataDir: string | undefined;
let blocker: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("process start", () => {
  it("starts nothing else when the server cannot listen (no hidden worker spending money)", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-listen-"));
    blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker!.listen(0, "127.0.0.1", () => resolve((blocker!.address() as { port: number }).port)),
    );
    let warmedUp = false;
    const analyser = {
      ...fakeAnalyser(),
      warmUp: async () => {
        warmedUp = true;
      },
    };
    const config = loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir, PHOTOCAT_PORT: String(port) });
    await expect(run(config, { http: true, worker: true, analyser })).rejects.toThrow(/port is in use/);
    expect(warmedUp).toBe(false);
  });

  it("a dependency's rethrowing rejection handler cannot kill the process once ours are installed", async () => {
    // tfjs-backend-wasm's runtime installs `process.on("unhandledRejection", (r) => { throw r })`.
    const script = `
      import { installProcessGuards, reclaimProcessGuards } from "./src/process-guards.ts";
      import { createLogger } from "./src/logger.ts";
      import { tensorflow } from "./src/analysers/local/runtime.ts";
      installProcessGuards(createLogger("error"));
      await tensorflow();
      const foreign = process.listeners("unhandledRejection").length - 1;
      const removed = reclaimProcessGuards();
      Promise.reject(new Error("a stray rejection"));
      setTimeout(() => console.log(JSON.stringify({ foreign, removed, alive: true })), 200);
    `;
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: ROOT, timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(result.foreign).toBeGreaterThan(0);
    expect(result.removed).toBeGreaterThanOrEqual(result.foreign as number);
    expect(result.alive).toBe(true);
    expect(stderr).toContain("a stray rejection");
  });

  it("deletes for good, at start and then periodically, what has been in the trash for 30 days", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-purge-"));
    const config = loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir });
    const first = await run(config, { http: false, worker: false });
    const { catalog } = first.container;
    const [old, recent, later] = await Promise.all(
      [1, 2, 3].map(async () => (await catalog.insertImage(newImage())).image.id),
    );
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 31 * 86_400_000 });
    await catalog.trashImage(old!);
    vi.useRealTimers();
    await catalog.trashImage(recent!);
    await first.close();

    const second = await run(config, { http: false, worker: false, trashPurgeMs: 50 });
    const ids = async () => (await second.container.catalog.listTrash({ limit: 10 })).items.map((i) => i.id);
    await expect.poll(ids).toEqual([recent]);
    // Later sweeps find what expired since.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 40 * 86_400_000 });
    await second.container.catalog.trashImage(later!);
    vi.useRealTimers();
    await expect.poll(ids).toEqual([recent]);
    expect(await second.container.catalog.getImage(later!)).toBeNull();
    await second.close();
  });
});
