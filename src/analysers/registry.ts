import type { AnalyserName, Config } from "../config.js";
import { ConfigurationError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Analyser } from "../ports/analyser.js";
import type { AnthropicSettings } from "./anthropic/index.js";
import type { BedrockSettings } from "./bedrock/index.js";
import type { LocalAnalyserOptions } from "./local/index.js";
import type { OllamaSettings } from "./ollama/index.js";
import type { OpenAISettings } from "./openai/index.js";
import type { ModelSettings } from "./shared/model-analyser.js";

export interface CreateAnalyserOptions {
  logger?: Logger;
  /** Overrides config.analyser (e.g. `photocat analyse --provider`). */
  name?: AnalyserName;
  /** Replaces global fetch for the providers whose SDK takes one (tests, proxies). */
  fetch?: typeof fetch;
}

// The one place where Config becomes each analyser's own settings.

export function localSettings(config: Config): Pick<LocalAnalyserOptions, "maxPixels"> {
  return { maxPixels: config.maxPixels };
}

export function modelSettings(config: Config): ModelSettings {
  const { timeoutMs, maxRetries, requestsPerMinute, prices } = config.providers;
  return {
    model: config.model,
    maxPixels: config.maxPixels,
    shareContext: config.shareContext,
    timeoutMs,
    maxRetries,
    requestsPerMinute,
    prices,
  };
}

export function anthropicSettings(config: Config): AnthropicSettings {
  return { ...modelSettings(config), ...config.providers.anthropic };
}

export function bedrockSettings(config: Config): BedrockSettings {
  return { ...modelSettings(config), ...config.providers.bedrock };
}

export function openaiSettings(config: Config): OpenAISettings {
  return { ...modelSettings(config), ...config.providers.openai };
}

export function ollamaSettings(config: Config): OllamaSettings {
  return { ...modelSettings(config), ...config.providers.ollama };
}

/**
 * Picks the configured analyser. Each provider module is imported lazily, so an SDK loads only when
 * its provider is used. Missing settings throw a ConfigurationError that names the setting.
 */
export async function createAnalyser(config: Config, options: CreateAnalyserOptions = {}): Promise<Analyser> {
  const name = options.name ?? config.analyser;
  const { logger, fetch } = options;
  switch (name) {
    case "local": {
      const { createLocalAnalyser } = await import("./local/index.js");
      return createLocalAnalyser({ logger, ...localSettings(config) });
    }
    case "anthropic": {
      const { createAnthropicAnalyser } = await import("./anthropic/index.js");
      return createAnthropicAnalyser(anthropicSettings(config), { logger, fetch });
    }
    case "bedrock": {
      const { createBedrockAnalyser } = await import("./bedrock/index.js");
      return createBedrockAnalyser(bedrockSettings(config), { logger });
    }
    case "openai": {
      const { createOpenAIAnalyser } = await import("./openai/index.js");
      return createOpenAIAnalyser(openaiSettings(config), { logger, fetch });
    }
    case "ollama": {
      const { createOllamaAnalyser } = await import("./ollama/index.js");
      return createOllamaAnalyser(ollamaSettings(config), { logger, fetch });
    }
    default:
      throw new ConfigurationError(`PHOTOCAT_ANALYSER: unknown analyser "${String(name)}"`);
  }
}

/** Claude's Message Batches client for this configuration (loaded on first use, like the analysers). */
export async function createBatchApi(config: Config) {
  const { createAnthropicBatches } = await import("./anthropic/batch.js");
  return createAnthropicBatches(anthropicSettings(config));
}

export type BatchApi = Awaited<ReturnType<typeof createBatchApi>>;
