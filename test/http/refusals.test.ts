import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Running, run } from "../../src/entry/runtime.js";
import { configureDecodes, decodeSettings, withDecodeSlot } from "../../src/media/decode-slots.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  name?: string;
  size?: number;
}

async function upload(url: string, name: string, bytes: Buffer | string) {
  const form = new FormData();
  form.append("file", new Blob([typeof bytes === "string" ? bytes : new Uint8Array(bytes)]), name);
  const response = await fetch(`${url}/api/images`, { method: "POST", body: form });
  return { response, body: (await response.json()) as { error: { code: string; message: string } } };
}

describe("refused uploads", () => {
  let dataDir: string;
  let running: Running;
  const lines: LogLine[] = [];
  const initial = decodeSettings();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-refusals-"));
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const config = loadConfig(
      {},
      { PHOTOCAT_PORT: "0", PHOTOCAT_HOST: "127.0.0.1", PHOTOCAT_DATA_DIR: dataDir },
    );
    running = await run(config, {
      http: true,
      worker: false,
      analyser: fakeAnalyser(),
      logger: pino({ level: "info" }, sink),
    });
  });
  afterAll(async () => {
    await running?.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  afterEach(() => configureDecodes(initial));

  it("logs each refusal with its code, the file's name and size, and never its content", async () => {
    const { response } = await upload(running.url!, "notes.jpg", "SECRET-CONTENT not a photo");
    expect(response.status).toBe(415);
    const line = lines.find((l) => l.code === "unsupported_media_type" && l.name === "notes.jpg");
    expect(line).toMatchObject({ level: 30, size: 26 });
    expect(JSON.stringify(lines)).not.toContain("SECRET-CONTENT");
  });

  it("answers a good photo with 503 busy and Retry-After when every decoder stays taken, never 422", async () => {
    configureDecodes({ concurrency: 1, queueMs: 100 });
    let release = () => {};
    void withDecodeSlot(() => new Promise<void>((resolve) => (release = resolve)), { timeoutMs: 60_000 });
    try {
      const { response, body } = await upload(
        running.url!,
        "good.jpg",
        await solidImage({ r: 9, g: 99, b: 9 }, 3),
      );
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(body.error.code).toBe("busy");
      expect(body.error.message).toMatch(/try again/);
    } finally {
      release();
    }
    configureDecodes(initial);
    const again = await upload(running.url!, "good.jpg", await solidImage({ r: 9, g: 99, b: 9 }, 3));
    expect(again.response.status).toBe(201);
  });
});
