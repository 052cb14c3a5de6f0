import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createOllamaAnalyser, DEFAULT_OLLAMA_MODEL } from "../../../src/analysers/ollama/index.js";
import { ollamaSettings } from "../../../src/analysers/registry.js";
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

// Wire format of Ollama's native chat API (POST /api/chat, stream false).
function chat(content: string, doneReason = "stop"): FakeReply {
  return {
    body: {
      model: DEFAULT_OLLAMA_MODEL,
      created_at: "2026-11-26T10:00:00Z",
      message: { role: "assistant", content },
      done: true,
      done_reason: doneReason,
      total_duration: 5_000_000_000,
      load_duration: 1_000_000,
      prompt_eval_count: 1210,
      prompt_eval_duration: 3_000_000_000,
      eval_count: 84,
      eval_duration: 2_000_000_000,
    },
  };
}

const ollamaError = (status: number, error: string): FakeReply => ({ status, body: { error } });

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function analyserFor(replies: FakeReply[], env: Record<string, string> = {}) {
  server = await startFakeServer(replies);
  return createOllamaAnalyser(ollamaSettings(testConfig({ OLLAMA_HOST: server.url, ...env })), {
    retry: FAST_RETRY,
  });
}

remoteAnalyserContract({
  name: "Ollama",
  create: (baseUrl, env, options) =>
    createOllamaAnalyser(
      ollamaSettings(testConfig({ ...(baseUrl ? { OLLAMA_HOST: baseUrl } : {}), ...env })),
      options,
    ),
  answer: (answer) => chat(JSON.stringify(answer)),
  text: (text) => chat(text),
  error: (status, message, headers) => ({ ...ollamaError(status, message), headers }),
  promptOf: (body) => textAt(body, "messages", 1, "content"),
  imageOf: (body) => Buffer.from(textAt(body, "messages", 1, "images", 0), "base64"),
  // OLLAMA_HOST has a default: nothing is required.
  missingSettings: [],
});

const photo = makePhoto({ width: 1000, height: 800, format: "png", alpha: true });
const photoInput = async () => ({
  bytes: await photo,
  mediaType: "image/png",
  taxonomy: DEFAULT_TAXONOMY,
  language: "fr",
});

describe("ollama analyser", () => {
  it("sends a base64 image with the JSON schema as format and records a free analysis", async () => {
    const analyser = await analyserFor([chat(JSON.stringify(validAnswer()))]);
    const analysis = await analyser.analyse(await photoInput());
    expect(analysis.category).toBe("art");
    expect(analysis.provenance).toMatchObject({
      provider: "ollama",
      model: DEFAULT_OLLAMA_MODEL,
      inputTokens: 1210,
      outputTokens: 84,
      costUsd: 0,
    });
    expect(analyser.offline).toBe(false);

    expect(server!.requests[0]!.url).toBe("/api/chat");
    const body = server!.json(0);
    expect(at(body, "stream")).toBe(false);
    expect(at(body, "format", "properties", "category", "enum")).toEqual(categorySlugs(DEFAULT_TAXONOMY));
    expect(textAt(body, "messages", 0, "content")).toContain("in French");
    // A transparent PNG becomes a JPEG: Ollama's image decoders reliably take JPEG and PNG.
    const meta = await sharp(Buffer.from(textAt(body, "messages", 1, "images", 0), "base64")).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 1000, 800]);
  });

  it("falls back to the <json> parser when the model wraps its answer", async () => {
    const analyser = await analyserFor([
      chat(`Sure!\n\`\`\`json\n${JSON.stringify(validAnswer({ category: "food" }))}\n\`\`\``),
    ]);
    expect((await analyser.analyse(await photoInput())).category).toBe("food");
  });

  it("re-asks once when the answer is cut off, then fails with the reason", async () => {
    const analyser = await analyserFor([chat('{"summary": "A cat', "length")]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.code).toBe("analyser_output_invalid");
    expect(error.message).toContain("cut off");
    expect(server!.requests).toHaveLength(2);
  });

  it("says which model to pull when Ollama does not have it", async () => {
    const analyser = await analyserFor([
      ollamaError(404, `model "${DEFAULT_OLLAMA_MODEL}" not found, try pulling it first`),
    ]);
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`ollama pull ${DEFAULT_OLLAMA_MODEL}`);
    expect(server!.requests).toHaveLength(1);
  });

  it("reports an Ollama that is not running as retryable, naming the host", async () => {
    const probe = await startFakeServer([]);
    const host = probe.url;
    await probe.close();
    const analyser = await createOllamaAnalyser(
      ollamaSettings(testConfig({ OLLAMA_HOST: host, PHOTOCAT_MAX_RETRIES: "0" })),
    );
    const error = await failure(analyser.analyse(await photoInput()));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`could not reach Ollama at ${host}`);
  });
});
