import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peakRssMb, type ServerProcess, startServerProcess } from "../faults/support/server-process.js";

/**
 * Issue 9 defect 10 and issue 14 "unauthenticated memory growth": a huge JSON body (a 300 MB PATCH, 400 MB
 * passwords) is refused with 413 before it is read, so the server's memory does not grow. The server is
 * `photocat serve` in its own process, so its peak resident memory (VmHWM) is its own.
 */

const MB = 1024 * 1024;

interface Answer {
  status: number;
  body: string;
  ms: number;
  /** Bytes the client had written when the answer came. */
  sent: number;
}

/**
 * Streams `total` bytes of a JSON-looking body and resolves with the answer as soon as it arrives (then drops
 * the connection): with a Content-Length header, or chunked when `chunked`.
 */
function sendHuge(
  url: string,
  options: {
    method: string;
    path: string;
    total: number;
    chunked?: boolean;
    headers?: Record<string, string>;
  },
): Promise<Answer> {
  const started = Date.now();
  const chunk = Buffer.alloc(MB, "a".charCodeAt(0));
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const request = http.request(`${url}${options.path}`, {
      method: options.method,
      headers: {
        "content-type": "application/json",
        ...(options.chunked
          ? { "transfer-encoding": "chunked" }
          : { "content-length": String(options.total) }),
        ...options.headers,
      },
    });
    request.on("response", (response) => {
      answered = true;
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (text: string) => {
        body += text;
      });
      response.on("end", () => {
        resolve({ status: response.statusCode!, body, ms: Date.now() - started, sent });
        request.destroy();
      });
    });
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      if (sent === 0) {
        request.write('{"password":"');
        sent += 13;
      }
      while (!answered && sent < options.total) {
        const ok = request.write(chunk);
        sent += chunk.length;
        if (!ok) {
          request.once("drain", pump);
          return;
        }
      }
      if (!answered) request.end();
    };
    pump();
  });
}

describe("JSON bodies are refused before they are read", () => {
  let dataDir: string;
  let server: ServerProcess;
  let url: string;
  const token = "limit-token-0123456789";
  /** The server's peak memory so far, in MB (the test fails, not skips, where /proc cannot be read). */
  const peak = () => {
    const mb = peakRssMb(server.pid);
    if (mb === null) throw new Error("cannot read /proc/<pid>/status to measure the server's memory");
    return mb;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-limit-"));
    server = await startServerProcess({
      dataDir,
      args: ["--no-worker"],
      env: { PHOTOCAT_PASSWORD: "correct horse", PHOTOCAT_API_TOKENS: token },
    });
    url = server.url;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers five 400 MB sign-in bodies with 413 at once, and its memory stays flat", async () => {
    const before = peak();
    for (let i = 0; i < 5; i++) {
      const answer = await sendHuge(url, { method: "POST", path: "/api/session", total: 400 * MB });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "payload_too_large" } });
      expect(answer.ms).toBeLessThan(2000);
    }
    for (let i = 0; i < 5; i++) {
      const answer = await sendHuge(url, {
        method: "POST",
        path: "/api/session",
        total: 400 * MB,
        chunked: true,
      });
      expect(answer.status).toBe(413);
      expect(answer.sent, "the server stopped reading at the limit").toBeLessThan(100 * MB);
    }
    const after = peak();
    console.log(
      `[figure] server peak RSS before ${Math.round(before)} MB, after ten 400 MB sign-in bodies ` +
        `${Math.round(after)} MB`,
    );
    expect(after - before).toBeLessThan(20);
  }, 60_000);

  it("cuts off a 300 MB streamed PATCH at the limit", async () => {
    const before = peak();
    const answer = await sendHuge(url, {
      method: "PATCH",
      path: "/api/images/00000000-0000-4000-8000-000000000000",
      total: 300 * MB,
      chunked: true,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: "payload_too_large", message: "the body is over the limit of 64 KB" },
    });
    expect(answer.ms).toBeLessThan(2000);
    expect(answer.sent).toBeLessThan(100 * MB);
    const after = peak();
    console.log(
      `[figure] server peak RSS before ${Math.round(before)} MB, after a 300 MB PATCH ${Math.round(after)} MB`,
    );
    expect(after - before).toBeLessThan(20);
  }, 60_000);

  it("refuses a JSON body sent as text/plain (what a cross-site form can send) with 415", async () => {
    const answer = await fetch(`${url}/api/session`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ password: "correct horse" }),
    });
    expect(answer.status).toBe(415);
    expect(await answer.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
    const patch = await fetch(`${url}/api/images/00000000-0000-4000-8000-000000000000`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: "summary=forged",
    });
    expect(patch.status).toBe(415);
  });

  it("still accepts a normal sign-in and a small body just under the limit", async () => {
    const ok = await fetch(`${url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ password: "correct horse" }),
    });
    expect(ok.status).toBe(204);
    const near = await fetch(`${url}/api/images/00000000-0000-4000-8000-000000000000`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ summary: "x".repeat(1000), tags: ["a"], alt_text: " ".repeat(60_000) }),
    });
    // Read in full and validated: the schema, not the limit, refuses it.
    expect(near.status).toBe(400);
    expect(((await near.json()) as { error: { message: string } }).error.message).toMatch(/alt_text/);
  });
});
