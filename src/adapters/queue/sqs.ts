import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ConfigurationError, PhotocatError } from "../../domain/errors.js";
import {
  ALL_JOB_KINDS,
  type EnqueueOptions,
  JOB_KINDS,
  type Job,
  type JobKind,
  type JobMessage,
  type JobPayload,
  type JobQueue,
  type JobState,
  type QueueCounts,
} from "../../ports/job-queue.js";
import { checkKinds, checkMs } from "./arguments.js";

/**
 * A job queue on Amazon SQS, with each job's state in a DynamoDB table.
 *
 * SQS delivers: every job that becomes due (queued, retried, postponed, released) is sent as a message
 * naming it, with SQS's delay (whole seconds, at most 15 minutes), and Lambda's event source hands the
 * messages to a function, which takes each job with `claimJob`. The table decides: a job runs only when
 * its conditional update to "running" succeeds, so a message delivered twice runs its job once, and the
 * port's leases, attempts, dedupe and counts (which SQS cannot give: its leases are whole seconds and its
 * counts approximate) live there. `claim` (a worker process polling, as on the other queues) reads due
 * jobs from the table's state index; the messages of jobs it ran are then found finished by any function
 * that receives them.
 *
 * The table (JOBS_TABLE below): `pk` as hash key; index `byState` (stateKey = the state, stateTime =
 * zero-padded due, lease or end time + id; state = queued, running, done or failed) for claims, counts and lease holders without a Scan; index
 * `byImage` (pendingImage, set only while a job is pending) for cancel. Dedupe keys are items of their own
 * (`dedupe#<key>`), written in the same transaction as the job they hold.
 */
export interface SqsJobQueueOptions {
  queueUrl: string;
  jobsTable: string;
  region?: string | null;
  /** An emulator (moto) serving both SQS and DynamoDB. */
  endpoint?: string | null;
  /** Whether a photo exists: jobs about a photo are refused for one that does not (not_found). */
  imageExists: (imageId: string) => Promise<boolean>;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_ERROR_CHARS = 2000;
/** SQS's longest message delay. */
const MAX_DELAY_S = 900;

/**
 * The jobs table, described once for the stack (deploy/aws) and the tests: a hash key and two indexes;
 * on-demand billing.
 */
export const JOBS_TABLE = {
  partitionKey: { name: "pk", type: "S" },
  globalSecondaryIndexes: [
    {
      indexName: "byState",
      partitionKey: { name: "stateKey", type: "S" },
      sortKey: { name: "stateTime", type: "S" },
      projection: "ALL",
    },
    { indexName: "byImage", partitionKey: { name: "pendingImage", type: "S" }, projection: "KEYS_ONLY" },
  ],
} as const;

/** Creates the jobs table (tests, emulators); the AWS stack declares it from JOBS_TABLE. */
export async function createJobsTable(options: { tableName: string; region?: string; endpoint?: string }) {
  const dynamodb = await import("@aws-sdk/client-dynamodb");
  const client = new dynamodb.DynamoDBClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const keys: { name: string; type: "S" }[] = [JOBS_TABLE.partitionKey];
  for (const index of JOBS_TABLE.globalSecondaryIndexes) {
    keys.push(index.partitionKey, ...("sortKey" in index ? [index.sortKey] : []));
  }
  try {
    await client.send(
      new dynamodb.CreateTableCommand({
        TableName: options.tableName,
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: [{ AttributeName: JOBS_TABLE.partitionKey.name, KeyType: "HASH" }],
        GlobalSecondaryIndexes: JOBS_TABLE.globalSecondaryIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey.name, KeyType: "HASH" },
            ...("sortKey" in index ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" as const }] : []),
          ],
          Projection: { ProjectionType: index.projection },
        })),
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } finally {
    client.destroy();
  }
}

interface JobItem {
  pk: string;
  id: string;
  kind: JobKind;
  payload: string;
  imageId?: string;
  dedupeKey: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError?: string;
  holder?: string;
  leaseUntil?: number;
  dueAt: number;
  stateKey: string;
  stateTime: string;
  pendingImage?: string;
}

