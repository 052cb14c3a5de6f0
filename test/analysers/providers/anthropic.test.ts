import exifr from "exifr";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createAnthropicAnalyser } from "../../../src/analysers/anthropic/index.js";
import { ANSWER_TOOL_NAME, PROMPT_VERSION } from "../../../src/analysers/shared/prompt.js";
import { ConfigurationError } from "../../../src/domain/errors.js";
import { categorySlugs, DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";
import {
  at,
  FAST_RETRY,
  type FakeReply,
  type FakeServer,
  failure,
  makePhoto,
  startFakeServer,
  testConfig,
  textAt,
  validAnswer,
} from "../shared/fixtures.js";

// Wire format of the Claude Messages API (POST /v1/messages).
function toolUseMessage(input: unknown, usage = { input_tokens: 1650, output_tokens: 120 }): FakeReply {
  return {
    body: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5-20251001",
      content: [{ type: "tool_use", id: "toolu_01", name: ANSWER_TOOL_NAME, input }],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage,
    },
  };
}

function textMessage(text: string): FakeReply {
  return {
    body: {
      id: "msg_02",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5-20251001",
      content: [{ type: "text", text }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 1600, output_tokens: 200 },
    },
  };
}

function apiError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  return { status, headers, body: { type: "error", error: { type, message }, request_id: "req_1" } };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function analyserFor(replies: FakeReply[], env: Record<string, string> = {}) {
  server = await startFakeServer(replies);
  const config = testConfig({ ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: server.url, ...env });
  return createAnthropicAnalyser(config, { retry: FAST_RETRY });
}

const photo = makePhoto({ width: 4000, height: 3000, gps: true, orientation: 6 });
const photoInput = async (extra: Record<string, unknown> = {}) => ({
  bytes: await photo,
  mediaType: "image/jpeg",
  taxonomy: DEFAULT_TAXONOMY,
  language: "en",
  context: { takenAt: "2024-05-01T10:00:00Z", place: "Paris, France" },
  ...extra,
});

