import type { AnalyserName, Config } from "../config.js";
import { ConfigurationError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Analyser } from "../ports/analyser.js";

export interface CreateAnalyserOptions {
  logger?: Logger;
  /** Overrides config.analyser (e.g. `photocat analyse --provider`). */
  name?: AnalyserName;
  /** Replaces global fetch for the providers whose SDK takes one (tests, proxies). */
  fetch?: typeof fetch;
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
      return createLocalAnalyser({ logger });
    }
    case "anthropic": {
      const { createAnthropicAnalyser } = await import("./anthropic/index.js");
      return createAnthropicAnalyser(config, { logger, fetch });
    }
    case "bedrock": {
      const { createBedrockAnalyser } = await import("./bedrock/index.js");
      return createBedrockAnalyser(config, { logger });
    }
    case "openai": {
      const { createOpenAIAnalyser } = await import("./openai/index.js");
      return createOpenAIAnalyser(config, { logger, fetch });
    }
    case "ollama": {
      const { createOllamaAnalyser } = await import("./ollama/index.js");
      return createOllamaAnalyser(config, { logger, fetch });
    }
    default:
      throw new ConfigurationError(`PHOTOCAT_ANALYSER: unknown analyser "${String(name)}"`);
  }
}
