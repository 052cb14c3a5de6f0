import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { Embedder } from "../ports/embedder.js";

/** Placeholder until the provider adapters land: no embedder is configured. */
export async function createEmbedder(
  _config: Config,
  _options: { logger?: Logger; fetch?: typeof fetch } = {},
): Promise<Embedder | null> {
  return null;
}
