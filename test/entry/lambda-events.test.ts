import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createdObjects } from "../../src/entry/lambda/s3-events.js";
import { withSecrets } from "../../src/entry/lambda/secrets.js";

// An ObjectCreated record as AWS sends it (trimmed to the fields AWS always sets).
const awsEvent = {
  Records: [
    {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "eu-west-1",
      eventTime: "2026-12-06T19:00:00.000Z",
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:AIDAEXAMPLE" },
      requestParameters: { sourceIPAddress: "203.0.113.9" },
      responseElements: { "x-amz-request-id": "R", "x-amz-id-2": "I" },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "incoming",
        bucket: { name: "drop", ownerIdentity: { principalId: "A" }, arn: "arn:aws:s3:::drop" },
        object: {
          key: "incoming/holiday/IMG+1%C3%A9.jpg",
          size: 1024,
          eTag: "e",
          sequencer: "0055AED6DCD90281E5",
        },
      },
    },
  ],
};

// The same as moto_server sends it: no userIdentity or sequencer, eventTime without Z, "/" as %2F.
const motoEvent = {
  Records: [
    {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2026-12-06T19:00:00.000",
      eventName: "ObjectCreated:Post",
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "incoming",
        bucket: { name: "drop", arn: "arn:aws:s3:::drop" },
        object: { key: "incoming%2Fholiday%2FIMG+1%C3%A9.jpg", size: 1024, eTag: "e" },
      },
    },
  ],
};

describe("S3 event notifications in SQS message bodies", () => {
  it("reads the created objects of AWS's and moto's shapes, keys decoded (+ is a space)", () => {
    const expected = [{ bucket: "drop", key: "incoming/holiday/IMG 1é.jpg" }];
    expect(createdObjects(JSON.stringify(awsEvent))).toEqual(expected);
    expect(createdObjects(JSON.stringify(motoEvent))).toEqual(expected);
  });

  it("ignores the test event and other event types; refuses what is not a notification", () => {
    expect(
      createdObjects(JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "drop" })),
    ).toEqual([]);
    const removed = structuredClone(awsEvent);
    removed.Records[0]!.eventName = "ObjectRemoved:Delete";
    expect(createdObjects(JSON.stringify(removed))).toEqual([]);
    expect(() => createdObjects("not json")).toThrow(/not JSON/);
    expect(() => createdObjects(JSON.stringify({ Records: [{ eventName: 5 }] }))).toThrow(/not an S3 event/);
  });
});

describe("AWS settings", () => {
  it("reads an SQS queue URL with its jobs table, and says what is wrong with a bad one", () => {
    const config = loadConfig({
      PHOTOCAT_QUEUE_URL:
        "sqs://sqs.eu-west-1.amazonaws.com/123456789012/photocat-jobs?jobs=photocat-jobs-state",
      PHOTOCAT_QUEUE_MAX_RECEIVES: "3",
    });
    expect(config.queue).toEqual({
      sqs: {
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/photocat-jobs",
        jobsTable: "photocat-jobs-state",
        region: null,
        endpoint: null,
      },
      maxReceives: 3,
    });
    const local = loadConfig({
      PHOTOCAT_QUEUE_URL: "sqs://x/000000000000/q?jobs=t&endpoint=http://127.0.0.1:5000&region=us-east-1",
    });
    expect(local.queue.sqs).toMatchObject({
      queueUrl: "http://127.0.0.1:5000/000000000000/q",
      region: "us-east-1",
    });
    expect(loadConfig({}).queue).toEqual({ sqs: null, maxReceives: 5 });
    expect(() => loadConfig({ PHOTOCAT_QUEUE_URL: "sqs://host/1/q" })).toThrow(/needs \?jobs=/);
    expect(() => loadConfig({ PHOTOCAT_QUEUE_URL: "amqp://host/q?jobs=t" })).toThrow(/unsupported scheme/);
    expect(() => loadConfig({ PHOTOCAT_QUEUE_URL: "sqs://host/q?jobs=t" })).toThrow(
      /sqs:\/\/host\/account\/queue/,
    );
  });

  it("reads a drop zone with its prefix and, for an emulator, region and endpoint", () => {
    expect(loadConfig({ PHOTOCAT_DROP_ZONE_URL: "s3://drop/photocat/" }).dropZone).toEqual({
      bucket: "drop",
      prefix: "photocat",
      region: null,
      endpoint: null,
    });
    expect(
      loadConfig({
        PHOTOCAT_DROP_ZONE_URL: "s3://drop?region=us-east-1&endpoint=http://127.0.0.1:9",
        AWS_REGION: "x",
      }).dropZone,
    ).toEqual({ bucket: "drop", prefix: "", region: "us-east-1", endpoint: "http://127.0.0.1:9" });
    expect(() => loadConfig({ PHOTOCAT_DROP_ZONE_URL: "gs://drop" })).toThrow(/s3:\/\/bucket/);
  });

  it("refuses a PHOTOCAT_SECRETS that is not a map of settings to secret references", async () => {
    expect(await withSecrets({ A: "1" })).toEqual({ A: "1" });
    await expect(withSecrets({ PHOTOCAT_SECRETS: "{" })).rejects.toThrow(/must be JSON/);
    await expect(withSecrets({ PHOTOCAT_SECRETS: '{"PHOTOCAT_PASSWORD":"vault:x"}' })).rejects.toThrow(
      /secretsmanager:/,
    );
  });
});
