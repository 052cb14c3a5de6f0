import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { Embedder } from "../ports/embedder.js";
import type { BedrockEmbedderSettings } from "./bedrock/embedder.js";
import type { OllamaEmbedderSettings } from "./ollama/embedder.js";
import type { OpenAIEmbedderSettings } from "./openai/embedder.js";
import type { EmbedderSettings } from "./shared/embedding.js";

// The one place where Config becomes each embedder's own settings: the embedding model, and the
// provider's connection and robustness settings shared with its analyser.

export function embedderSettings(config: Config): EmbedderSettings {
  const { timeoutMs, maxRetries, requestsPerMinute, prices } = config.providers;
  return {
    model: config.embeddings.model,
    maxPixels: config.maxPixels,
    timeoutMs,
    maxRetries,
    requestsPerMinute,
    prices,
  };
}

export function bedrockEmbedderSettings(config: Config): BedrockEmbedderSettings {
  return { ...embedderSettings(config), ...config.providers.bedrock };
}

export function openaiEmbedderSettings(config: Config): OpenAIEmbedderSettings {
  return { ...embedderSettings(config), ...config.providers.openai };
}

export function ollamaEmbedderSettings(config: Config): OllamaEmbedderSettings {
  return { ...embedderSettings(config), ...config.providers.ollama };
}

/**
 * The configured embedder (PHOTOCAT_EMBEDDINGS), or null when search by meaning is off. Each provider
 * module is imported lazily, so an SDK loads only when used; missing settings throw a
 * ConfigurationError that names the setting.
 */
export async function createEmbedder(
  config: Config,
  options: { logger?: Logger; fetch?: typeof fetch } = {},
): Promise<Embedder | null> {
  const { logger, fetch } = options;
  switch (config.embeddings.provider) {
    case null:
      return null;
    case "bedrock": {
      const { createBedrockEmbedder } = await import("./bedrock/embedder.js");
      return createBedrockEmbedder(bedrockEmbedderSettings(config), { logger });
    }
    case "openai": {
      const { createOpenAIEmbedder } = await import("./openai/embedder.js");
      return createOpenAIEmbedder(openaiEmbedderSettings(config), { logger, fetch });
    }
    case "ollama": {
      const { createOllamaEmbedder } = await import("./ollama/embedder.js");
      return createOllamaEmbedder(ollamaEmbedderSettings(config), { logger, fetch });
    }
  }
}
