import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createOpenAIAnalyser, reasoningEffortFor } from "../../../src/analysers/openai/index.js";
import { ANSWER_TOOL_NAME } from "../../../src/analysers/shared/prompt.js";
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

// Wire format of OpenAI chat completions (POST {base}/chat/completions), also spoken by vLLM, LM Studio, llama.cpp.
function completion(
  content: string | null,
  extra: { refusal?: string; finish_reason?: string; model?: string } = {},
): FakeReply {
  return {
    body: {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1764000000,
      model: extra.model ?? "gpt-5.6-luna-2026-07-09",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content, refusal: extra.refusal ?? null },
          finish_reason: extra.finish_reason ?? "stop",
        },
      ],
      usage: { prompt_tokens: 1300, completion_tokens: 95, total_tokens: 1395 },
    },
  };
}

function apiError(
  status: number,
  message: string,
  code: string | null,
  headers: Record<string, string> = {},
): FakeReply {
  return { status, headers, body: { error: { message, type: "invalid_request_error", param: null, code } } };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function analyserFor(replies: FakeReply[], env: Record<string, string> = {}) {
  server = await startFakeServer(replies);
  const config = testConfig({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${server.url}/v1`, ...env });
  return createOpenAIAnalyser(config, { retry: FAST_RETRY });
}

const photo = makePhoto({ width: 2400, height: 1600, format: "webp" });
const photoInput = async (extra: Record<string, unknown> = {}) => ({
  bytes: await photo,
  mediaType: "image/webp",
  taxonomy: DEFAULT_TAXONOMY,
  language: "de",
  context: { takenAt: "2024-05-01", place: "Berlin" },
  ...extra,
});

describe("openai analyser", () => {
  it("sends a data-URL image with a strict JSON schema and records the answer", async () => {
    const analyser = await analyserFor(
      [completion(JSON.stringify(validAnswer()), { model: "gpt-4o-mini-2024-07-18" })],
      {
        PHOTOCAT_MODEL: "gpt-4o-mini",
      },
    );
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    expect(analysis.provenance).toMatchObject({
      provider: "openai",
      model: "gpt-4o-mini-2024-07-18",
      inputTokens: 1300,
      outputTokens: 95,
      costUsd: (1300 * 0.15 + 95 * 0.6) / 1e6,
    });

    const request = server!.requests[0]!;
    expect(request.url).toBe("/v1/chat/completions");
    expect(request.headers.authorization).toBe("Bearer sk-test");
    const body = server!.json(0);
    expect(at(body, "model")).toBe("gpt-4o-mini");
    expect(at(body, "reasoning_effort")).toBeUndefined();
    expect(at(body, "response_format", "type")).toBe("json_schema");
    expect(at(body, "response_format", "json_schema", "strict")).toBe(true);
    expect(at(body, "response_format", "json_schema", "name")).toBe(ANSWER_TOOL_NAME);
    expect(at(body, "response_format", "json_schema", "schema", "properties", "category", "enum")).toEqual(
      categorySlugs(DEFAULT_TAXONOMY),
    );
    expect(textAt(body, "messages", 0, "content")).toContain("in German");
    const url = textAt(body, "messages", 1, "content", 0, "image_url", "url");
    const [, mediaType, data] = /^data:(image\/[a-z]+);base64,(.+)$/.exec(url) ?? [];
    expect(mediaType).toBe("image/jpeg");
    const meta = await sharp(Buffer.from(data ?? "", "base64")).metadata();
    expect([meta.width, meta.height]).toEqual([1313, 875]);
    expect(textAt(body, "messages", 1, "content", 1, "text")).not.toContain("Berlin");
  });

  it("asks OpenAI reasoning models for the least reasoning effort", async () => {
    expect(reasoningEffortFor("gpt-5.6-luna")).toBe("none");
    expect(reasoningEffortFor("gpt-5-mini")).toBe("minimal");
    expect(reasoningEffortFor("qwen2.5-vl-7b-instruct")).toBeUndefined();
    const analyser = await analyserFor([completion(JSON.stringify(validAnswer()))]);
    await analyser.analyse(await photoInput());
    expect(at(server!.json(0), "model")).toBe("gpt-5.6-luna");
    expect(at(server!.json(0), "reasoning_effort")).toBe("none");
  });

  it("parses <json> text from a compatible server that ignores the schema, without a key", async () => {
    server = await startFakeServer([
      completion(
        `<scratchpad>a cat</scratchpad>\n<json>${JSON.stringify(validAnswer({ category: "animals" }))}</json>`,
        {
          model: "qwen2.5-vl-7b-instruct",
        },
      ),
    ]);
    const config = testConfig({
      OPENAI_BASE_URL: `${server.url}/v1`,
      PHOTOCAT_MODEL: "qwen2.5-vl-7b-instruct",
    });
    const analysis = await (await createOpenAIAnalyser(config, { retry: FAST_RETRY })).analyse(
      await photoInput(),
    );
    expect(analysis).toMatchObject({ category: "animals", provenance: { costUsd: 0 } });
  });

  it("re-asks after a refusal or malformed JSON, then fails", async () => {
    const analyser = await analyserFor([
      completion(null, { refusal: "I can't help with that." }),
      completion('{"summary": "x", "category": '),
    ]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.code).toBe("analyser_output_invalid");
    expect(server!.requests).toHaveLength(2);
    expect(textAt(server!.json(1), "messages", 1, "content", 1, "text")).toContain("declined");
  });

  it("rejects a category outside the taxonomy", async () => {
    const analyser = await analyserFor([completion(JSON.stringify(validAnswer({ category: "documents!" })))]);
    expect((await failure(analyser.analyse(await photoInput()))).code).toBe("analyser_output_invalid");
  });

  it("does not retry 400 invalid image or 413; retries 429 after retry-after and 500", async () => {
    let analyser = await analyserFor([apiError(400, "Invalid image.", "invalid_image_format")]);
    let error = await failure(analyser.analyse(await photoInput()));
    expect([error.retryable, server!.requests.length]).toEqual([false, 1]);
    expect(error.message).toContain("rejected the image");
    await server!.close();

    analyser = await analyserFor([apiError(413, "Request too large", null)]);
    error = await failure(analyser.analyse(await photoInput()));
    expect([error.retryable, server!.requests.length]).toEqual([false, 1]);
    await server!.close();

    analyser = await analyserFor([
      apiError(429, "Rate limit reached", "rate_limit_exceeded", { "retry-after-ms": "200" }),
      apiError(500, "The server had an error", null),
      completion(JSON.stringify(validAnswer())),
    ]);
    await expect(analyser.analyse(await photoInput())).resolves.toMatchObject({ category: "art" });
    const [first, second] = server!.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(190);
    expect(server!.requests).toHaveLength(3);
  });

  it("times out a slow server and retries a dropped connection", async () => {
    let analyser = await analyserFor([{ ...completion(JSON.stringify(validAnswer())), delayMs: 3000 }], {
      PHOTOCAT_TIMEOUT_MS: "200",
      PHOTOCAT_MAX_RETRIES: "1",
    });
    const error = await failure(analyser.analyse(await photoInput()));
    expect([error.retryable, server!.requests.length]).toEqual([true, 2]);
    await server!.close();

    analyser = await analyserFor([{ drop: true }, completion(JSON.stringify(validAnswer()))]);
    await expect(analyser.analyse(await photoInput())).resolves.toMatchObject({ category: "art" });
  });

  it("names the missing settings", async () => {
    await expect(createOpenAIAnalyser(testConfig({}))).rejects.toThrow(ConfigurationError);
    await expect(createOpenAIAnalyser(testConfig({}))).rejects.toThrow(/OPENAI_API_KEY is not set/);
    await expect(
      createOpenAIAnalyser(testConfig({ OPENAI_BASE_URL: "http://127.0.0.1:1234/v1" })),
    ).rejects.toThrow(/PHOTOCAT_MODEL is not set/);
  });
});
