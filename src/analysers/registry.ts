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

interface LocalModule {
  createLocalAnalyser(options: { logger?: Logger }): Promise<Analyser>;
}

// Computed so TypeScript does not require the local analyser's module while it is being built;
// replace with a plain `import("./local/index.js")` once src/analysers/local/index.ts exists.
const LOCAL_MODULE = "./local/index.js";

/**
 * Picks the configured analyser. Each provider module is imported lazily, so an SDK loads only when
 * its provider is used. Missing settings throw a ConfigurationError that names the setting.
 */
export async function createAnalyser(config: Config, options: CreateAnalyserOptions = {}): Promise<Analyser> {
  const name = options.name ?? config.analyser;
  const { logger, fetch } = options;
  switch (name) {
    case "local": {
      const local = (await import(LOCAL_MODULE)) as LocalModule;
      return local.createLocalAnalyser({ logger });
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
    case "metadata":
      throw new ConfigurationError(
        'PHOTOCAT_ANALYSER=metadata is not available: use "local" for offline analysis or a model provider',
      );
    default:
      throw new ConfigurationError(`PHOTOCAT_ANALYSER: unknown analyser "${String(name)}"`);
  }
}
