import { describe, expect, it } from "vitest";
import { createAnalyser } from "../../../src/analysers/registry.js";
import { ConfigurationError } from "../../../src/domain/errors.js";
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
