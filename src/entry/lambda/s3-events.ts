import { z } from "zod";

/**
 * Only what we use of an S3 event notification: AWS's full schema is not required, as S3-compatible
 * servers and emulators send slightly different shapes (no sequencer, eventTime without `Z`).
 */
const S3Notification = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }),
      }),
    )
    .optional(),
  /** S3 sends `s3:TestEvent` once when the notification is configured. */
  Event: z.string().optional(),
});

export interface CreatedObject {
  bucket: string;
  key: string;
}

/**
 * The objects an SQS message body reports as created. Keys in S3 events are URL-encoded with `+` for
 * spaces. Throws on a body that is not an S3 notification, so that the message ends in the dead-letter
 * queue where someone sees it.
 */
export function createdObjects(body: string): CreatedObject[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error("the message is not JSON, so not an S3 event notification");
  }
  const parsed = S3Notification.safeParse(json);
  if (!parsed.success)
    throw new Error(`the message is not an S3 event notification: ${parsed.error.message}`);
  if (parsed.data.Event === "s3:TestEvent") return [];
  return (parsed.data.Records ?? [])
    .filter((r) => r.eventName.startsWith("ObjectCreated:"))
    .map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, " ")),
    }));
}
