import { errorMessage } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Catalog } from "../ports/catalog.js";
import { type Job, JobMessage, type JobQueue } from "../ports/job-queue.js";
import { recordFailedAttempt } from "./analysis-status.js";
import type { JobHandler, JobHandlers } from "./worker.js";

export interface DeliveredMessage {
  id: string;
  body: string;
  /** How many times the queue has delivered it, this time included. */
  receiveCount: number;
}

export interface DeliveryOptions {
  messages: readonly DeliveredMessage[];
  workerId: string;
  /** Time left before the function is stopped. */
  remainingMs: () => number;
  /** Deliveries before the queue moves a message to its dead-letter queue (its redrive maxReceiveCount). */
  maxReceives: number;
}

/** Time kept back before the function's limit to record outcomes and answer. */
export function safetyMarginMs(remainingMs: number): number {
  return Math.min(10_000, Math.round(remainingMs * 0.2));
}

/**
 * Runs the jobs a queue delivered to a function (Lambda's SQS event source), one message at a time, with
 * the worker's own handlers, and returns the ids of the messages to deliver again. A message is redelivered
 * only for a fault of ours (a handler that threw, a job still running at the function's time limit); the
 * job's own failures (a photo that cannot be described, a throttled provider) are recorded by its handler,
 * which queues the retries. A message delivered after its job finished runs nothing; one delivered while its
 * job runs elsewhere comes back later, in case that run dies.
 * On its last delivery a failing message's job is ended as failed with the reason, so its photo says why,
 * and the queue moves the message to its dead-letter queue.
 */
export async function runDeliveredJobs(
  deps: { queue: JobQueue; catalog: Catalog; logger: Logger },
  handlers: JobHandlers,
  options: DeliveryOptions,
): Promise<string[]> {
  const failed: string[] = [];
  const leaseMs = Math.max(1_000, options.remainingMs());
  for (const message of options.messages) {
    const log = deps.logger.child({ messageId: message.id, receiveCount: message.receiveCount });
    const parsed = parseMessage(message.body);
    if (!parsed) {
      log.error(
        { body: message.body.slice(0, 200) },
        "a queue message that names no job; it goes to the dead-letter queue",
      );
      failed.push(message.id);
      continue;
    }
    const timeLeft = options.remainingMs() - safetyMarginMs(leaseMs);
    if (timeLeft <= 0) {
      failed.push(message.id); // Not started: delivered again.
      continue;
    }
    const job = await deps.queue.claimJob(parsed.jobId, options.workerId, leaseMs);
    if (job === "running") {
      // Another delivery runs it now; should that one die, this message brings the job back.
      log.info({ jobId: parsed.jobId }, "the job is running elsewhere; its message comes back later");
      failed.push(message.id);
      continue;
    }
    if (!job) {
      log.info({ jobId: parsed.jobId }, "the job is finished; nothing to do");
      continue;
    }
    const handler = handlers[job.kind] as JobHandler<typeof job.kind> | undefined;
    const stop = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      handler
        ? handler(job as never, { workerId: options.workerId, leaseMs, signal: stop.signal }).then(
            () => null,
            (error: unknown) => errorMessage(error),
          )
        : Promise.resolve(`this function has no handler for ${job.kind} jobs`),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("it did not finish within the function's time limit"), timeLeft);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === null) continue;
    // Left as a killed process leaves it: its lease runs out before the queue delivers the message again.
    stop.abort(new Error(outcome));
    failed.push(message.id);
    if (message.receiveCount < options.maxReceives) {
      log.warn({ jobId: job.id, reason: outcome }, "job not finished; its message will be delivered again");
      continue;
    }
    const reason = `stopped after ${message.receiveCount} deliveries: ${outcome}`;
    log.error(
      { jobId: job.id, reason },
      "job failed on its last delivery; its message goes to the dead-letter queue",
    );
    await endAsFailed(deps, job, options.workerId, reason).catch((error: unknown) =>
      log.error({ err: error, jobId: job.id }, "could not record the job as failed"),
    );
  }
  return failed;
}

function parseMessage(body: string): JobMessage | null {
  try {
    const parsed = JobMessage.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function endAsFailed(
  deps: { queue: JobQueue; catalog: Catalog },
  job: Job,
  workerId: string,
  reason: string,
): Promise<void> {
  const retry = { retryable: false, retryInMs: 0 };
  if (job.kind === "analyse") await recordFailedAttempt(deps, job, workerId, reason, retry);
  else await deps.queue.fail(job.id, workerId, reason, retry);
}
