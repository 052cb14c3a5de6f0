import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createOpenAIAnalyser, reasoningEffortFor } from "../../../src/analysers/openai/index.js";
import { openaiSettings } from "../../../src/analysers/registry.js";
import { ANSWER_TOOL_NAME } from "../../../src/analysers/shared/prompt.js";
import { categorySlugs, DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";
import { remoteAnalyserContract } from "../../contracts/analyser.contract.js";
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
  return createOpenAIAnalyser(openaiSettings(config), { retry: FAST_RETRY });
}

remoteAnalyserContract({
  name: "the OpenAI-compatible server",
  create: (baseUrl, env, options) =>
    createOpenAIAnalyser(
      openaiSettings(
        testConfig({
          OPENAI_API_KEY: "sk-test",
          ...(baseUrl ? { OPENAI_BASE_URL: `${baseUrl}/v1` } : {}),
          ...env,
        }),
      ),
      options,
    ),
  answer: (answer) => completion(JSON.stringify(answer)),
  text: (text) => completion(text),
  error: (status, message, headers) => apiError(status, message, null, headers),
  promptOf: (body) => textAt(body, "messages", 1, "content", 1, "text"),
  imageOf: (body) =>
    Buffer.from(
      textAt(body, "messages", 1, "content", 0, "image_url", "url").replace(/^data:[^,]+,/, ""),
      "base64",
    ),
  keySetting: "OPENAI_API_KEY",
  missingSettings: [
    { env: { OPENAI_API_KEY: "" }, message: /OPENAI_API_KEY is not set/ },
    {
      env: { OPENAI_API_KEY: "", OPENAI_BASE_URL: "http://127.0.0.1:1234/v1" },
      message: /PHOTOCAT_MODEL is not set/,
    },
  ],
});

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
    const analysis = await (
      await createOpenAIAnalyser(openaiSettings(config), { retry: FAST_RETRY })
    ).analyse(await photoInput());
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
});
