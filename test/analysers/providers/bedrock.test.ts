import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createBedrockAnalyser, defaultBedrockModel } from "../../../src/analysers/bedrock/index.js";
import { bedrockSettings } from "../../../src/analysers/registry.js";
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
import { awsError, converseText, converseToolUse, useFakeAwsCredentials } from "./bedrock-wire.js";

useFakeAwsCredentials();

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function analyserFor(replies: FakeReply[], env: Record<string, string> = {}) {
  server = await startFakeServer(replies, { http2: true });
  const config = testConfig({
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: server.url,
    ...env,
  });
  return createBedrockAnalyser(bedrockSettings(config), { retry: FAST_RETRY });
}

/** The error type Bedrock sends with each status. */
const ERROR_TYPES: Record<number, string> = {
  400: "ValidationException",
  401: "UnrecognizedClientException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  408: "ModelTimeoutException",
  409: "ConflictException",
  429: "ThrottlingException",
  500: "InternalServerException",
  502: "ModelErrorException",
  503: "ServiceUnavailableException",
};

remoteAnalyserContract({
  name: "Bedrock",
  http2: true,
  create: (baseUrl, env, options) =>
    createBedrockAnalyser(
      bedrockSettings(
        testConfig({
          AWS_REGION: "us-east-1",
          ...(baseUrl ? { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: baseUrl } : {}),
          ...env,
        }),
      ),
      options,
    ),
  answer: converseToolUse,
  text: converseText,
  error: (status, message, headers) =>
    awsError(status, ERROR_TYPES[status] ?? "InternalServerException", message, headers),
  promptOf: (body) => textAt(body, "messages", 0, "content", 1, "text"),
  imageOf: (body) =>
    Buffer.from(textAt(body, "messages", 0, "content", 0, "image", "source", "bytes"), "base64"),
  keySetting: "AWS credentials",
  missingSettings: [{ env: { AWS_REGION: "", AWS_DEFAULT_REGION: "" }, message: /AWS_REGION is not set/ }],
});

const photo = makePhoto({ width: 3000, height: 4000, format: "png" });
const photoInput = async (extra: Record<string, unknown> = {}) => ({
  bytes: await photo,
  mediaType: "image/png",
  taxonomy: DEFAULT_TAXONOMY,
  language: "en",
  context: { takenAt: "2024-05-01T10:00:00Z", place: "Lisbon, Portugal" },
  ...extra,
});

describe("bedrock analyser", () => {
  it("defaults to the Claude Haiku 4.5 inference profile of the region", () => {
    expect(defaultBedrockModel("us-west-2")).toBe("us.anthropic.claude-haiku-4-5-20251001-v1:0");
    expect(defaultBedrockModel("eu-central-1")).toBe("eu.anthropic.claude-haiku-4-5-20251001-v1:0");
    expect(defaultBedrockModel("ap-northeast-1")).toBe("apac.anthropic.claude-haiku-4-5-20251001-v1:0");
    expect(defaultBedrockModel("sa-east-1")).toBe("global.anthropic.claude-haiku-4-5-20251001-v1:0");
  });

  it("calls Converse with a signed request, raw image bytes and a forced tool", async () => {
    const analyser = await analyserFor([converseToolUse(validAnswer())]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    expect(analysis.provenance).toMatchObject({
      provider: "bedrock",
      model: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
      promptVersion: PROMPT_VERSION,
      inputTokens: 1580,
      outputTokens: 110,
      costUsd: (1580 * 1 + 110 * 5) / 1e6,
    });

    const request = server!.requests[0]!;
    expect(decodeURIComponent(request.url)).toBe(
      "/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/converse",
    );
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
    const body = server!.json(0);
    expect(at(body, "toolConfig", "toolChoice")).toEqual({ tool: { name: ANSWER_TOOL_NAME } });
    expect(
      at(body, "toolConfig", "tools", 0, "toolSpec", "inputSchema", "json", "properties", "category", "enum"),
    ).toEqual(categorySlugs(DEFAULT_TAXONOMY));
    expect(textAt(body, "system", 0, "text")).toContain("Never identify private people");
    // A PNG original goes as a JPEG within Claude's limits; context stays home (sharing is off).
    const image = at(body, "messages", 0, "content", 0, "image");
    expect(at(image, "format")).toBe("jpeg");
    const meta = await sharp(Buffer.from(textAt(image, "source", "bytes"), "base64")).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 928, 1238]);
    expect(textAt(body, "messages", 0, "content", 1, "text")).not.toContain("Lisbon");
  });

  it("works with the seed's Claude 3 Haiku model id and its price", async () => {
    const analyser = await analyserFor([converseToolUse(validAnswer())], {
      PHOTOCAT_MODEL: "anthropic.claude-3-haiku-20240307-v1:0",
    });
    const analysis = await analyser.analyse(await photoInput());
    expect(decodeURIComponent(server!.requests[0]!.url)).toBe(
      "/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
    );
    expect(analysis.provenance.costUsd).toBeCloseTo((1580 * 0.25 + 110 * 1.25) / 1e6, 12);
  });

  it("falls back to the <json> parser for a text answer and shares context when allowed", async () => {
    const analyser = await analyserFor(
      [
        converseText(
          `<scratchpad>hmm</scratchpad><json>${JSON.stringify(validAnswer({ category: "nature" }))}</json>`,
        ),
      ],
      { PHOTOCAT_SHARE_CONTEXT: "on" },
    );
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("nature");
    expect(textAt(server!.json(0), "messages", 0, "content", 1, "text")).toContain("Lisbon, Portugal");
  });
});
