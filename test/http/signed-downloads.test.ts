import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ImageJson } from "../../src/api/present.js";
import { loadConfig } from "../../src/config.js";
import { type Running, run } from "../../src/entry/runtime.js";
import { silentLogger } from "../../src/logger.js";
import { startS3Server } from "../contracts/s3-server.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";

// The SDK signs with whatever credentials it finds; the in-test server does not check them.
vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");

const TOKEN = "signed-downloads-test-token-0123456789";
const auth = { Authorization: `Bearer ${TOKEN}` };
const NAME = "été à Zürich.jpg";

describe("originals on an S3 store (PHOTOCAT_SIGNED_DOWNLOADS)", () => {
  let s3: Awaited<ReturnType<typeof startS3Server>>;
  let dataDir: string;
  const running: Running[] = [];

  beforeAll(async () => {
    s3 = await startS3Server({ bucket: "photos" });
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-signed-"));
  });
  afterAll(async () => {
    for (const r of running) await r.close();
    await s3?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A Photocat on the fake S3 with one photo uploaded; its URL and the photo. */
  async function start(signedDownloads: "on" | "off") {
    const config = loadConfig(
      { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_S3: s3.endpoint },
      {
        PHOTOCAT_HOST: "127.0.0.1",
        PHOTOCAT_PORT: "0",
        PHOTOCAT_DATA_DIR: path.join(dataDir, signedDownloads),
        PHOTOCAT_STORAGE_URL: `s3://photos/${signedDownloads}`,
        PHOTOCAT_API_TOKENS: TOKEN,
        PHOTOCAT_SIGNED_DOWNLOADS: signedDownloads,
      },
    );
    const r = await run(config, {
      http: true,
      worker: false,
      analyser: fakeAnalyser(),
      logger: silentLogger(),
    });
    running.push(r);
    const bytes = await solidImage({ r: 10, g: 120, b: 200 }, 1);
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), NAME);
    const response = await fetch(`${r.url}/api/images`, { method: "POST", body: form, headers: auth });
    expect(response.status).toBe(201);
    const [image] = ((await response.json()) as { images: ImageJson[] }).images;
    return { url: r.url!, image: image!, bytes };
  }

  it("answers 302 to a signed URL valid 5 minutes, after authorisation; the URL gives the bytes", async () => {
    const { url, image, bytes } = await start("on");
    const unsigned = await fetch(`${url}${image.original}`, { redirect: "manual" });
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get("location")).toBeNull();

    const response = await fetch(`${url}${image.original}`, { headers: auth, redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const location = new URL(response.headers.get("location")!);
    expect(location.origin).toBe(new URL(s3.endpoint).origin);
    expect(location.pathname).toMatch(/^\/photos\/on\/originals\/.+\.jpg$/);
    expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(location.searchParams.get("X-Amz-Expires")).toBe("300");
    expect(location.searchParams.get("response-content-disposition")).toBe(
      `attachment; filename="_t_ _ Z_rich.jpg"; filename*=UTF-8''${encodeURIComponent(NAME)}`,
    );
    expect(location.searchParams.get("response-content-type")).toBe("image/jpeg");

    const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>
      >;
    };
    expect(doc.paths["/api/images/{id}/original"]?.get?.responses["302"]?.headers).toHaveProperty("Location");

    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    // A copy with the description written in is made by the app: it still comes as bytes.
    const embedded = await fetch(`${url}${image.original}?metadata=embedded`, {
      headers: auth,
      redirect: "manual",
    });
    expect(embedded.status).toBe(200);
  });

  it("streams the bytes as before when the setting is off", async () => {
    const { url, image, bytes } = await start("off");
    const response = await fetch(`${url}${image.original}`, { headers: auth, redirect: "manual" });
    expect(response.status).toBe(200);
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.get("content-type")).toBe("image/jpeg");
    expect(response.headers.get("content-disposition")).toContain(
      `filename*=UTF-8''${encodeURIComponent(NAME)}`,
    );
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
