import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { createEmbedder, embedderSettings } from "../../../src/analysers/embedders.js";
import { embeddingCostUsd, priceFor } from "../../../src/analysers/shared/prices.js";
import { addSettingFlags, configFromFlags, EMBEDDING_SETTINGS } from "../../../src/cli/settings-flags.js";
import { loadConfig } from "../../../src/config.js";
import { ConfigurationError } from "../../../src/domain/errors.js";
import { testConfig } from "../shared/fixtures.js";

describe("embedding settings", () => {
  it("default to the analyser's provider when it has an embeddings API, else off", () => {
    const provider = (analyser: string) => loadConfig({ PHOTOCAT_ANALYSER: analyser }).embeddings.provider;
    expect(provider("local")).toBeNull();
    expect(provider("anthropic")).toBeNull();
    expect(provider("bedrock")).toBe("bedrock");
    expect(provider("openai")).toBe("openai");
    expect(provider("ollama")).toBe("ollama");
    expect(loadConfig({}).embeddings).toEqual({ provider: null, model: null });
  });

  it("stay off by default for an OpenAI-compatible server, which has no default embedding model", () => {
    const compatible = { PHOTOCAT_ANALYSER: "openai", OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" };
    expect(loadConfig(compatible).embeddings.provider).toBeNull();
    expect(loadConfig({ ...compatible, PHOTOCAT_EMBEDDING_MODEL: "bge-m3" }).embeddings).toEqual({
      provider: "openai",
      model: "bge-m3",
    });
    expect(
      loadConfig({ PHOTOCAT_ANALYSER: "openai", OPENAI_BASE_URL: "https://api.openai.com/v1" }).embeddings
        .provider,
    ).toBe("openai");
  });

  it("take PHOTOCAT_EMBEDDINGS over the default, in any case, and the model as given", () => {
    expect(
      loadConfig({ PHOTOCAT_ANALYSER: "bedrock", PHOTOCAT_EMBEDDINGS: "off" }).embeddings.provider,
    ).toBeNull();
    expect(loadConfig({ PHOTOCAT_EMBEDDINGS: "Ollama" }).embeddings.provider).toBe("ollama");
    expect(
      loadConfig({ PHOTOCAT_ANALYSER: "anthropic", PHOTOCAT_EMBEDDINGS: "openai" }).embeddings.provider,
    ).toBe("openai");
    expect(loadConfig({ PHOTOCAT_EMBEDDING_MODEL: " mxbai-embed-large " }).embeddings.model).toBe(
      "mxbai-embed-large",
    );
  });

  it("refuse an unknown provider, naming the setting or the flag typed", () => {
    expect(() => loadConfig({ PHOTOCAT_EMBEDDINGS: "gpt" })).toThrow(ConfigurationError);
    expect(() => loadConfig({ PHOTOCAT_EMBEDDINGS: "gpt" })).toThrow(
      /^PHOTOCAT_EMBEDDINGS must be off or one of bedrock, openai, ollama \(got "gpt"\)$/,
    );
    expect(() => loadConfig({ PHOTOCAT_EMBEDDINGS: "anthropic" })).toThrow(/Anthropic has no embeddings API/);
    expect(() => configFromFlags({ embeddings: "yes" }, {}, {})).toThrow(
      /^--embeddings must be off or one of/,
    );
  });

  it("have flags, which win over the environment", () => {
    const command = addSettingFlags(new Command(), EMBEDDING_SETTINGS);
    command.parse(["--embeddings", "ollama", "--embedding-model", "all-minilm"], { from: "user" });
    expect(configFromFlags(command.opts(), {}, { PHOTOCAT_EMBEDDINGS: "openai" }).embeddings).toEqual({
      provider: "ollama",
      model: "all-minilm",
    });
  });

  it("price embedding models by token and image, and take overrides without an output price", () => {
    const titan = priceFor("amazon.titan-embed-image-v1");
    expect(titan).toEqual({ input: 0.8, output: 0, image: 0.00006 });
    expect(embeddingCostUsd(titan, 1000, 1)).toBeCloseTo(0.0008 + 0.00006, 10);
    expect(embeddingCostUsd(priceFor("text-embedding-3-large"), 1_000_000, 0)).toBeCloseTo(0.13, 10);
    const prices = loadConfig({ PHOTOCAT_PRICES: '{"my-embedder":{"input":0.5,"image":0.001}}' }).providers
      .prices;
    expect(prices["my-embedder"]).toEqual({ input: 0.5, output: 0, image: 0.001 });
    expect(() => loadConfig({ PHOTOCAT_PRICES: '{"m":{"input":1,"image":-1}}' })).toThrow(ConfigurationError);
  });
});

describe("createEmbedder", () => {
  it("is null when search by meaning is off", async () => {
    expect(await createEmbedder(testConfig({}))).toBeNull();
    expect(
      await createEmbedder(testConfig({ PHOTOCAT_ANALYSER: "ollama", PHOTOCAT_EMBEDDINGS: "off" })),
    ).toBeNull();
  });

  it("builds the configured provider with its default model, or the one set", async () => {
    const bedrock = await createEmbedder(
      testConfig({ PHOTOCAT_ANALYSER: "bedrock", AWS_REGION: "eu-west-1" }),
    );
    expect([bedrock?.provider, bedrock?.model, bedrock?.seesImages]).toEqual([
      "bedrock",
      "amazon.titan-embed-image-v1",
      true,
    ]);
    await bedrock?.close?.();
    const openai = await createEmbedder(testConfig({ PHOTOCAT_EMBEDDINGS: "openai", OPENAI_API_KEY: "k" }));
    expect([openai?.provider, openai?.model, openai?.seesImages]).toEqual([
      "openai",
      "text-embedding-3-small",
      false,
    ]);
    const ollama = await createEmbedder(testConfig({ PHOTOCAT_EMBEDDINGS: "ollama" }));
    expect([ollama?.provider, ollama?.model, ollama?.seesImages]).toEqual([
      "ollama",
      "nomic-embed-text",
      false,
    ]);
    const chosen = await createEmbedder(
      testConfig({ PHOTOCAT_EMBEDDINGS: "ollama", PHOTOCAT_EMBEDDING_MODEL: "mxbai-embed-large" }),
    );
    expect(chosen?.model).toBe("mxbai-embed-large");
  });

  it("names the missing setting instead of failing later", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { PHOTOCAT_EMBEDDINGS: "bedrock" },
        /AWS_REGION is not set: the bedrock embedder \(PHOTOCAT_EMBEDDINGS=bedrock\)/,
      ],
      [{ PHOTOCAT_EMBEDDINGS: "openai" }, /OPENAI_API_KEY is not set: the openai embedder/],
      [
        { PHOTOCAT_EMBEDDINGS: "openai", OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" },
        /PHOTOCAT_EMBEDDING_MODEL is not set: name the embedding model served at http:\/\/127.0.0.1:8000\/v1/,
      ],
    ];
    for (const [env, message] of cases) {
      const error = await createEmbedder(testConfig(env)).catch((e: unknown) => e);
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("shares the analysers' robustness settings: timeout, retries, pace, prices and pixel limit", () => {
    const settings = embedderSettings(
      testConfig({ PHOTOCAT_RPM: "30", PHOTOCAT_MAX_PIXELS: "5000000", PHOTOCAT_EMBEDDING_MODEL: "m" }),
    );
    expect(settings).toEqual({
      model: "m",
      maxPixels: 5_000_000,
      timeoutMs: 2000,
      maxRetries: 2,
      requestsPerMinute: 30,
      prices: {},
    });
  });
});