const jobPk = (id: string) => `job#${id}`;
const dedupePk = (key: string) => `dedupe#${key}`;
const stateTime = (ms: number, id: string) =>
  `${String(Math.max(0, Math.round(ms))).padStart(15, "0")}#${id}`;
/** Sorts after every stateTime of the given millisecond. */
const upTo = (ms: number) => `${String(Math.round(ms)).padStart(15, "0")}#~`;

function toJob(item: JobItem): Job {
  return {
    id: item.id,
    kind: item.kind,
    payload: JOB_KINDS[item.kind].payload.parse(JSON.parse(item.payload)),
    imageId: item.imageId ?? null,
    state: item.state,
    attempts: Number(item.attempts),
    maxAttempts: Number(item.maxAttempts),
    lastError: item.lastError ?? null,
  } as Job;
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === "ConditionalCheckFailedException" || name === "TransactionCanceledException";
}

export function createSqsJobQueue(options: SqsJobQueueOptions): JobQueue {
  for (const name of ["queueUrl", "jobsTable", "imageExists"] as const) {
    if (!options?.[name]) throw new ConfigurationError(`[queue:sqs] missing option ${name}`);
  }
  const TableName = options.jobsTable;
  const client = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
  let loaded: Promise<{
    sqs: typeof import("@aws-sdk/client-sqs");
    ddb: typeof import("@aws-sdk/lib-dynamodb");
    sqsClient: SQSClient;
    raw: DynamoDBClient;
    doc: DynamoDBDocumentClient;
  }> | null = null;
  const sdk = () => {
    loaded ??= Promise.all([
      import("@aws-sdk/client-sqs"),
      import("@aws-sdk/client-dynamodb"),
      import("@aws-sdk/lib-dynamodb"),
    ]).then(async ([sqs, dynamodb, ddb]) => {
      const raw = new dynamodb.DynamoDBClient(client);
      // An emulator (local runs, tests) gets its table made; on AWS the stack makes it.
      if (options.endpoint) {
        const exists = await raw.send(new dynamodb.DescribeTableCommand({ TableName })).then(
          () => true,
          (error: { name?: string }) => {
            if (error.name === "ResourceNotFoundException") return false;
            throw error;
          },
        );
        if (!exists) {
          await createJobsTable({ tableName: TableName, ...client }).catch((error: { name?: string }) => {
            if (error.name !== "ResourceInUseException") throw error;
          });
        }
      }
      return {
        sqs,
        ddb,
        sqsClient: new sqs.SQSClient(client),
        raw,
        doc: ddb.DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }),
      };
    });
    loaded.catch(() => {
      loaded = null; // The next call tries again.
    });
    return loaded;
  };

  async function send(job: { id: string; kind: JobKind }, delayMs: number): Promise<void> {
    const { sqs, sqsClient } = await sdk();
    const body: JobMessage = { jobId: job.id, kind: job.kind };
    await sqsClient.send(
      new sqs.SendMessageCommand({
        QueueUrl: options.queueUrl,
        MessageBody: JSON.stringify(body),
        DelaySeconds: Math.min(MAX_DELAY_S, Math.round(delayMs / 1000)),
      }),
    );
  }

  async function load(id: string): Promise<JobItem | null> {
    const { ddb, doc } = await sdk();
    const out = await doc.send(
      new ddb.GetCommand({ TableName, Key: { pk: jobPk(id) }, ConsistentRead: true }),
    );
    return (out.Item as JobItem | undefined) ?? null;
  }

  /** A filter keeping the given kinds, or none when they are all the kinds. */
  function kindFilter(kinds: readonly JobKind[]) {
    if (kinds.length === ALL_JOB_KINDS.length) return {};
    return {
      FilterExpression: `#kind IN (${kinds.map((_, i) => `:kind${i}`).join(", ")})`,
      values: Object.fromEntries(kinds.map((k, i) => [`:kind${i}`, k])),
    };
  }

  /**
   * The jobs in one state, oldest first (due, lease or end time), up to `until` (ms) when given; with
   * `enough`, stops after the page that reached it.
   */
  async function* inState(
    state: JobState,
    options: { kinds?: readonly JobKind[]; until?: number; enough?: number } = {},
  ) {
    const { ddb, doc } = await sdk();
    const filter = kindFilter(options.kinds ?? ALL_JOB_KINDS);
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    let found = 0;
    do {
      const out = await doc.send(
        new ddb.QueryCommand({
          TableName,
          IndexName: "byState",
          KeyConditionExpression:
            options.until === undefined ? "stateKey = :k" : "stateKey = :k AND stateTime <= :t",
          ...(filter.FilterExpression
            ? { FilterExpression: filter.FilterExpression, ExpressionAttributeNames: { "#kind": "kind" } }
            : {}),
          ExpressionAttributeValues: {
            ":k": state,
            ...(options.until === undefined ? {} : { ":t": upTo(options.until) }),
            ...filter.values,
          },
          ExclusiveStartKey,
          ...(options.enough ? { Limit: Math.max(10, options.enough) } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        found++;
        yield item as JobItem;
      }
      ExclusiveStartKey = options.enough && found >= options.enough ? undefined : out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  /** The first few jobs of the kinds due (queued) or whose lease ran out (running) by `now`. */
  async function due(
    kinds: readonly JobKind[],
    state: "queued" | "running",
    now: number,
  ): Promise<JobItem[]> {
    const items: JobItem[] = [];
    for await (const item of inState(state, { kinds, until: now, enough: 10 })) items.push(item);
    return items;
  }

  async function countIn(kinds: readonly JobKind[], state: JobState): Promise<number> {
    const { ddb, doc } = await sdk();
    const filter = kindFilter(kinds);
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(
        new ddb.QueryCommand({
          TableName,
          IndexName: "byState",
          KeyConditionExpression: "stateKey = :k",
          ...(filter.FilterExpression
            ? { FilterExpression: filter.FilterExpression, ExpressionAttributeNames: { "#kind": "kind" } }
            : {}),
          ExpressionAttributeValues: { ":k": state, ...filter.values },
          Select: "COUNT",
          ExclusiveStartKey,
        }),
      );
      count += out.Count ?? 0;
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  /**
   * Moves a job to `next` if it is still as `expected` says (its state and, for running jobs, holder),
   * releasing its dedupe key when it ends. Returns the new item, or null when someone changed it first.
   */
  async function transition(
    item: JobItem,
    next: Partial<JobItem> & { state: JobState },
    expected: { holder?: string; leaseExpiredBy?: number },
  ): Promise<JobItem | null> {
    const { ddb, doc } = await sdk();
    const now = Date.now();
    const ends = next.state === "done" || next.state === "failed";
    const updated: JobItem = {
      ...item,
      ...next,
      stateKey: next.state,
      stateTime: stateTime(
        next.state === "queued"
          ? (next.dueAt ?? now)
          : next.state === "running"
            ? (next.leaseUntil ?? now)
            : now,
        item.id,
      ),
    };
    if (next.state !== "running") {
      delete updated.holder;
      delete updated.leaseUntil;
    }
    if (ends) delete updated.pendingImage;
    else if (item.imageId) updated.pendingImage = item.imageId;
    const conditions = ["#state = :state", "#attempts = :attempts"];
    const values: Record<string, unknown> = { ":state": item.state, ":attempts": item.attempts };
    if (expected.holder !== undefined) {
      conditions.push("#holder = :holder");
      values[":holder"] = expected.holder;
    }
    if (expected.leaseExpiredBy !== undefined) {
      conditions.push("#leaseUntil <= :now");
      values[":now"] = expected.leaseExpiredBy;
    }
    const put = {
      TableName,
      Item: updated,
      ConditionExpression: conditions.join(" AND "),
      ExpressionAttributeNames: Object.fromEntries(
        ["state", "attempts", "holder", "leaseUntil"]
          .filter((name) => conditions.some((c) => c.includes(`#${name} `)))
          .map((name) => [`#${name}`, name]),
      ),
      ExpressionAttributeValues: values,
    };
    try {
      if (ends) {
        await doc.send(
          new ddb.TransactWriteCommand({
            TransactItems: [
              { Put: put },
              {
                Delete: {
                  TableName,
                  Key: { pk: dedupePk(item.dedupeKey) },
                  ConditionExpression: "attribute_not_exists(jobId) OR jobId = :id",
                  ExpressionAttributeValues: { ":id": item.id },
                },
              },
            ],
          }),
        );
      } else {
        await doc.send(new ddb.PutCommand(put));
      }
      return updated;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  /** Takes a job if it is queued, or running on a lease that ran out. */
  async function take(item: JobItem, workerId: string, leaseMs: number): Promise<Job | null> {
    const now = Date.now();
    const taken = await transition(
      item,
      { state: "running", attempts: item.attempts + 1, holder: workerId, leaseUntil: now + leaseMs },
      item.state === "running" ? { leaseExpiredBy: now } : {},
    );
    return taken ? toJob(taken) : null;
  }

  /** Back to queued after `delayMs`, with a message to deliver it then. */
  async function requeue(
    item: JobItem,
    next: Partial<JobItem>,
    delayMs: number,
    expected: { holder?: string },
  ) {
    const queued = await transition(
      item,
      { ...next, state: "queued", dueAt: Date.now() + delayMs },
      expected,
    );
    if (queued) await send(queued, delayMs);
    return queued;
  }

  return {
    kind: "sqs",

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
      const imageId = spec.imageId(value) as string | null;
      const maxAttempts = enqueueOptions.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new PhotocatError("invalid_request", "maxAttempts must be a whole number of at least 1");
      }
      const delayMs = checkMs(enqueueOptions.delayMs ?? 0, "delayMs");
      if (imageId && !(await options.imageExists(imageId))) {
        throw new PhotocatError("not_found", `no photo with id ${imageId} to analyse`);
      }
      const id = randomUUID();
      const dueAt = Date.now() + delayMs;
      const dedupeKey = spec.dedupeKey(value) as string;
      const item: JobItem = {
        pk: jobPk(id),
        id,
        kind,
        payload: JSON.stringify(value),
        ...(imageId ? { imageId, pendingImage: imageId } : {}),
        dedupeKey,
        state: "queued",
        attempts: 0,
        maxAttempts,
        dueAt,
        stateKey: "queued",
        stateTime: stateTime(dueAt, id),
      };
      const { ddb, doc } = await sdk();
      try {
        await doc.send(
          new ddb.TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName,
                  Item: { pk: dedupePk(dedupeKey), jobId: id },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              { Put: { TableName, Item: item } },
            ],
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) return; // A queued or running job holds the key.
        throw error;
      }
      try {
        await send(item, delayMs);
      } catch (error) {
        // A job nobody will be told of would wait forever for a function: take it back.
        await transition(item, { state: "failed", lastError: "its message could not be sent" }, {}).catch(
          () => {},
        );
        throw error;
      }
    },

    async claim(workerId, leaseMs, kinds) {
      const lease = checkMs(leaseMs, "leaseMs");
      const wanted = checkKinds(kinds);
      const now = Date.now();
      if (wanted.length === 0) return null;
      const found = await Promise.all([due(wanted, "queued", now), due(wanted, "running", now)]);
      const candidates = found
        .flat()
        .filter((item) => item.state === "queued" || item.attempts < item.maxAttempts);
      candidates.sort((a, b) => a.stateTime.localeCompare(b.stateTime));
      for (const item of candidates) {
        const job = await take(item, workerId, lease);
        if (job) return job;
      }
      return null;
    },

    async claimJob(jobId, workerId, leaseMs) {
      const lease = checkMs(leaseMs, "leaseMs");
      const item = await load(jobId);
      if (!item) return null;
      if (item.state === "running" && (item.leaseUntil ?? 0) > Date.now()) return "running";
      if (item.state !== "queued" && item.state !== "running") return null;
      return (await take(item, workerId, lease)) ?? "running";
    },

    async extendLease(jobId, workerId, leaseMs) {
      const lease = checkMs(leaseMs, "leaseMs");
      const item = await load(jobId);
      if (item?.state !== "running" || item.holder !== workerId) return false;
      const leaseUntil = Date.now() + lease;
      return (await transition(item, { state: "running", leaseUntil }, { holder: workerId })) !== null;
    },

    async complete(jobId, workerId) {
      const item = await load(jobId);
      if (item?.state !== "running" || item.holder !== workerId) return false;
      const done = await transition(item, { state: "done", lastError: undefined }, { holder: workerId });
      return done !== null;
    },

    async fail(jobId, workerId, error, retry) {
      const retryIn = checkMs(retry.retryInMs, "retryInMs");
      const item = await load(jobId);
      if (item?.state !== "running" || item.holder !== workerId) return "lost";
      const lastError = error.slice(0, MAX_ERROR_CHARS);
      if (retry.retryable && item.attempts < item.maxAttempts) {
        return (await requeue(item, { lastError }, retryIn, { holder: workerId })) ? "retrying" : "lost";
      }
      return (await transition(item, { state: "failed", lastError }, { holder: workerId }))
        ? "failed"
        : "lost";
    },

    async failAbandoned() {
      const ended: Job[] = [];
      const now = Date.now();
      for await (const item of inState("running", { until: now })) {
        if (item.attempts < item.maxAttempts) continue;
        const lastError = `worker died ${item.attempts} times`;
        const failed = await transition(item, { state: "failed", lastError }, { leaseExpiredBy: now });
        if (failed) ended.push(toJob(failed));
      }
      return ended;
    },

    async postpone(jobId, workerId, delayMs) {
      const delay = checkMs(delayMs, "delayMs");
      const item = await load(jobId);
      if (item?.state !== "running" || item.holder !== workerId) return false;
      return (await requeue(item, { attempts: item.attempts - 1 }, delay, { holder: workerId })) !== null;
    },

    async leaseHolders() {
      const holders = new Set<string>();
      for await (const item of inState("running")) if (item.holder) holders.add(item.holder);
      return [...holders];
    },

    async releaseLeases(workerId) {
      const released: { kind: JobKind; imageId: string | null }[] = [];
      for await (const item of inState("running")) {
        if (item.holder !== workerId) continue;
        if (await requeue(item, {}, 0, { holder: workerId })) {
          released.push({ kind: item.kind, imageId: item.imageId ?? null });
        }
      }
      return released;
    },

    async pendingJobs<K extends JobKind>(kind: K) {
      const jobs: Job<K>[] = [];
      for (const state of ["queued", "running"] as const) {
        for await (const item of inState(state, { kinds: checkKinds([kind]) }))
          jobs.push(toJob(item) as Job<K>);
      }
      return jobs;
    },

    async cancel(imageId) {
      const { ddb, doc } = await sdk();
      const out = await doc.send(
        new ddb.QueryCommand({
          TableName,
          IndexName: "byImage",
          KeyConditionExpression: "pendingImage = :i",
          ExpressionAttributeValues: { ":i": imageId },
        }),
      );
      for (const key of out.Items ?? []) {
        const item = await load(String(key.pk).slice("job#".length));
        if (!item || (item.state !== "queued" && item.state !== "running")) continue;
        await doc
          .send(
            new ddb.TransactWriteCommand({
              TransactItems: [
                {
                  Delete: {
                    TableName,
                    Key: { pk: item.pk },
                    ConditionExpression: "#state = :state",
                    ExpressionAttributeNames: { "#state": "state" },
                    ExpressionAttributeValues: { ":state": item.state },
                  },
                },
                {
                  Delete: {
                    TableName,
                    Key: { pk: dedupePk(item.dedupeKey) },
                    ConditionExpression: "attribute_not_exists(jobId) OR jobId = :id",
                    ExpressionAttributeValues: { ":id": item.id },
                  },
                },
              ],
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          });
      }
    },

    async counts(kinds) {
      const wanted = checkKinds(kinds);
      const counts: QueueCounts = { queued: 0, running: 0, done: 0, failed: 0 };
      if (wanted.length === 0) return counts;
      await Promise.all(
        (["queued", "running", "done", "failed"] as const).map(async (state) => {
          counts[state] = await countIn(wanted, state);
        }),
      );
      return counts;
    },

    async close() {
      if (!loaded) return;
      const { sqsClient, raw } = await loaded;
      sqsClient.destroy();
      raw.destroy();
    },
  };
}
