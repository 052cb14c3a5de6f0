import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type FakeProvider, fakeProviderEnv, startFakeProvider } from "./support/fake-provider.js";
import { generatedPhoto } from "./support/photos.js";
import { type ServerProcess, startServerProcess, uploadFile } from "./support/server-process.js";

const PHOTOS = 20;
const OUTAGE_MS = 30_000;

describe("a provider outage: 503 for 30 s, then recovery", () => {
  let dataDir = "";
  let provider: FakeProvider | undefined;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.kill();
    await provider?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("backs off and completes every photo once the provider is back", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-faults-outage-"));
    provider = await startFakeProvider({ latencyMs: 200 });
    // The CLI's own queue timing; one retry inside each call, so the job queue's backoff does the waiting.
    server = await startServerProcess({
      dataDir,
      env: { ...fakeProviderEnv(provider), PHOTOCAT_MAX_RETRIES: "1" },
    });
    const url = server.url;
    provider.startOutage(OUTAGE_MS);
    const outageStarted = Date.now();
    for (let i = 0; i < PHOTOS; i++) {
      const { status } = await uploadFile(url, {
        name: `p${i}.jpg`,
        bytes: await generatedPhoto(9000 + i, { width: 640, height: 480 }),
      });
      expect(status).toBe(201);
    }

    let counts: Record<string, number> = {};
    const deadline = outageStarted + OUTAGE_MS + 120_000;
    while (Date.now() < deadline) {
      counts = ((await (await fetch(`${url}/api/stats`)).json()) as { by_status: Record<string, number> })
        .by_status;
      if ((counts.done ?? 0) + (counts.failed ?? 0) === PHOTOS) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const recoveredAfterS = (Date.now() - outageStarted) / 1000;
    expect(await server.stop()).toBe(0);
    server = undefined;

    const db = new BetterSqlite3(path.join(dataDir, "photocat.db"), { readonly: true });
    const jobs = db.prepare("select state, attempts, last_error from jobs").all() as {
      state: string;
      attempts: number;
      last_error: string | null;
    }[];
    db.close();
    const attempts = jobs.map((j) => j.attempts);
    console.info(
      `[faults] outage ${OUTAGE_MS / 1000} s: all settled after ${recoveredAfterS.toFixed(0)} s; ` +
        `${provider.stats.unavailable} requests met the outage (${(provider.stats.unavailable / PHOTOS).toFixed(1)} per photo); ` +
        `job attempts ${Math.min(...attempts)}-${Math.max(...attempts)}; ${JSON.stringify(counts)}`,
    );

    expect(provider.stats.unavailable).toBeGreaterThan(0);
    expect(counts).toMatchObject({ done: PHOTOS, failed: 0, queued: 0, running: 0 });
    expect(jobs.filter((j) => j.state !== "done")).toEqual([]);
    // The queue, not a tight loop, waited out the outage: jobs were retried later, and calls stayed few.
    expect(Math.max(...attempts)).toBeGreaterThan(1);
    expect(provider.stats.unavailable).toBeLessThanOrEqual(PHOTOS * 5 * 2);
  });
});
