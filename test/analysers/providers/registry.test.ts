import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  anthropicSettings,
  bedrockSettings,
  createAnalyser,
  localSettings,
  modelSettings,
  ollamaSettings,
  openaiSettings,
} from "../../../src/analysers/registry.js";
import { ConfigurationError, PhotocatError } from "../../../src/domain/errors.js";
import { DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";
import { testConfig } from "../shared/fixtures.js";

describe("createAnalyser", () => {
  it("builds the configured provider with its default model", async () => {
    const anthropic = await createAnalyser(
      testConfig({ PHOTOCAT_ANALYSER: "anthropic", ANTHROPIC_API_KEY: "k" }),
    );
    expect([anthropic.provider, anthropic.model]).toEqual(["anthropic", "claude-haiku-4-5"]);
    const bedrock = await createAnalyser(
      testConfig({ PHOTOCAT_ANALYSER: "bedrock", AWS_REGION: "eu-west-1" }),
    );
    expect([bedrock.provider, bedrock.model]).toEqual([
      "bedrock",
      "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    ]);
    await bedrock.close?.();
    const openai = await createAnalyser(testConfig({ OPENAI_API_KEY: "k" }), { name: "openai" });
    expect([openai.provider, openai.model]).toEqual(["openai", "gpt-5.6-luna"]);
    const ollama = await createAnalyser(testConfig({ PHOTOCAT_MODEL: "llama3.2-vision" }), {
      name: "ollama",
    });
    expect([ollama.provider, ollama.model]).toEqual(["ollama", "llama3.2-vision"]);
  });

  it("names the missing setting instead of failing later", async () => {
    const cases: [string, RegExp][] = [
      ["anthropic", /ANTHROPIC_API_KEY is not set/],
      ["bedrock", /AWS_REGION is not set/],
      ["openai", /OPENAI_API_KEY is not set/],
    ];
    for (const [name, message] of cases) {
      const attempt = createAnalyser(testConfig({ PHOTOCAT_ANALYSER: name }));
      await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
      await expect(createAnalyser(testConfig({ PHOTOCAT_ANALYSER: name }))).rejects.toThrow(message);
    }
    // The interim metadata analyser was replaced by the local one: the name is refused at start.
    expect(() => testConfig({ PHOTOCAT_ANALYSER: "metadata" })).toThrow(/must be one of local, anthropic/);
  });
});

describe("provider settings", () => {
  const config = testConfig({
    PHOTOCAT_MODEL: "some-model",
    PHOTOCAT_MAX_PIXELS: "1234567",
    PHOTOCAT_SHARE_CONTEXT: "on",
    PHOTOCAT_TIMEOUT_MS: "3000",
    PHOTOCAT_MAX_RETRIES: "3",
    PHOTOCAT_RPM: "60",
    PHOTOCAT_PRICES: '{"some-model":{"input":1,"output":2}}',
    ANTHROPIC_API_KEY: "sk-ant",
    ANTHROPIC_BASE_URL: "http://anthropic.test",
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: "http://bedrock.test",
    OPENAI_API_KEY: "sk-openai",
    OPENAI_BASE_URL: "http://openai.test/v1",
    OLLAMA_HOST: "http://ollama.test:11434",
  });
  const common = {
    model: "some-model",
    maxPixels: 1_234_567,
    shareContext: true,
    timeoutMs: 3000,
    maxRetries: 3,
    requestsPerMinute: 60,
    prices: { "some-model": { input: 1, output: 2 } },
  };

  it("maps Config to each analyser's own settings", () => {
    expect(modelSettings(config)).toEqual(common);
    expect(anthropicSettings(config)).toEqual({
      ...common,
      apiKey: "sk-ant",
      baseUrl: "http://anthropic.test",
    });
    expect(bedrockSettings(config)).toEqual({
      ...common,
      region: "eu-west-1",
      endpoint: "http://bedrock.test",
    });
    expect(openaiSettings(config)).toEqual({
      ...common,
      apiKey: "sk-openai",
      baseUrl: "http://openai.test/v1",
    });
    expect(ollamaSettings(config)).toEqual({ ...common, host: "http://ollama.test:11434" });
    expect(localSettings(config)).toEqual({ maxPixels: 1_234_567 });
  });

  it("gives the local analyser the pixel limit, which it honours", async () => {
    const analyser = await createAnalyser(testConfig({ PHOTOCAT_MAX_PIXELS: "10000" }), { name: "local" });
    const small = await sharp({ create: { width: 90, height: 90, channels: 3, background: "#3a6" } })
      .png()
      .toBuffer();
    const large = await sharp({ create: { width: 400, height: 300, channels: 3, background: "#3a6" } })
      .png()
      .toBuffer();
    const input = { mediaType: "image/png", taxonomy: DEFAULT_TAXONOMY, language: "en" };
    const error = await analyser.analyse({ ...input, bytes: large }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhotocatError);
    expect((error as PhotocatError).message).toMatch(/pixel/i);
    // Under the limit the same analyser describes the photo.
    const analysis = await analyser.analyse({ ...input, bytes: small });
    expect(analysis.provenance.provider).toBe("local");
    await analyser.close?.();
  }, 120_000);
});
