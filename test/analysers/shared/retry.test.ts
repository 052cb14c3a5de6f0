import { describe, expect, it } from "vitest";
import { canonicalModelId, costUsd, priceFor } from "../../../src/analysers/shared/prices.js";
import { RateGate } from "../../../src/analysers/shared/rate-gate.js";
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  type Failure,
  httpFailure,
  parseRetryAfter,
  withRetry,
} from "../../../src/analysers/shared/retry.js";
import { PhotocatError } from "../../../src/domain/errors.js";

describe("parseRetryAfter", () => {
  it("reads retry-after-ms, seconds and HTTP dates", () => {
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "1500" }))).toBe(1500);
    expect(parseRetryAfter(new Headers({ "retry-after": "3" }))).toBe(3000);
    expect(
      parseRetryAfter({ "Retry-After": "Wed, 21 Oct 2026 07:28:10 GMT" }, Date.parse("2026-10-21T07:28:00Z")),
    ).toBe(10_000);
    expect(parseRetryAfter(new Headers())).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("httpFailure", () => {
  it("retries 408, 409, 429, 5xx and 529 but not 400, 401, 403, 404 or 413", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 529])
      expect(httpFailure("P", status, "").retryable).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 422])
      expect(httpFailure("P", status, "").retryable).toBe(false);
    expect(httpFailure("P", 401, "bad key", { keySetting: "OPENAI_API_KEY" }).reason).toContain(
      "OPENAI_API_KEY",
    );
  });
});

describe("withRetry", () => {
  const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5 };
  const retryable: Failure = { retryable: true, reason: "flaky" };

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffMs(0, DEFAULT_RETRY_POLICY, () => 0)).toBe(500);
    expect(backoffMs(2, DEFAULT_RETRY_POLICY, () => 0)).toBe(2000);
    expect(backoffMs(10, DEFAULT_RETRY_POLICY, () => 0)).toBe(8000);
    expect(backoffMs(0, DEFAULT_RETRY_POLICY, () => 1)).toBe(375);
  });

  it("tells onRetry the coming attempt, the reason and the wait before each retry", async () => {
    const seen: unknown[] = [];
    await withRetry(
      async (retry) => {
        if (retry < 2) throw new Error("boom");
        return "ok";
      },
      {
        policy,
        classify: () => ({ retryable: true, reason: "rate limited by P (429)", retryAfterMs: 3 }),
        onRetry: (progress) => seen.push(progress),
      },
    );
    expect(seen).toEqual([
      { attempt: 2, maxAttempts: 3, reason: "rate limited by P (429)", delayMs: 3 },
      { attempt: 3, maxAttempts: 3, reason: "rate limited by P (429)", delayMs: 3 },
    ]);
  });

  it("retries until success", async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error("boom");
        return "ok";
      },
      { policy, classify: () => retryable },
    );
    expect([result, calls]).toEqual(["ok", 3]);
  });

  it("stops at once on a failure that is not retryable", async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw new Error("bad request");
      },
      { policy, classify: () => ({ retryable: false, reason: "rejected" }) },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotocatError);
    expect(error).toMatchObject({ code: "analyser_failed", retryable: false, message: "rejected" });
    expect(calls).toBe(1);
  });

  it("does not wait in-process for a very long retry-after; the queue retries later", async () => {
    let paused = 0;
    const error = await withRetry(
      async () => {
        throw new Error("429");
      },
      {
        policy,
        classify: () => ({ retryable: true, reason: "rate limited", retryAfterMs: 3_600_000 }),
        onRateLimited: () => paused++,
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toContain("3600 s");
    expect(paused).toBe(0);
  });
});

describe("RateGate", () => {
  it("spaces calls evenly to the requests-per-minute limit", async () => {
    const gate = new RateGate(1200); // one call per 50 ms
    const started = Date.now();
    await Promise.all([gate.acquire(), gate.acquire(), gate.acquire()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it("holds every caller back during a rate-limit pause", async () => {
    const gate = new RateGate(null);
    gate.pauseUntil(Date.now() + 80);
    const started = Date.now();
    await gate.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });
});

describe("prices", () => {
  it("finds a model's family from snapshot and Bedrock ids", () => {
    expect(canonicalModelId("us.anthropic.claude-haiku-4-5-20251001-v1:0")).toBe("claude-haiku-4-5-20251001");
    expect(priceFor("us.anthropic.claude-haiku-4-5-20251001-v1:0")).toEqual({ input: 1, output: 5 });
    expect(priceFor("anthropic.claude-3-haiku-20240307-v1:0")).toEqual({ input: 0.25, output: 1.25 });
    expect(priceFor("gpt-4o-mini-2024-07-18")).toEqual({ input: 0.15, output: 0.6 });
    expect(priceFor("llava:13b")).toBeNull();
  });

  it("lets PHOTOCAT_PRICES override and extend the table", () => {
    expect(priceFor("claude-haiku-4-5", { "claude-haiku-4-5": { input: 2, output: 10 } })).toEqual({
      input: 2,
      output: 10,
    });
    expect(priceFor("llava:13b", { "llava:13b": { input: 0, output: 0 } })).toEqual({ input: 0, output: 0 });
  });

  it("computes cost in USD, halved for batches", () => {
    expect(costUsd({ input: 1, output: 5 }, 1600, 150)).toBeCloseTo(0.00235, 10);
    expect(costUsd({ input: 1, output: 5 }, 1600, 150, 0.5)).toBeCloseTo(0.001175, 10);
    expect(costUsd(null, 1600, 150)).toBe(0);
  });
});
