import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { percentile } from "../../bench/report.js";
import { inspectStore } from "./support/consistency.js";
import { type FakeProvider, fakeProviderEnv, startFakeProvider } from "./support/fake-provider.js";
import { generatedPhoto, seededRandom, sha256 } from "./support/photos.js";
import { type ServerProcess, startServerProcess, uploadFile } from "./support/server-process.js";

const CLIENTS = 50;
const UPLOADS = 500;
const DISTINCT = 200;

describe("50 clients uploading 500 photos (with repeats) at once", () => {
  let dataDir = "";
  let provider: FakeProvider | undefined;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.kill();
    await provider?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("stores each distinct photo once, answers every request and keeps /healthz fast", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-faults-load-"));
    provider = await startFakeProvider({ latencyMs: 100 });
    server = await startServerProcess({ dataDir, env: fakeProviderEnv(provider) });
    const url = server.url;

    const photos: Buffer[] = [];
    for (let i = 0; i < DISTINCT; i++)
      photos.push(await generatedPhoto(1000 + i, { width: 1024, height: 768 }));
    // Every photo twice, then random repeats, in a seeded shuffled order.
    const random = seededRandom(7);
    const order = [...photos.keys(), ...photos.keys()];
    while (order.length < UPLOADS) order.push(Math.floor(random() * DISTINCT));
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }

    let uploading = true;
    const health: number[] = [];
    const healthFailures: string[] = [];
    const prober = (async () => {
      while (uploading) {
        const started = performance.now();
        try {
          const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
          await response.arrayBuffer();
          if (response.status !== 200) healthFailures.push(`status ${response.status}`);
        } catch (error) {
          healthFailures.push((error as Error).message);
        }
        health.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const answers: { photo: number; status: number; id?: string; duplicate?: boolean; error?: string }[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < order.length) {
          const photo = order[next++]!;
          try {
            const { status, body } = await uploadFile(url, {
              name: `photo-${photo}.jpg`,
              bytes: photos[photo]!,
            });
            const image = (body.images as { id: string; duplicate: boolean }[] | undefined)?.[0];
            answers.push({ photo, status, id: image?.id, duplicate: image?.duplicate });
          } catch (error) {
            answers.push({ photo, status: 0, error: (error as Error).message });
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    uploading = false;
    await prober;

    const p99 = percentile(health, 99);
    console.info(
      `[faults] ${UPLOADS} uploads by ${CLIENTS} clients in ${seconds.toFixed(1)} s; /healthz p50 ` +
        `${percentile(health, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...health).toFixed(1)} ms ` +
        `over ${health.length} probes`,
    );

    // Every request answered, and answered well.
    expect(answers).toHaveLength(UPLOADS);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 201)).toEqual([]);
    // The same bytes always name the same photo, and exactly one upload of each created it.
    const idsByPhoto = new Map<number, Set<string>>();
    for (const a of answers) idsByPhoto.set(a.photo, (idsByPhoto.get(a.photo) ?? new Set()).add(a.id!));
    expect([...idsByPhoto.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    expect(answers.filter((a) => a.duplicate === false)).toHaveLength(DISTINCT);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(DISTINCT);

    expect(healthFailures).toEqual([]);
    expect(health.length).toBeGreaterThan(20);
    expect(p99).toBeLessThanOrEqual(200);

    await server.stop();
    const store = await inspectStore(dataDir);
    expect(store.records).toHaveLength(DISTINCT);
    expect(new Set(store.records.map((r) => r.sha256))).toEqual(new Set(photos.map(sha256)));
    expect(store.problems).toEqual([]);
    expect(store.strangeKeys).toEqual([]);
    // Losers of a same-bytes race drop their copies: no file without a record.
    expect(store.orphanKeys).toEqual([]);
  });
});
