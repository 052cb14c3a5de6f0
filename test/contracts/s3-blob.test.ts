import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createS3BlobStore } from "../../src/adapters/blob/s3.js";
import { runBlobStoreContract } from "./blob-store.contract.js";
import { startS3Server } from "./s3-server.js";

// The SDK signs every request; the in-test server does not check, but the SDK needs something.
vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");

let server: Awaited<ReturnType<typeof startS3Server>>;
let run = 0;

beforeAll(async () => {
  server = await startS3Server({ bucket: "photos", pageSize: 2 });
});
afterAll(async () => {
  await server.close();
});

runBlobStoreContract("s3", async () => {
  run += 1;
  const store = createS3BlobStore({
    bucket: "photos",
    prefix: `run-${run}`,
    region: "us-east-1",
    endpoint: server.endpoint,
    forcePathStyle: true,
  });
  return { store, close: async () => store.close?.() };
});

describe("s3 blob store", () => {
  it("keeps its objects under its prefix", async () => {
    const store = createS3BlobStore({
      bucket: "photos",
      prefix: "/tenant-a/",
      region: "us-east-1",
      endpoint: server.endpoint,
    });
    await store.put("originals/x.jpg", Buffer.from("x"), "image/jpeg");
    expect(server.objects.has("tenant-a/originals/x.jpg")).toBe(true);
    const keys: string[] = [];
    for await (const key of store.list("originals/")) keys.push(key);
    expect(keys).toEqual(["originals/x.jpg"]);
    await store.close?.();
  });

  it("says which option is missing", () => {
    expect(() => createS3BlobStore({ bucket: "" })).toThrow("[blob:s3] missing option bucket");
  });
});
