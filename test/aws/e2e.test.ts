import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTableInput } from "../../src/adapters/dynamodb/index.js";
import { createJobsTable } from "../../src/adapters/queue/sqs.js";
import type { ImageJson } from "../../src/api/present.js";
import { createAnalysisHandler } from "../../src/entry/lambda/analysis.js";
import { createApiHandler } from "../../src/entry/lambda/api.js";
import { lambdaContainer } from "../../src/entry/lambda/container.js";
import { createIngestHandler } from "../../src/entry/lambda/ingest.js";
import { awsError, converseToolUse } from "../analysers/providers/bedrock-wire.js";
import {
  type FakeReply,
  type FakeServer,
  startFakeServer,
  validAnswer,
} from "../analysers/shared/fixtures.js";
import { type Moto, motoMissing, startMoto } from "../support/moto.js";

/**
 * The AWS edition end to end, offline: moto_server plays S3 (with its event notifications to SQS), SQS
 * (with dead-letter queues) and DynamoDB (the catalogue and the jobs' state); a local server answers Bedrock's Converse API
 * in its wire format. This file plays Lambda itself: it receives from the queues as the SQS event source
 * does (batches, partial batch failures, redrive after maxReceiveCount) and calls the three handlers with
 * Lambda-shaped events, the API with API Gateway v2 events.
 */
const missing = motoMissing();
if (missing) console.warn(`[skip] ${missing}`);

const BUCKET = "photocat-e2e";
const TOKEN = "e2e-token-0123456789abcdef";
/**
 * The analysis queue's redrive maxReceiveCount and the function's time limit for the photo that never
 * finishes, short for a test; the visibility timeout outlasts the limit (AWS asks for 6x), so a stopped
 * job's lease has run out when its message comes back.
 */
const MAX_RECEIVES = 2;
const FUNCTION_LIMIT_MS = 2_000;
const ANALYSIS_VISIBILITY_S = 5;

/** A JSON answer, read loosely: the API's own tests check its shapes. */
// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a script would.
type Answer = Record<string, any>;

interface Step {
  at: number;
  ms: number;
  what: string;
}

