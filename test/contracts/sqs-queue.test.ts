import { randomUUID } from "node:crypto";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createJobsTable, createSqsJobQueue } from "../../src/adapters/queue/sqs.js";
import { type Moto, motoMissing, startMoto } from "../support/moto.js";
import { runJobQueueContract } from "./job-queue.contract.js";

const missing = motoMissing();
if (missing) console.warn(`[skip] ${missing}`);

describe.skipIf(missing !== null)("SQS job queue (moto_server)", () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 40_000);
  afterAll(async () => {
    await moto?.stop();
  });

  runJobQueueContract("sqs + dynamodb (moto)", async () => {
    const name = `jobs-${randomUUID().slice(0, 8)}`;
    const sqs = new SQSClient({ endpoint: moto.endpoint, region: "us-east-1" });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    await createJobsTable({ tableName: name, endpoint: moto.endpoint, region: "us-east-1" });
    const images = new Set<string>();
    const queue = createSqsJobQueue({
      queueUrl: QueueUrl!,
      jobsTable: name,
      region: "us-east-1",
      endpoint: moto.endpoint,
      imageExists: async (id) => images.has(id),
    });
    return {
      queue,
      addImage: async () => {
        const id = randomUUID();
        images.add(id);
        return id;
      },
      close: async () => {
        await queue.close();
        sqs.destroy();
      },
    };
  });

  it("runs the contract above", () => {});
});
