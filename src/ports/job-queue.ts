import { z } from "zod";

export type JobState = "queued" | "running" | "done" | "failed";

/**
 * Every kind of job and the payload it carries: adding a kind is one entry here (and one handler in
 * the worker). `imageId` names the photo a job is about (its jobs go when the photo goes); `dedupeKey`
 * allows at most one queued or running job per key.
 */
export const JOB_KINDS = {
  analyse: {
    payload: z.object({ imageId: z.string().min(1) }),
    imageId: (p: { imageId: string }) => p.imageId,
    dedupeKey: (p: { imageId: string }) => `analyse:${p.imageId}`,
  },
  /** Computes the perceptual hash of a photo stored before ingest did it, and looks for its near-duplicates. */
  fingerprint: {
    payload: z.object({ imageId: z.string().min(1) }),
    imageId: (p: { imageId: string }) => p.imageId,
    dedupeKey: (p: { imageId: string }) => `fingerprint:${p.imageId}`,
  },
  /**
   * Embeds a photo with the remote embedder (search by meaning): after its analysis, after a person's edit
   * of its description (text-only embedders), or by `photocat embed`.
   */
  embed: {
    payload: z.object({ imageId: z.string().min(1) }),
    imageId: (p: { imageId: string }) => p.imageId,
    dedupeKey: (p: { imageId: string }) => `embed:${p.imageId}`,
  },
  /** Waits for one submitted Anthropic message batch and stores its results. */
  "batch-poll": {
    payload: z.object({ batchId: z.string().min(1), imageIds: z.array(z.string()), submittedAt: z.string() }),
    imageId: () => null,
    dedupeKey: (p: { batchId: string }) => `batch-poll:${p.batchId}`,
  },
  /**
   * Rewrites the XMP sidecar kept beside a photo's original (PHOTOCAT_STORAGE_SIDECARS). One job per version
   * of the record (its updatedAt), so a change made while an earlier job runs is never deduplicated away.
   */
  sidecar: {
    payload: z.object({ imageId: z.string().min(1), version: z.string() }),
    imageId: (p: { imageId: string }) => p.imageId,
    dedupeKey: (p: { imageId: string; version: string }) => `sidecar:${p.imageId}:${p.version}`,
  },
} as const satisfies Record<
  string,
  {
    payload: z.ZodType;
    imageId: (payload: never) => string | null;
    dedupeKey: (payload: never) => string;
  }
>;

export type JobKind = keyof typeof JOB_KINDS;

/** The body of a message a queue sends to a function to run one job (see claimJob). */
export const JobMessage = z.object({ jobId: z.string().min(1), kind: z.string() });
export type JobMessage = z.infer<typeof JobMessage>;
export const ALL_JOB_KINDS = Object.keys(JOB_KINDS) as JobKind[];
export type JobPayload<K extends JobKind> = z.infer<(typeof JOB_KINDS)[K]["payload"]>;

export function isJobKind(kind: string): kind is JobKind {
  return Object.hasOwn(JOB_KINDS, kind);
}

interface JobBase {
  id: string;
  /** `imageId` (on Job): the photo the job is about, or null. */
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
}

/** A job of kind K; `Job` alone is any kind, told apart by `kind`. */
export type Job<K extends JobKind = JobKind> = {
  [P in K]: JobBase & {
    kind: P;
    payload: JobPayload<P>;
    imageId: ReturnType<(typeof JOB_KINDS)[P]["imageId"]>;
  };
}[K];

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  maxAttempts?: number;
}

export interface QueueCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
}

/**
 * A durable queue of typed jobs. A claimed job carries a lease: if its worker dies, the lease runs out
 * and another worker claims the job again. Completing or failing checks the lease holder, so a worker
 * that lost its lease cannot overwrite the newer holder's outcome.
 */
export interface JobQueue {
  readonly kind: string;
  /**
   * Queues a job (the payload is checked against its kind's schema); a no-op when a queued or running
   * job with the same dedupe key exists (one pending analysis per photo).
   */
  enqueue<K extends JobKind>(kind: K, payload: JobPayload<K>, options?: EnqueueOptions): Promise<void>;
  /**
   * Takes the next due job of the given kinds (all when omitted), or null. A job whose lease ran out on
   * its last attempt is not taken again: see failAbandoned.
   */
  claim(workerId: string, leaseMs: number, kinds?: readonly JobKind[]): Promise<Job | null>;
  /**
   * Takes one named job, as claim does: a job a queue delivered to a function (Lambda's event source).
   * "running" when another holder's lease is live (deliver the message again later: that holder may die);
   * null when it is finished or unknown, so a second delivery of a message runs nothing. Unlike claim, it
   * takes a job even past its attempts, so that its handler can record why it stops.
   */
  claimJob(jobId: string, workerId: string, leaseMs: number): Promise<Job | "running" | null>;
  /** Keeps a long job's lease alive; false when the lease was lost. */
  extendLease(jobId: string, workerId: string, leaseMs: number): Promise<boolean>;
  complete(jobId: string, workerId: string): Promise<boolean>;
  /**
   * Records a failed attempt. Retryable failures with attempts left are queued again after `retryInMs`;
   * otherwise the job ends as failed. Returns what happened.
   */
  fail(
    jobId: string,
    workerId: string,
    error: string,
    retry: { retryable: boolean; retryInMs: number },
  ): Promise<"retrying" | "failed" | "lost">;
  /**
   * Ends as failed the running jobs whose lease ran out on their last attempt (their worker kept dying,
   * nobody is left to report it) and returns them, so that their photos can be told.
   */
  failAbandoned(): Promise<Job[]>;
  /** Puts a job back to run again after `delayMs` without counting an attempt (a poll found nothing yet). */
  postpone(jobId: string, workerId: string, delayMs: number): Promise<boolean>;
  /** The workers holding leases on running jobs. */
  leaseHolders(): Promise<string[]>;
  /**
   * Queues again at once the running jobs a dead worker held (instead of waiting for their leases);
   * returns the photos of the released jobs.
   */
  releaseLeases(workerId: string): Promise<{ kind: JobKind; imageId: string | null }[]>;
  /** The queued and running jobs of one kind (batch polls: a few; not for analyse jobs by the thousand). */
  pendingJobs<K extends JobKind>(kind: K): Promise<Job<K>[]>;
  /** Forgets pending jobs for an image (it was deleted). */
  cancel(imageId: string): Promise<void>;
  /** Jobs per state, of the given kinds (all when omitted). */
  counts(kinds?: readonly JobKind[]): Promise<QueueCounts>;
  close(): Promise<void>;
}
