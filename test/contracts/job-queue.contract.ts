import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PhotocatError } from "../../src/domain/errors.js";
import type { Catalog } from "../../src/ports/catalog.js";
import type { JobQueue } from "../../src/ports/job-queue.js";
import { sleep } from "./fixtures.js";

export interface JobQueueHarness {
  queue: JobQueue;
  /** Creates a photo the queue may hold jobs for; returns its id. */
  addImage(): Promise<string>;
  /** When the queue shares a database with a catalogue. */
  catalog?: Catalog;
  close(): Promise<void>;
}

const LONG = 60_000;
// Short leases and back-offs, with margins wide enough for a busy machine.
const SHORT = 250;
const PAST_SHORT = 400;

/** The behaviour every JobQueue adapter must show. `makeStore` gives an empty queue each time. */
export function runJobQueueContract(name: string, makeStore: () => Promise<JobQueueHarness>) {
  describe(`JobQueue contract: ${name}`, () => {
    let store: JobQueueHarness;
    let queue: JobQueue;

    beforeEach(async () => {
      store = await makeStore();
      queue = store.queue;
    });
    afterEach(async () => {
      await store.close();
    });

    it("claims a queued job once, with a lease, and completes it", async () => {
      const imageId = await store.addImage();
      await queue.enqueue("analyse", { imageId: imageId });
      expect(await queue.counts()).toEqual({ queued: 1, running: 0, done: 0, failed: 0 });
      const job = await queue.claim("w1", LONG);
      expect(job).toMatchObject({ imageId, state: "running", attempts: 1, maxAttempts: 5, lastError: null });
      expect(await queue.claim("w2", LONG)).toBeNull();
      expect(await queue.complete(job!.id, "w1")).toBe(true);
      expect(await queue.complete(job!.id, "w1")).toBe(false);
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, done: 1, failed: 0 });
      expect(await queue.claim("w1", LONG)).toBeNull();
    });

    it("does not queue a second job while one is queued or running", async () => {
      const imageId = await store.addImage();
      await queue.enqueue("analyse", { imageId: imageId });
      await Promise.all([
        queue.enqueue("analyse", { imageId: imageId }),
        queue.enqueue("analyse", { imageId: imageId }),
      ]);
      expect((await queue.counts()).queued).toBe(1);
      const job = await queue.claim("w1", LONG);
      await queue.enqueue("analyse", { imageId: imageId });
      expect(await queue.counts()).toMatchObject({ queued: 0, running: 1 });
      await queue.complete(job!.id, "w1");
      // Finished jobs do not block a re-analysis.
      await queue.enqueue("analyse", { imageId: imageId });
      expect(await queue.counts()).toMatchObject({ queued: 1, done: 1 });
    });

    it("refuses a job for a photo that does not exist", async () => {
      const error = await queue
        .enqueue("analyse", { imageId: "00000000-0000-4000-8000-000000000000" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PhotocatError);
      expect((error as PhotocatError).code).toBe("not_found");
    });

    it("gives each job to exactly one of many concurrent claimers", async () => {
      const ids = await Promise.all(Array.from({ length: 5 }, () => store.addImage()));
      for (const id of ids) await queue.enqueue("analyse", { imageId: id });
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => queue.claim(`worker-${i}`, LONG)),
      );
      const claimed = claims.filter((c) => c !== null);
      expect(claimed).toHaveLength(5);
      expect(new Set(claimed.map((c) => c.imageId))).toEqual(new Set(ids));
    });

    it("takes due jobs in order and leaves delayed ones", async () => {
      const [first, second, later] = [await store.addImage(), await store.addImage(), await store.addImage()];
      await queue.enqueue("analyse", { imageId: later }, { delayMs: LONG });
      await queue.enqueue("analyse", { imageId: first });
      await sleep(5);
      await queue.enqueue("analyse", { imageId: second });
      expect((await queue.claim("w", LONG))?.imageId).toBe(first);
      expect((await queue.claim("w", LONG))?.imageId).toBe(second);
      expect(await queue.claim("w", LONG)).toBeNull();
      expect((await queue.counts()).queued).toBe(1);
    });

    it("hands a job whose lease ran out to another worker; the old holder has lost it", async () => {
      await queue.enqueue("analyse", { imageId: await store.addImage() });
      const first = await queue.claim("dead", SHORT);
      expect(await queue.claim("alive", LONG)).toBeNull();
      await sleep(PAST_SHORT);
      const second = await queue.claim("alive", LONG);
      expect(second).toMatchObject({ id: first!.id, attempts: 2 });
      expect(await queue.complete(first!.id, "dead")).toBe(false);
      expect(await queue.fail(first!.id, "dead", "late", { retryable: true, retryInMs: 0 })).toBe("lost");
      expect(await queue.extendLease(first!.id, "dead", LONG)).toBe(false);
      expect(await queue.complete(second!.id, "alive")).toBe(true);
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, done: 1, failed: 0 });
    });

    it("claims a delivered job by id once; a second delivery runs nothing", async () => {
      await queue.enqueue("analyse", { imageId: await store.addImage() }, { delayMs: LONG, maxAttempts: 1 });
      const [pending] = await queue.pendingJobs("analyse");
      const job = await queue.claimJob(pending!.id, "w1", SHORT);
      expect(job).toMatchObject({ id: pending!.id, state: "running", attempts: 1 });
      // Held by a live lease: the message is to come back later (that holder may die).
      expect(await queue.claimJob(pending!.id, "w2", LONG)).toBe("running");
      await sleep(PAST_SHORT);
      // Taken again when the lease ran out, even past its attempts: its handler records why it stops.
      expect(await queue.claimJob(pending!.id, "w2", LONG)).toMatchObject({ attempts: 2, maxAttempts: 1 });
      expect(await queue.complete(pending!.id, "w1")).toBe(false);
      expect(await queue.complete(pending!.id, "w2")).toBe(true);
      expect(await queue.claimJob(pending!.id, "w3", LONG)).toBeNull(); // finished
      expect(await queue.claimJob("00000000-0000-4000-8000-000000000000", "w3", LONG)).toBeNull();
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, done: 1, failed: 0 });
    });

    it("keeps a job whose lease is extended", async () => {
      await queue.enqueue("analyse", { imageId: await store.addImage() });
      const job = await queue.claim("slow", SHORT);
      expect(await queue.extendLease(job!.id, "slow", LONG)).toBe(true);
      expect(await queue.extendLease(job!.id, "other", LONG)).toBe(false);
      await sleep(PAST_SHORT);
      expect(await queue.claim("other", LONG)).toBeNull();
      expect(await queue.complete(job!.id, "slow")).toBe(true);
    });

    it("retries a retryable failure after the delay, then gives up at max attempts", async () => {
      await queue.enqueue("analyse", { imageId: await store.addImage() }, { maxAttempts: 3 });
      const job = await queue.claim("w", LONG);
      expect(await queue.fail(job!.id, "w", "rate limited", { retryable: true, retryInMs: LONG })).toBe(
        "retrying",
      );
      expect(await queue.counts()).toMatchObject({ queued: 1, running: 0 });
      expect(await queue.claim("w", LONG)).toBeNull(); // Backing off.

      // A shorter back-off is honoured too.
      await queue.enqueue("analyse", { imageId: await store.addImage() }, { maxAttempts: 2 });
      const other = await queue.claim("w", LONG);
      expect(await queue.fail(other!.id, "w", "503", { retryable: true, retryInMs: SHORT })).toBe("retrying");
      expect(await queue.claim("w", LONG)).toBeNull();
      await sleep(PAST_SHORT);
      const again = await queue.claim("w", LONG);
      expect(again).toMatchObject({ id: other!.id, attempts: 2, lastError: "503" });
      expect(await queue.fail(again!.id, "w", "503 again", { retryable: true, retryInMs: 0 })).toBe("failed");
      expect(await queue.claim("w", LONG)).toBeNull();
      expect(await queue.counts()).toEqual({ queued: 1, running: 0, done: 0, failed: 1 });
    });

    it("ends a job at once on a failure that is not retryable", async () => {
      await queue.enqueue("analyse", { imageId: await store.addImage() });
      const job = await queue.claim("w", LONG);
      expect(
        await queue.fail(job!.id, "w", "model output is invalid", { retryable: false, retryInMs: 0 }),
      ).toBe("failed");
      expect(await queue.claim("w", LONG)).toBeNull();
      expect(await queue.counts()).toMatchObject({ failed: 1, queued: 0, running: 0 });
    });

    it("fails a job whose worker keeps dying instead of looping forever", async () => {
      const imageId = await store.addImage();
      await queue.enqueue("analyse", { imageId: imageId }, { maxAttempts: 2 });
      expect((await queue.claim("w1", SHORT))?.attempts).toBe(1);
      await sleep(PAST_SHORT);
      expect((await queue.claim("w2", SHORT))?.attempts).toBe(2);
      await sleep(PAST_SHORT);
      expect(await queue.claim("w3", LONG)).toBeNull();
      const abandoned = await queue.failAbandoned();
      expect(abandoned).toMatchObject([
        { kind: "analyse", imageId, state: "failed", attempts: 2, lastError: "worker died 2 times" },
      ]);
      expect(await queue.failAbandoned()).toEqual([]);
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, done: 0, failed: 1 });
      // Re-analysis later is still possible.
      await queue.enqueue("analyse", { imageId: imageId });
      expect((await queue.claim("w4", LONG))?.attempts).toBe(1);
    });

    it("forgets the pending jobs of a photo on cancel", async () => {
      const a = await store.addImage();
      const b = await store.addImage();
      await queue.enqueue("analyse", { imageId: a });
      await queue.enqueue("analyse", { imageId: b });
      const running = await queue.claim("w", LONG);
      await queue.cancel(a);
      await queue.cancel(b);
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, done: 0, failed: 0 });
      expect(await queue.complete(running!.id, "w")).toBe(false);
    });

    it("carries typed payloads per kind and claims only the kinds asked for", async () => {
      const imageId = await store.addImage();
      const batch = { batchId: "msgbatch_1", imageIds: [imageId], submittedAt: "2026-12-01T00:00:00Z" };
      await queue.enqueue("batch-poll", batch);
      await queue.enqueue("batch-poll", batch); // one pending job per batch
      await queue.enqueue("analyse", { imageId });
      expect(await queue.counts(["batch-poll"])).toMatchObject({ queued: 1 });
      expect(await queue.counts(["analyse"])).toMatchObject({ queued: 1 });
      expect(await queue.counts()).toMatchObject({ queued: 2 });
      const analyse = await queue.claim("w", LONG, ["analyse"]);
      expect(analyse).toMatchObject({ kind: "analyse", payload: { imageId }, imageId });
      expect(await queue.claim("w", LONG, ["analyse"])).toBeNull();
      const poll = await queue.claim("w", LONG, ["batch-poll"]);
      expect(poll).toMatchObject({ kind: "batch-poll", payload: batch, imageId: null, attempts: 1 });
      expect(await queue.claim("w", LONG, [])).toBeNull();
    });

    it("refuses a payload that does not match its kind, and unknown kinds", async () => {
      const wrong = await queue.enqueue("batch-poll", { batchId: 7 } as never).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(PhotocatError);
      expect((wrong as PhotocatError).code).toBe("invalid_request");
      await expect(queue.enqueue("nope" as never, {} as never)).rejects.toThrow(/no job kind "nope"/);
      await expect(queue.claim("w", LONG, ["nope" as never])).rejects.toThrow(/no job kind/);
    });

    it("postpones a job without counting an attempt", async () => {
      await queue.enqueue("batch-poll", { batchId: "b1", imageIds: [], submittedAt: "x" });
      const job = await queue.claim("w", LONG);
      expect(await queue.postpone(job!.id, "other", SHORT)).toBe(false);
      expect(await queue.postpone(job!.id, "w", SHORT)).toBe(true);
      expect(await queue.counts()).toMatchObject({ queued: 1, running: 0 });
      expect(await queue.claim("w", LONG)).toBeNull();
      await sleep(PAST_SHORT);
      expect(await queue.claim("w", LONG)).toMatchObject({ id: job!.id, attempts: 1 });
    });

    it("lists lease holders and releases a dead holder's jobs at once", async () => {
      const [a, b] = [await store.addImage(), await store.addImage()];
      await queue.enqueue("analyse", { imageId: a });
      await queue.enqueue("analyse", { imageId: b });
      const dead = await queue.claim("host:1:dead", LONG);
      await queue.claim("host:2:alive", LONG);
      expect((await queue.leaseHolders()).sort()).toEqual(["host:1:dead", "host:2:alive"]);
      expect(await queue.releaseLeases("host:1:dead")).toEqual([{ kind: "analyse", imageId: dead!.imageId }]);
      expect(await queue.leaseHolders()).toEqual(["host:2:alive"]);
      expect(await queue.complete(dead!.id, "host:1:dead")).toBe(false);
      const again = await queue.claim("host:3:new", LONG);
      expect(again).toMatchObject({ id: dead!.id, attempts: 2 });
    });

    it("rejects nonsense durations", async () => {
      await queue.enqueue("analyse", { imageId: await store.addImage() });
      await expect(queue.claim("w", -1)).rejects.toBeInstanceOf(PhotocatError);
      await expect(queue.claim("w", Number.NaN)).rejects.toBeInstanceOf(PhotocatError);
      await expect(
        queue.enqueue("analyse", { imageId: await store.addImage() }, { maxAttempts: 0 }),
      ).rejects.toBeInstanceOf(PhotocatError);
    });
  });
}
