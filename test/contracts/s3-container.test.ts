import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import { startS3Server } from "./s3-server.js";

describe("PHOTOCAT_STORAGE_URL=s3://bucket/prefix", () => {
  let server: Awaited<ReturnType<typeof startS3Server>>;
  let dataDir: string;
  beforeAll(async () => {
    server = await startS3Server({ bucket: "photos" });
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-s3-"));
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("stores photos in the bucket named by the setting, at the endpoint of AWS_ENDPOINT_URL_S3", async () => {
    const env = {
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    };
    const config = loadConfig(env, {
      PHOTOCAT_DATA_DIR: dataDir,
      PHOTOCAT_STORAGE_URL: "s3://photos/library",
    });
    expect(config.s3).toEqual({ region: "eu-west-1", endpoint: server.endpoint });
    const previous = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
    const container = await createContainer(config, { logger: silentLogger() });
    try {
      expect(container.blobs.kind).toContain("s3");
      await container.blobs.put("originals/ab/x.jpg", Buffer.from("bytes"), "image/jpeg");
      expect((await container.blobs.get("originals/ab/x.jpg")).toString()).toBe("bytes");
    } finally {
      await container.close();
      process.env = previous;
    }
  });
});