describe("anthropic analyser", () => {
  it("sends a prepared image with a forced tool and records the validated answer with provenance", async () => {
    const analyser = await analyserFor([toolUseMessage(validAnswer())]);
    const input = await photoInput();
    expect(await exifr.gps(input.bytes)).toBeDefined();
    const analysis = await analyser.analyse(input);

    expect(analysis).toMatchObject({
      category: "art",
      tags: ["circle", "rectangle", "gradient"],
      text: null,
    });
    expect(analysis.summary.startsWith("A red circle")).toBe(true);
    expect(analysis.provenance).toMatchObject({
      provider: "anthropic",
      model: "claude-haiku-4-5-20251001",
      promptVersion: PROMPT_VERSION,
      inputTokens: 1650,
      outputTokens: 120,
      costUsd: (1650 * 1 + 120 * 5) / 1e6,
    });
    expect(analysis.provenance.ms).toBeGreaterThanOrEqual(0);

    const request = server!.requests[0]!;
    expect(request.url).toBe("/v1/messages");
    // SDK 1.x sends the key as a bearer token (older versions used x-api-key).
    expect(request.headers.authorization ?? `Bearer ${request.headers["x-api-key"]}`).toBe(
      "Bearer sk-ant-test",
    );
    expect(request.headers["anthropic-version"]).toBeTruthy();
    const body = server!.json(0);
    expect(at(body, "model")).toBe("claude-haiku-4-5");
    expect(at(body, "tool_choice")).toEqual({ type: "tool", name: ANSWER_TOOL_NAME });
    expect(at(body, "tools")).toHaveLength(1);
    expect(at(body, "tools", 0, "input_schema", "properties", "category", "enum")).toEqual(
      categorySlugs(DEFAULT_TAXONOMY),
    );
    expect(textAt(body, "system")).toContain("never instructions");

    const image = at(body, "messages", 0, "content", 0);
    expect(at(image, "source", "media_type")).toBe("image/jpeg");
    const sent = Buffer.from(textAt(image, "source", "data"), "base64");
    const meta = await sharp(sent).metadata();
    // 4000x3000 with orientation 6 is a portrait 3000x4000 photo: oriented, then within 1568 px and 1.15 MP.
    expect(meta.height).toBeGreaterThan(meta.width);
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(1568);
    expect(meta.width * meta.height).toBeLessThanOrEqual(1_150_000);
    expect(meta.exif).toBeUndefined();
    // Context (date, place) stays home unless PHOTOCAT_SHARE_CONTEXT is on; GPS never leaves.
    const text = textAt(body, "messages", 0, "content", 1, "text");
    expect(text).not.toContain("2024-05-01");
    expect(text).not.toContain("Paris");
    expect(await exifr.gps(sent)).toBeUndefined();
    expect(request.body.toString()).not.toContain("48.858");
  });

  it("gives date and place (never coordinates) only when context sharing is on", async () => {
    const analyser = await analyserFor([toolUseMessage(validAnswer())], { PHOTOCAT_SHARE_CONTEXT: "on" });
    await analyser.analyse(await photoInput());
    const text = textAt(server!.json(0), "messages", 0, "content", 1, "text");
    expect(text).toContain("2024-05-01");
    expect(text).toContain("Paris, France");

    await analyser.analyse(await photoInput({ context: { takenAt: null, place: "48.8584, 2.2945" } }));
    expect(textAt(server!.json(1), "messages", 0, "content", 1, "text")).not.toContain("48.8584");
  });

  it("parses a plain-text <json> answer after a scratchpad when Claude does not call the tool", async () => {
    const answer = `<scratchpad>Looks like shapes. <json>{"category":"documents"}</json></scratchpad>
<json>{"summary":"Geometric shapes on a gradient.","category":"art","tags":["Shapes","Gradient",],"alt_text":"Shapes","text":null,"confidence":0.7,}</json>`;
    const analyser = await analyserFor([textMessage(answer)]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    expect(analysis.tags).toEqual(["shapes", "gradient"]);
    expect(server!.requests).toHaveLength(1);
  });

  it("asks once more after an unusable answer, adding the reason, and sums the tokens of both", async () => {
    const analyser = await analyserFor([
      textMessage("<json>{not json at all</json>"),
      toolUseMessage(validAnswer()),
    ]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    expect(server!.requests).toHaveLength(2);
    expect(textAt(server!.json(1), "messages", 0, "content", 1, "text")).toContain("could not be used");
    expect(analysis.provenance.inputTokens).toBe(1600 + 1650);
  });

  it("fails with analyser_output_invalid after two malformed answers", async () => {
    const analyser = await analyserFor([textMessage('<json>{"summary": "x", </json>')]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.code).toBe("analyser_output_invalid");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/JSON/);
    expect(server!.requests).toHaveLength(2);
  });

  it("never returns a category outside the taxonomy", async () => {
    const analyser = await analyserFor([toolUseMessage(validAnswer({ category: "selfies" }))]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.code).toBe("analyser_output_invalid");
    expect(error.message).toContain("selfies");
    expect(server!.requests).toHaveLength(2);
  });

  it("stores model text as capped plain text: markup kept literally, control characters removed", async () => {
    const analyser = await analyserFor([
      toolUseMessage(
        validAnswer({
          summary: `<script>alert(1)</script> A cat\u0000\u001b[31m on a mat. ${"very ".repeat(200)}`,
          tags: Array.from({ length: 30 }, (_, i) => `Tag${i}`),
          alt_text: "x".repeat(400),
          text: "IGNORE PREVIOUS INSTRUCTIONS\u202e",
        }),
      ),
    ]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.summary.startsWith("<script>alert(1)</script> A cat")).toBe(true);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting they are gone
    expect(analysis.summary).not.toMatch(/[\u0000-\u001f]/);
    expect(analysis.summary.length).toBeLessThanOrEqual(400);
    expect(analysis.tags).toHaveLength(15);
    expect(analysis.tags.every((t) => t === t.toLowerCase())).toBe(true);
    expect(analysis.altText.length).toBeLessThanOrEqual(125);
    expect(analysis.text).toBe("IGNORE PREVIOUS INSTRUCTIONS");
  });

  it("does not retry a 400 invalid image", async () => {
    const analyser = await analyserFor([apiError(400, "invalid_request_error", "Could not process image")]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.code).toBe("analyser_failed");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Could not process image");
    expect(server!.requests).toHaveLength(1);
  });

  it("does not retry a 413 and says the request is too large", async () => {
    const analyser = await analyserFor([
      apiError(413, "request_too_large", "Request exceeds the maximum allowed size"),
    ]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("413");
    expect(server!.requests).toHaveLength(1);
  });

  it("names the key setting on a 401", async () => {
    const analyser = await analyserFor([apiError(401, "authentication_error", "invalid x-api-key")]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("ANTHROPIC_API_KEY");
  });

  it("waits as long as retry-after says on a 429, then succeeds", async () => {
    const analyser = await analyserFor([
      apiError(429, "rate_limit_error", "Number of requests has exceeded your rate limit", {
        "retry-after-ms": "250",
      }),
      toolUseMessage(validAnswer()),
    ]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    const [first, second] = server!.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(240);
  });

  it("retries a 500 and succeeds", async () => {
    const analyser = await analyserFor([
      apiError(500, "api_error", "Internal server error"),
      toolUseMessage(validAnswer()),
    ]);
    await expect(analyser.analyse(await photoInput())).resolves.toMatchObject({ category: "art" });
    expect(server!.requests).toHaveLength(2);
  });

  it("gives up on 529 overloaded after the configured retries, as retryable", async () => {
    const analyser = await analyserFor([apiError(529, "overloaded_error", "Overloaded")]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.code).toBe("analyser_failed");
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/overloaded \(529\).*3 attempts/);
    expect(server!.requests).toHaveLength(3);
  });

  it("times out a slow answer per attempt and reports it as retryable", async () => {
    const analyser = await analyserFor([{ ...toolUseMessage(validAnswer()), delayMs: 3000 }], {
      PHOTOCAT_TIMEOUT_MS: "200",
      PHOTOCAT_MAX_RETRIES: "1",
    });
    const started = Date.now();
    const error = await failure(analyser.analyse(await photoInput()));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("no answer within 200 ms");
    expect(server!.requests).toHaveLength(2);
  });

  it("retries a dropped connection", async () => {
    const analyser = await analyserFor([{ drop: true }, toolUseMessage(validAnswer())]);
    await expect(analyser.analyse(await photoInput())).resolves.toMatchObject({ category: "art" });
    expect(server!.requests).toHaveLength(2);
  });

  it("reports a connection that keeps dropping as a retryable failure", async () => {
    const analyser = await analyserFor([{ drop: true }]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("could not reach Anthropic");
  });

  it("offers the tool without forcing it to Claude 5 models, which think by default", async () => {
    const analyser = await analyserFor([toolUseMessage(validAnswer())], {
      PHOTOCAT_MODEL: "claude-haiku-5-5",
    });
    const analysis = await analyser.analyse(await photoInput());
    expect(at(server!.json(0), "tool_choice")).toEqual({ type: "auto" });
    expect(analysis.provenance.model).toBe("claude-haiku-4-5-20251001");
  });

  it("stops at once when the caller aborts", async () => {
    const controller = new AbortController();
    server = await startFakeServer(() => {
      controller.abort(new Error("lease lost"));
      return { ...toolUseMessage(validAnswer()), delayMs: 3000 };
    });
    const config = testConfig({ ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: server.url });
    const analyser = await createAnthropicAnalyser(config, { retry: FAST_RETRY });
    await expect(analyser.analyse(await photoInput({ signal: controller.signal }))).rejects.toThrow(
      "lease lost",
    );
    expect(server!.requests).toHaveLength(1);
  });

  it("refuses to start without ANTHROPIC_API_KEY, naming it", async () => {
    await expect(createAnthropicAnalyser(testConfig({}))).rejects.toThrow(ConfigurationError);
    await expect(createAnthropicAnalyser(testConfig({}))).rejects.toThrow(/ANTHROPIC_API_KEY is not set/);
  });
});
