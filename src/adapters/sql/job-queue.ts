import { randomUUID } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import { PhotocatError } from "../../domain/errors.js";
import {
  type EnqueueOptions,
  JOB_KINDS,
  type Job,
  type JobKind,
  type JobPayload,
  type JobQueue,
  type JobState,
  type QueueCounts,
} from "../../ports/job-queue.js";
import { checkKinds, checkMs } from "../queue/arguments.js";
import type { SqlDialect } from "./dialect.js";
import { storableText } from "./mapping.js";
import type { Database, JobsTable } from "./schema.js";

export const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_ERROR_CHARS = 2000;
const PENDING: JobState[] = ["queued", "running"];

function toJob(row: Selectable<JobsTable>): Job {
  const kind = row.kind as JobKind;
  return {
    id: row.id,
    kind,
    payload: JOB_KINDS[kind].payload.parse(JSON.parse(row.payload)),
    imageId: row.image_id,
    state: row.state as JobState,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lastError: row.last_error,
  } as Job;
}

export function createSqlJobQueue(
  db: Kysely<Database>,
  dialect: SqlDialect,
  options: { kind: string; close: () => Promise<void> },
): JobQueue {
  const nowIso = () => new Date().toISOString();
  const now = () => dialect.nowMs();
  const later = (ms: number) => sql<number>`(${dialect.nowMs()} + ${ms})`;

  return {
    kind: options.kind,

    async enqueue<K extends JobKind>(kind: K, payload: JobPayload<K>, enqueueOptions: EnqueueOptions = {}) {
      const spec = JOB_KINDS[checkKinds([kind])[0] as K];
      const parsed = spec.payload.safeParse(payload);
      if (!parsed.success) {
        throw new PhotocatError(
          "invalid_request",
          `a ${kind} job needs a payload like its schema: ${parsed.error.message}`,
        );
      }
      const value = parsed.data as never;
      const imageId = spec.imageId(value);
      const maxAttempts = enqueueOptions.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new PhotocatError("invalid_request", "maxAttempts must be a whole number of at least 1");
      }
      const now = nowIso();
      try {
        // A partial unique index on dedupe_key over queued/running jobs makes this a no-op when one exists.
        await db
          .insertInto("jobs")
          .values({
            id: randomUUID(),
            kind,
            payload: JSON.stringify(value),
            dedupe_key: spec.dedupeKey(value),
            image_id: imageId,
            state: "queued",
            attempts: 0,
            max_attempts: maxAttempts,
            run_at: later(checkMs(enqueueOptions.delayMs ?? 0, "delayMs")),
            lease_owner: null,
            lease_until: null,
            last_error: null,
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      } catch (error) {
        if (dialect.isForeignKeyViolation(error)) {
          throw new PhotocatError("not_found", `no photo with id ${imageId} to analyse`);
        }
        throw error;
      }
    },

    async claim(workerId: string, leaseMs: number, kinds?: readonly JobKind[]) {
      const lease = checkMs(leaseMs, "leaseMs");
      const wanted = checkKinds(kinds);
      if (wanted.length === 0) return null;
      // One statement: pick the next due job and take it, so two claimers never get the same job.
      const row = await db
        .updateTable("jobs")
        .set((eb) => ({
          state: "running",
          attempts: eb("attempts", "+", 1),
          lease_owner: workerId,
          lease_until: later(lease),
          run_at: later(lease),
          updated_at: nowIso(),
        }))
        .where("id", "=", (eb) =>
          eb
            .selectFrom("jobs")
            .select("id")
            .where("state", "in", PENDING)
            .where("run_at", "<=", now())
            .where("kind", "in", wanted)
            .where((w) => w.or([w("state", "=", "queued"), w("attempts", "<", w.ref("max_attempts"))]))
            .orderBy("run_at")
            .limit(1)
            .$if(dialect.skipLocked, (qb) => qb.forUpdate().skipLocked()),
        )
        .returningAll()
        .executeTakeFirst();
      return row ? toJob(row) : null;
    },

    async claimJob(jobId: string, workerId: string, leaseMs: number) {
      const lease = checkMs(leaseMs, "leaseMs");
      // Queued (a delivery is its schedule) or running on a lease that ran out.
      const row = await db
        .updateTable("jobs")
        .set((eb) => ({
          state: "running",
          attempts: eb("attempts", "+", 1),
          lease_owner: workerId,
          lease_until: later(lease),
          run_at: later(lease),
          updated_at: nowIso(),
        }))
        .where("id", "=", jobId)
        .where((w) =>
          w.or([w("state", "=", "queued"), w.and([w("state", "=", "running"), w("run_at", "<=", now())])]),
        )
        .returningAll()
        .executeTakeFirst();
      if (row) return toJob(row);
      const held = await db
        .selectFrom("jobs")
        .select("id")
        .where("id", "=", jobId)
        .where("state", "=", "running")
        .executeTakeFirst();
      return held ? "running" : null;
    },

    async extendLease(jobId: string, workerId: string, leaseMs: number) {
      const lease = checkMs(leaseMs, "leaseMs");
      const result = await db
        .updateTable("jobs")
        .set({ lease_until: later(lease), run_at: later(lease), updated_at: nowIso() })
        .where("id", "=", jobId)
        .where("state", "=", "running")
        .where("lease_owner", "=", workerId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async complete(jobId: string, workerId: string) {
      const result = await db
        .updateTable("jobs")
        .set({ state: "done", lease_owner: null, lease_until: null, last_error: null, updated_at: nowIso() })
        .where("id", "=", jobId)
        .where("state", "=", "running")
        .where("lease_owner", "=", workerId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async fail(jobId, workerId, error, retry) {
      const retryIn = checkMs(retry.retryInMs, "retryInMs");
      const row = await db
        .updateTable("jobs")
        .set((eb) => ({
          state: retry.retryable
            ? eb.case().when("attempts", "<", eb.ref("max_attempts")).then("queued").else("failed").end()
            : "failed",
          run_at: later(retryIn),
          lease_owner: null,
          lease_until: null,
          last_error: storableText(error, MAX_ERROR_CHARS),
          updated_at: nowIso(),
        }))
        .where("id", "=", jobId)
        .where("state", "=", "running")
        .where("lease_owner", "=", workerId)
        .returning("state")
        .executeTakeFirst();
      if (!row) return "lost";
      return row.state === "queued" ? "retrying" : "failed";
    },

    async failAbandoned() {
      const rows = await db
        .updateTable("jobs")
        .set((eb) => ({
          state: "failed",
          last_error: sql<string>`'worker died ' || ${eb.ref("attempts")} || ' times'`,
          lease_owner: null,
          lease_until: null,
          updated_at: nowIso(),
        }))
        .where("state", "=", "running")
        .where("run_at", "<=", now())
        .where((qb) => qb("attempts", ">=", qb.ref("max_attempts")))
        .returningAll()
        .execute();
      return rows.map(toJob);
    },

    async postpone(jobId, workerId, delayMs) {
      const delay = checkMs(delayMs, "delayMs");
      const result = await db
        .updateTable("jobs")
        .set((eb) => ({
          state: "queued",
          // A poll that found nothing yet is not a failed attempt.
          attempts: eb("attempts", "-", 1),
          run_at: later(delay),
          lease_owner: null,
          lease_until: null,
          updated_at: nowIso(),
        }))
        .where("id", "=", jobId)
        .where("state", "=", "running")
        .where("lease_owner", "=", workerId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async leaseHolders() {
      const rows = await db
        .selectFrom("jobs")
        .select("lease_owner")
        .distinct()
        .where("state", "=", "running")
        .where("lease_owner", "is not", null)
        .execute();
      return rows.map((r) => r.lease_owner as string);
    },

    async releaseLeases(workerId: string) {
      // The attempt stays counted: a worker that keeps dying on a job still ends it after max attempts.
      const rows = await db
        .updateTable("jobs")
        .set({ state: "queued", run_at: now(), lease_owner: null, lease_until: null, updated_at: nowIso() })
        .where("state", "=", "running")
        .where("lease_owner", "=", workerId)
        .returning(["kind", "image_id"])
        .execute();
      return rows.map((r) => ({ kind: r.kind as JobKind, imageId: r.image_id }));
    },

    async pendingJobs<K extends JobKind>(kind: K) {
      const rows = await db
        .selectFrom("jobs")
        .selectAll()
        .where("kind", "=", checkKinds([kind])[0] as K)
        .where("state", "in", PENDING)
        .orderBy("created_at")
        .execute();
      return rows.map((row) => toJob(row) as Job<K>);
    },

    async cancel(imageId: string) {
      await db.deleteFrom("jobs").where("image_id", "=", imageId).where("state", "in", PENDING).execute();
    },

    async counts(kinds?: readonly JobKind[]): Promise<QueueCounts> {
      const rows = await db
        .selectFrom("jobs")
        .select(({ fn }) => ["state", fn.countAll<number>().as("count")])
        .$if(kinds !== undefined, (qb) => qb.where("kind", "in", kinds?.length ? [...kinds] : [""]))
        .groupBy("state")
        .execute();
      const counts: QueueCounts = { queued: 0, running: 0, done: 0, failed: 0 };
      for (const row of rows) {
        if (row.state in counts) counts[row.state as JobState] = Number(row.count);
      }
      return counts;
    },

    close: options.close,
  };
}
