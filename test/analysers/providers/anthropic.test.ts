import exifr from "exifr";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createAnthropicAnalyser } from "../../../src/analysers/anthropic/index.js";
import { anthropicSettings } from "../../../src/analysers/registry.js";
import { ANSWER_TOOL_NAME, PROMPT_VERSION } from "../../../src/analysers/shared/prompt.js";
import { categorySlugs, DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";
import { remoteAnalyserContract } from "../../contracts/analyser.contract.js";
import {
  at,
  FAST_RETRY,
  type FakeReply,
  type FakeServer,
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
  return createAnthropicAnalyser(anthropicSettings(config), { retry: FAST_RETRY });
}

remoteAnalyserContract({
  name: "Anthropic",
  create: (baseUrl, env, options) =>
    createAnthropicAnalyser(
      anthropicSettings(
        testConfig({
          ANTHROPIC_API_KEY: "sk-ant-test",
          ...(baseUrl ? { ANTHROPIC_BASE_URL: baseUrl } : {}),
          ...env,
        }),
      ),
      options,
    ),
  answer: (answer) => toolUseMessage(answer),
  text: textMessage,
  error: (status, message, headers) => apiError(status, "api_error", message, headers),
  promptOf: (body) => textAt(body, "messages", 0, "content", 1, "text"),
  imageOf: (body) => Buffer.from(textAt(body, "messages", 0, "content", 0, "source", "data"), "base64"),
  keySetting: "ANTHROPIC_API_KEY",
  missingSettings: [{ env: { ANTHROPIC_API_KEY: "" }, message: /ANTHROPIC_API_KEY is not set/ }],
});

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

  it("parses a plain-text <json> answer after a scratchpad when Claude does not call the tool", async () => {
    const answer = `<scratchpad>Looks like shapes. <json>{"category":"documents"}</json></scratchpad>
<json>{"summary":"Geometric shapes on a gradient.","category":"art","tags":["Shapes","Gradient",],"alt_text":"Shapes","text":null,"confidence":0.7,}</json>`;
    const analyser = await analyserFor([textMessage(answer)]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    expect(analysis.tags).toEqual(["shapes", "gradient"]);
    expect(server!.requests).toHaveLength(1);
  });

  it("offers the tool without forcing it to Claude 5 models, which think by default", async () => {
    const analyser = await analyserFor([toolUseMessage(validAnswer())], {
      PHOTOCAT_MODEL: "claude-haiku-5-5",
    });
    const analysis = await analyser.analyse(await photoInput());
    expect(at(server!.json(0), "tool_choice")).toEqual({ type: "auto" });
    expect(analysis.provenance.model).toBe("claude-haiku-4-5-20251001");
  });
});