describe.skipIf(missing !== null)("AWS serverless edition end to end (moto_server)", () => {
  let moto: Moto;
  let bedrock: FakeServer;
  /** How the fake Bedrock answers now: described, throttled (429), or never in time. */
  let bedrockMode: "answer" | "throttle" | "hang" = "answer";
  let s3: S3Client;
  let sqs: SQSClient;
  let dir: string;
  const queues: Record<"ingest" | "ingestDlq" | "analysis" | "analysisDlq", { url: string; arn: string }> =
    {} as never;
  let ingest: ReturnType<typeof createIngestHandler>;
  let analysis: ReturnType<typeof createAnalysisHandler>;
  let api: ReturnType<typeof createApiHandler>;
  const journey: Step[] = [];
  const started = performance.now();

  /** Runs one step of the journey and keeps its time for the printout. */
  async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
    const at = performance.now();
    const result = await run();
    journey.push({ at: at - started, ms: performance.now() - at, what });
    return result;
  }

  /** Adds what a step found to its line in the printout. */
  function note(text: string): void {
    const last = journey.at(-1);
    if (last) last.what += `: ${text}`;
  }
  const summary = (deliveries: Delivery[]) =>
    `batches ${deliveries.length}, messages ${deliveries.reduce((n, d) => n + d.received, 0)}, failed ${deliveries.reduce((n, d) => n + d.failed, 0)}`;

  beforeAll(async () => {
    moto = await startMoto();
    bedrock = await startFakeServer(
      (): FakeReply => {
        if (bedrockMode === "throttle")
          return awsError(429, "ThrottlingException", "Too many requests, please wait");
        if (bedrockMode === "hang") return { ...converseToolUse(validAnswer()), delayMs: 60_000 };
        return converseToolUse(validAnswer({ summary: "A red circle and a blue rectangle on a gradient." }));
      },
      { http2: true },
    );
    dir = mkdtempSync(path.join(tmpdir(), "photocat-aws-e2e-"));
    const aws = { region: "us-east-1", endpoint: moto.endpoint };
    s3 = new S3Client({ ...aws, forcePathStyle: true });
    sqs = new SQSClient(aws);

    const queue = async (name: string, attributes: Record<string, string> = {}) => {
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
      );
      return { url: QueueUrl!, arn: Attributes!.QueueArn! };
    };
    queues.ingestDlq = await queue("ingest-dlq");
    queues.ingest = await queue("ingest", {
      VisibilityTimeout: "30",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queues.ingestDlq.arn, maxReceiveCount: 3 }),
    });
    queues.analysisDlq = await queue("analysis-dlq");
    queues.analysis = await queue("analysis", {
      VisibilityTimeout: String(ANALYSIS_VISIBILITY_S),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: queues.analysisDlq.arn,
        maxReceiveCount: MAX_RECEIVES,
      }),
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: BUCKET,
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              QueueArn: queues.ingest.arn,
              Events: ["s3:ObjectCreated:*"],
              Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "incoming/" }] } },
            },
          ],
        },
      }),
    );
    await createJobsTable({ ...aws, tableName: "photocat-jobs" });
    const dynamodb = new DynamoDBClient(aws);
    await dynamodb.send(new CreateTableCommand(createTableInput("photocat-catalogue")));
    dynamodb.destroy();
    // The API function's token and password come from Secrets Manager and SSM, never its environment.
    const secrets = new SecretsManagerClient(aws);
    await secrets.send(new CreateSecretCommand({ Name: "photocat/api-tokens", SecretString: TOKEN }));
    secrets.destroy();
    const ssm = new SSMClient(aws);
    await ssm.send(
      new PutParameterCommand({
        Name: "/photocat/password",
        Value: "a long e2e password",
        Type: "SecureString",
      }),
    );
    ssm.destroy();
    vi.stubEnv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint);
    vi.stubEnv("AWS_ENDPOINT_URL_SSM", moto.endpoint);

    const queuePath = new URL(queues.analysis.url).pathname;
    const env = {
      ...process.env,
      ...moto.env,
      PHOTOCAT_DATA_DIR: dir,
      PHOTOCAT_DATABASE_URL: `dynamodb://photocat-catalogue?region=us-east-1&endpoint=${moto.endpoint}`,
      PHOTOCAT_STORAGE_URL: `s3://${BUCKET}/library`,
      PHOTOCAT_DROP_ZONE_URL: `s3://${BUCKET}`,
      PHOTOCAT_QUEUE_URL: `sqs://sqs.us-east-1.amazonaws.com${queuePath}?jobs=photocat-jobs&endpoint=${moto.endpoint}&region=us-east-1`,
      PHOTOCAT_QUEUE_MAX_RECEIVES: String(MAX_RECEIVES),
      PHOTOCAT_ANALYSER: "bedrock",
      // As deploy/aws/stack.ts sets it: search by meaning is not part of the AWS edition yet.
      PHOTOCAT_EMBEDDINGS: "off",
      PHOTOCAT_MAX_RETRIES: "1",
      PHOTOCAT_TIMEOUT_MS: "10000",
      PHOTOCAT_LOG_LEVEL: "silent",
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
    };
    // Three functions, three containers, as Lambda runs them; they share the catalogue and the stores.
    ingest = createIngestHandler(lambdaContainer(env));
    analysis = createAnalysisHandler(lambdaContainer(env), { baseBackoffMs: 100, maxBackoffMs: 200 });
    api = createApiHandler(
      lambdaContainer({
        ...env,
        PHOTOCAT_SECRETS: JSON.stringify({
          PHOTOCAT_API_TOKENS: "secretsmanager:photocat/api-tokens",
          PHOTOCAT_PASSWORD: "ssm:/photocat/password",
        }),
      }),
    );
  }, 60_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    const lines = journey.map(
      (s) =>
        `${(s.at / 1000).toFixed(2).padStart(6)} s ${Math.round(s.ms).toString().padStart(6)} ms  ${s.what}`,
    );
    if (lines.length > 0)
      console.log(`\nThe journey (moto_server, Lambda played by this test):\n${lines.join("\n")}\n`);
    await bedrock?.close();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // ---- Lambda's SQS event source, played here ----------------------------------------------------

  interface Delivery {
    received: number;
    failed: number;
    bodies: string[];
  }

  /** One poll of a queue as the event source does it: a batch, the handler, deletes of what succeeded. */
  async function deliver(
    name: "ingest" | "analysis",
    handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
    options: { waitS?: number; duplicate?: boolean } = {},
  ): Promise<Delivery> {
    const { url, arn } = queues[name];
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: options.waitS ?? 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return { received: 0, failed: 0, bodies: [] };
    const records = messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: "AIDAEXAMPLE",
        ApproximateFirstReceiveTimestamp:
          m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: arn,
      awsRegion: "us-east-1",
    }));
    // At-least-once delivery: the same message handed over twice in one batch.
    const event: SQSEvent = { Records: options.duplicate ? [...records, ...records] : records };
    const result = await handler(event);
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    return { received: event.Records.length, failed: failed.size, bodies: records.map((r) => r.body) };
  }

  const lambdaContext = (limitMs: number) => {
    const deadline = Date.now() + limitMs;
    return { getRemainingTimeInMillis: () => deadline - Date.now() };
  };
  const runIngest = (event: SQSEvent) => ingest(event);
  const runAnalysis = (event: SQSEvent) => analysis(event, lambdaContext(60_000));
  /** The analysis function with a short time limit, for the photo that never finishes. */
  const runShortAnalysis = (event: SQSEvent) => analysis(event, lambdaContext(FUNCTION_LIMIT_MS));

  /** Polls until `done` says so (or fails after `timeoutMs`); returns every delivery made. */
  async function drain(
    name: "ingest" | "analysis",
    handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
    done: () => Promise<boolean>,
    timeoutMs = 30_000,
  ): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${name}: not done after ${timeoutMs} ms`);
      const d = await deliver(name, handler);
      if (d.received > 0) deliveries.push(d);
    }
    return deliveries;
  }

  async function approximateCount(name: keyof typeof queues): Promise<number> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues[name].url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  // ---- API Gateway HTTP API (payload 2.0), played here -------------------------------------------

  async function call(
    method: string,
    pathAndQuery: string,
    body?: unknown,
  ): Promise<{
    status: number;
    json: Answer;
    headers: Record<string, string>;
    body: string;
    base64: boolean;
  }> {
    const [rawPath = "/", rawQueryString = ""] = pathAndQuery.split("?");
    const headers: Record<string, string> = {
      host: "abc123.execute-api.us-east-1.amazonaws.com",
      authorization: `Bearer ${TOKEN}`,
      "user-agent": "photocat-e2e",
      "x-forwarded-proto": "https",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    };
    const now = new Date();
    const result = await api({
      version: "2.0",
      routeKey: "$default",
      rawPath,
      rawQueryString,
      headers,
      ...(rawQueryString
        ? { queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)) }
        : {}),
      requestContext: {
        accountId: "123456789012",
        apiId: "abc123",
        domainName: headers.host!,
        domainPrefix: "abc123",
        http: {
          method,
          path: rawPath,
          protocol: "HTTP/1.1",
          sourceIp: "203.0.113.7",
          userAgent: "photocat-e2e",
        },
        requestId: randomUUID(),
        routeKey: "$default",
        stage: "$default",
        time: now.toISOString(),
        timeEpoch: now.getTime(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
    } as never);
    const text = result.isBase64Encoded ? "" : result.body;
    let json: Answer = {};
    try {
      json = JSON.parse(text) as Answer;
    } catch {
      // Not JSON (a thumbnail).
    }
    return {
      status: result.statusCode,
      json,
      headers: result.headers as Record<string, string>,
      body: result.body,
      base64: Boolean(result.isBase64Encoded),
    };
  }

  const photo = (colour: string, size = 640) =>
    sharp({ create: { width: size, height: Math.round(size * 0.75), channels: 3, background: colour } })
      .composite([
        {
          input: Buffer.from(
            `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${Math.round(size * 0.75)}"><circle cx="200" cy="200" r="120" fill="#c22"/><rect x="330" y="120" width="200" height="240" fill="#229"/></svg>`,
          ),
          top: 0,
          left: 0,
        },
      ])
      .jpeg({ quality: 85 })
      .withExif({ IFD0: { Make: "TestCam", Model: "E2E" } })
      .toBuffer();

  const put = (key: string, body: Buffer, metadata: Record<string, string> = {}) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));

  async function keys(prefix: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!).sort();
  }

  async function images(query = ""): Promise<ImageJson[]> {
    const res = await call("GET", `/api/images${query ? `?${query}` : ""}`);
    expect(res.status).toBe(200);
    return res.json.items as ImageJson[];
  }

  const ids: Record<string, string> = {};

  // ---- The journey --------------------------------------------------------------------------------

  it("ingests photos dropped into incoming/ and uploaded with a presigned POST; rejects a corrupt file with a record", async () => {
    await step("put 2 photos and 1 corrupt file in incoming/ (S3 PutObject)", async () => {
      await put("incoming/holiday/beach day.jpg", await photo("#2a6"));
      await put("incoming/garden.jpg", await photo("#fa3"));
      await put(
        "incoming/broken.jpg",
        Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]),
      );
    });

    const upload = await step("POST /api/uploads (presigned POST form)", async () => {
      const res = await call("POST", "/api/uploads", {
        name: "portrait.jpg",
        content_type: "image/jpeg",
        size: 60_000,
      });
      expect(res.status).toBe(201);
      return res.json as { id: string; url: string; fields: Record<string, string> };
    });
    expect(upload.fields.key).toBe(`incoming/${upload.id}`);
    const policy = JSON.parse(Buffer.from(upload.fields.Policy!, "base64").toString("utf8")) as {
      conditions: unknown[];
    };
    expect(policy.conditions).toContainEqual(["content-length-range", 1, 50 * 1024 * 1024]);
    expect(policy.conditions).toContainEqual(["eq", "$Content-Type", "image/jpeg"]);
    const tooBig = await call("POST", "/api/uploads", {
      name: "x.jpg",
      content_type: "image/jpeg",
      size: 51 * 1024 * 1024,
    });
    expect(tooBig.status).toBe(413);
    const notImage = await call("POST", "/api/uploads", {
      name: "x.pdf",
      content_type: "application/pdf",
      size: 10,
    });
    expect(notImage.status).toBe(415);

    await step("browser posts the file to S3 with the form", async () => {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append("file", new Blob([await photo("#48c")], { type: "image/jpeg" }), "portrait.jpg");
      const res = await fetch(`${moto.endpoint}/${BUCKET}`, { method: "POST", body: form });
      expect(res.status).toBeLessThan(300);
    });
    expect((await call("GET", `/api/uploads/${upload.id}`)).json.state).toMatch(/waiting|processing/);

    const deliveries = await step("ingest function: S3 events from the ingest queue", () =>
      drain("ingest", runIngest, async () => (await keys("incoming/")).length === 0),
    );
    expect(deliveries.reduce((n, d) => n + d.failed, 0)).toBe(0);

    const stored = await images();
    note(`${summary(deliveries)}; ${stored.length} stored, ${(await keys("rejected/")).length / 2} rejected`);
    expect(stored.map((i) => i.original_name).sort()).toEqual([
      "beach day.jpg",
      "garden.jpg",
      "portrait.jpg",
    ]);
    for (const image of stored) ids[image.original_name] = image.id;
    const status = await call("GET", `/api/uploads/${upload.id}`);
    expect(status.json).toMatchObject({ state: "stored", image_id: ids["portrait.jpg"], duplicate: false });

    // The corrupt file: a record with its reason, the file kept aside, nothing in the catalogue or library.
    expect(await keys("rejected/")).toEqual(["rejected/broken.jpg", "rejected/broken.jpg.json"]);
    const rejections = await call("GET", "/api/rejections");
    expect(rejections.json.items).toMatchObject([{ key: "incoming/broken.jpg", name: "broken.jpg" }]);
    expect(rejections.json.items[0].error.code).toMatch(/corrupt_image|unsupported_media_type/);
    expect((await keys("library/originals/")).length).toBe(3);
    expect(await keys("incoming/")).toEqual([]);
  }, 90_000);

  it("stores one photo when S3 delivers the same event twice, and when the same bytes arrive again", async () => {
    const bytes = await photo("#e5c");
    await put("incoming/twice.jpg", bytes);
    const [delivery] = await step("ingest function: one event delivered twice in a batch", async () => [
      await deliver("ingest", runIngest, { duplicate: true }),
    ]);
    expect(delivery!.received).toBe(2);
    expect(delivery!.failed).toBe(0);
    note(`${(await images()).filter((i) => i.original_name === "twice.jpg").length} photo`);
    await put("incoming/copy of twice.jpg", bytes);
    await step("ingest function: the same bytes under another name", () =>
      drain("ingest", runIngest, async () => (await keys("incoming/")).length === 0),
    );
    // The first delivery's event, once more, long after: nothing to do.
    await runIngest({
      Records: [
        { messageId: "late", body: delivery!.bodies[0]!, attributes: { ApproximateReceiveCount: "1" } },
      ],
    } as never);
    const all = await images();
    expect(all.filter((i) => i.original_name === "twice.jpg")).toHaveLength(1);
    expect(all).toHaveLength(4);
    expect((await keys("library/originals/")).length).toBe(4);
  }, 60_000);

  it("analyses each photo once through the analysis queue, even when a message is delivered twice", async () => {
    const before = bedrock.requests.length;
    const deliveries = await step("analysis function: 4 jobs, each message delivered twice", async () => {
      const all: Delivery[] = [];
      for (;;) {
        const d = await deliver("analysis", runAnalysis, { duplicate: true });
        if (d.received === 0 && (await images("status=done")).length === 4) break;
        if (d.received > 0) all.push(d);
      }
      return all;
    });
    note(`${summary(deliveries)}; ${bedrock.requests.length - before} Bedrock calls`);
    expect(deliveries.reduce((n, d) => n + d.failed, 0)).toBe(0);
    expect(bedrock.requests.length - before).toBe(4); // Paid once per photo.
    const done = await images("status=done");
    expect(done.every((i) => i.analysis?.provider === "bedrock")).toBe(true);
  }, 60_000);

  it("retries a throttled photo with backoff, then shows it failed with the reason (and retryable)", async () => {
    await put("incoming/throttled.jpg", await photo("#c93"));
    await drain("ingest", runIngest, async () => (await keys("incoming/")).length === 0);
    const id = (await images()).find((i) => i.original_name === "throttled.jpg")!.id;
    ids.throttled = id;
    bedrockMode = "throttle";
    const before = bedrock.requests.length;
    await step("analysis function: Bedrock throttles every call", () =>
      drain(
        "analysis",
        runAnalysis,
        async () => (await call("GET", `/api/images/${id}`)).json.status === "failed",
      ),
    );
    const failed = (await call("GET", `/api/images/${id}`)).json;
    note(
      `${bedrock.requests.length - before} Bedrock calls, photo ${failed.status}: "${String(failed.error).slice(0, 60)}"`,
    );
    expect(failed.error).toMatch(/throttl|too many|rate/i);
    // 5 attempts of the job, each with one retry of the call inside the analyser.
    expect(bedrock.requests.length - before).toBe(10);

    bedrockMode = "answer";
    const retry = await call("POST", `/api/images/${id}/reanalyse`);
    expect(retry.status).toBeLessThan(300);
    await step("analysis function: retried by the gallery, answered", () =>
      drain(
        "analysis",
        runAnalysis,
        async () => (await call("GET", `/api/images/${id}`)).json.status === "done",
      ),
    );
  }, 90_000);

  it("sends a message that never finishes to the dead-letter queue after maxReceiveCount, the photo failed", async () => {
    await put("incoming/poison.jpg", await photo("#333"));
    await drain("ingest", runIngest, async () => (await keys("incoming/")).length === 0);
    const id = (await images()).find((i) => i.original_name === "poison.jpg")!.id;
    bedrockMode = "hang";
    const deliveries = await step(
      `analysis function: Bedrock never answers (limit ${FUNCTION_LIMIT_MS} ms, maxReceiveCount ${MAX_RECEIVES})`,
      () =>
        drain(
          "analysis",
          runShortAnalysis,
          async () => (await approximateCount("analysisDlq")) === 1,
          40_000,
        ),
    );
    bedrockMode = "answer";
    const image = (await call("GET", `/api/images/${id}`)).json;
    note(
      `${summary(deliveries)}, 1 in the DLQ; photo ${image.status}: "${String(image.error).slice(0, 50)}…"`,
    );
    expect(deliveries.map((d) => d.failed)).toEqual([1, 1]);
    expect(image.status).toBe("failed");
    expect(image.error).toMatch(
      /stopped after 2 deliveries: it did not finish within the function's time limit/,
    );
    expect(await approximateCount("analysis")).toBe(0);
  }, 90_000);

  it("lists, searches, edits and serves thumbnails through the API function", async () => {
    const page = await step("GET /api/images?limit=2 (newest first, cursor)", () =>
      call("GET", "/api/images?limit=2"),
    );
    expect(page.status).toBe(200);
    expect(page.json.items).toHaveLength(2);
    note(`${page.status}, 2 items and a cursor`);
    expect(page.json.next_cursor).toBeTruthy();

    const found = await step("GET /api/images?q=circle (search)", () => call("GET", "/api/images?q=circle"));
    expect(found.json.items.length).toBeGreaterThanOrEqual(4);
    note(`${found.json.items.length} found`);

    const id = ids["garden.jpg"]!;
    const edited = await step("PATCH /api/images/{id} (human edit)", () =>
      call("PATCH", `/api/images/${id}`, {
        summary: "Our garden in the evening light.",
        tags: ["garden", "evening"],
      }),
    );
    expect(edited.status).toBe(200);
    expect(edited.json.summary).toBe("Our garden in the evening light.");
    const byEdit = await call("GET", "/api/images?q=evening");
    expect(byEdit.json.items.map((i: { id: string }) => i.id)).toEqual([id]);

    const thumbnail = await step("GET /api/images/{id}/thumbnails/small", () =>
      call("GET", `/api/images/${id}/thumbnails/small`),
    );
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers["content-type"]).toBe("image/webp");
    expect(thumbnail.base64).toBe(true);
    note(
      `${thumbnail.status} ${thumbnail.headers["content-type"]}, ${Buffer.from(thumbnail.body, "base64").length} bytes`,
    );
    const meta = await sharp(Buffer.from(thumbnail.body, "base64")).metadata();
    expect(meta.format).toBe("webp");

    const anonymous = await api({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/api/images",
      rawQueryString: "",
      headers: { host: "abc123.execute-api.us-east-1.amazonaws.com" },
      requestContext: { http: { method: "GET", path: "/api/images", sourceIp: "203.0.113.8" } },
      isBase64Encoded: false,
    } as never);
    expect(anonymous.statusCode).toBe(401);
  }, 60_000);
});
