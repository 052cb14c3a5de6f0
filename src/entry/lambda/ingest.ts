import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { ConfigurationError } from "../../domain/errors.js";
import { receiveIncoming } from "../../services/incoming.js";
import { type ContainerSource, lambdaContainer } from "./container.js";
import { createdObjects } from "./s3-events.js";

/**
 * SQS messages whose bodies are S3 event notifications for the drop zone's incoming/ prefix: each new
 * object goes through the ingest service. A message fails alone (batchItemFailures) and only for a fault
 * of ours; a file that is not a photo is a rejection recorded in the drop zone, not a failure.
 */
export function createIngestHandler(container: ContainerSource) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const c = await container();
    const incoming = c.incomingDeps;
    if (!incoming)
      throw new ConfigurationError("PHOTOCAT_DROP_ZONE_URL is not set: the ingest function has no drop zone");
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      try {
        for (const object of createdObjects(record.body)) {
          const key = incoming.dropZone.keyOf(object.bucket, object.key);
          if (key === null) {
            c.logger.warn(
              { bucket: object.bucket, key: object.key },
              "event for an object outside the drop zone",
            );
            continue;
          }
          await receiveIncoming(incoming, c.ingestLimits, key);
        }
      } catch (error) {
        c.logger.error({ err: error, messageId: record.messageId }, "could not take an incoming file");
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

export const handler = createIngestHandler(lambdaContainer());
