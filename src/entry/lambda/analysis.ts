import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { runDeliveredJobs } from "../../services/delivered-jobs.js";
import { newWorkerId } from "../../services/worker.js";
import { containerJobHandlers } from "../worker.js";
import { type ContainerSource, lambdaContainer } from "./container.js";

export interface AnalysisHandlerOptions {
  /** Waits between attempts of a failed analysis (tests shorten them). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * SQS messages naming analysis (and other) jobs -> the worker's own job handlers, one message at a time.
 * Only the messages that failed are returned, so one bad photo does not retry its batch-mates.
 */
export function createAnalysisHandler(container: ContainerSource, options: AnalysisHandlerOptions = {}) {
  let ready: ReturnType<typeof prepare> | null = null;
  const prepare = async () => {
    const c = await container();
    return { c, ...(await containerJobHandlers(c, options)), workerId: newWorkerId() };
  };
  return async (
    event: SQSEvent,
    context: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<SQSBatchResponse> => {
    ready ??= prepare().catch((error: unknown) => {
      ready = null;
      throw error;
    });
    const { c, deps, handlers, workerId } = await ready;
    const failed = await runDeliveredJobs(deps, handlers, {
      messages: event.Records.map((r) => ({
        id: r.messageId,
        body: r.body,
        receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1,
      })),
      workerId,
      remainingMs: () => context.getRemainingTimeInMillis(),
      maxReceives: c.config.queue.maxReceives,
    });
    return { batchItemFailures: failed.map((id) => ({ itemIdentifier: id })) };
  };
}

export const handler = createAnalysisHandler(lambdaContainer());
