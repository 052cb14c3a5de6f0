export type JobState = "queued" | "running" | "done" | "failed";

export interface Job {
  id: string;
  imageId: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
}

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
 * A durable queue of analysis jobs. A claimed job carries a lease: if its worker dies, the lease runs out
 * and another worker claims the job again. Completing or failing checks the lease holder, so a worker
 * that lost its lease cannot overwrite the newer holder's outcome.
 */
export interface JobQueue {
  readonly kind: string;
  /** Queues analysis of an image; a no-op when a queued or running job for it exists. */
  enqueue(imageId: string, options?: EnqueueOptions): Promise<void>;
  /** Takes the next due job, or null. */
  claim(workerId: string, leaseMs: number): Promise<Job | null>;
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
  /** Forgets pending jobs for an image (it was deleted). */
  cancel(imageId: string): Promise<void>;
  counts(): Promise<QueueCounts>;
  close(): Promise<void>;
}
