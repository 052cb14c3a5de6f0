import type { CreateEmbeddingResponse } from "openai/resources/embeddings";
import { isOpenAIItself } from "../../config.js";
import { ConfigurationError } from "../../domain/errors.js";
import type { Embedder } from "../../ports/embedder.js";
import {
  createRemoteEmbedder,
  type EmbedderOptions,
  type EmbedderSettings,
  type EmbeddingReply,
} from "../shared/embedding.js";
import { classifyOpenAIError, createOpenAIClient, type OpenAISettings } from "./index.js";

/** OpenAI's cheapest current embedding model ($0.02 per million tokens), good enough to rank descriptions. */
export const DEFAULT_OPENAI_EMBEDDING_MODEL = "text-embedding-3-small";

/**
 * The vector lengths of OpenAI's own models. Other servers' models (some serve local models under these
 * names) are held to their first answer's length.
 */
const OPENAI_DIMENSIONS: Readonly<Record<string, number>> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

/** OpenAI's models read 8,191 tokens; a token is at least one character, so this many always fit. */
export const OPENAI_MAX_TEXT_CHARS = 8000;

/** Reads an /embeddings answer: the first item's vector (checked by the caller) and the prompt tokens. */
export function parseEmbeddingResponse(response: CreateEmbeddingResponse): EmbeddingReply {
  const usage = response?.usage as { prompt_tokens?: unknown } | undefined;
  return {
    vector: Array.isArray(response?.data) ? response.data[0]?.embedding : undefined,
    inputTokens: typeof usage?.prompt_tokens === "number" ? usage.prompt_tokens : 0,
  };
}

/** What the openai embedder needs (mapped from Config in analysers/embedders.ts). */
export interface OpenAIEmbedderSettings
  extends EmbedderSettings,
    Pick<OpenAISettings, "apiKey" | "baseUrl"> {}

/**
 * OpenAI or any OpenAI-compatible /v1/embeddings (vLLM, LM Studio, llama.cpp, Ollama's /v1): text only,
 * so a photo is embedded by its description.
 */
export async function createOpenAIEmbedder(
  settings: OpenAIEmbedderSettings,
  options: EmbedderOptions & { fetch?: typeof fetch } = {},
): Promise<Embedder> {
  const { apiKey, baseUrl } = settings;
  const isOpenAI = isOpenAIItself(baseUrl);
  if (!apiKey && isOpenAI) {
    throw new ConfigurationError(
      "OPENAI_API_KEY is not set: the openai embedder (PHOTOCAT_EMBEDDINGS=openai) needs it (or set OPENAI_BASE_URL to an OpenAI-compatible server)",
    );
  }
  if (!isOpenAI && !settings.model) {
    throw new ConfigurationError(
      `PHOTOCAT_EMBEDDING_MODEL is not set: name the embedding model served at ${baseUrl} (OPENAI_BASE_URL)`,
    );
  }
  const client = createOpenAIClient(settings, options.fetch);
  const model = settings.model ?? DEFAULT_OPENAI_EMBEDDING_MODEL;
  return createRemoteEmbedder(
    {
      provider: "openai",
      model,
      endpointKey: client.baseURL,
      maxTextChars: OPENAI_MAX_TEXT_CHARS,
      dimensions: isOpenAI ? OPENAI_DIMENSIONS[model] : undefined,
      async send(request, signal) {
        // Plain floats: every compatible server speaks them (the SDK's default, base64, is not universal).
        const response = await client.embeddings.create(
          { model, input: request.text, encoding_format: "float" },
          { signal },
        );
        return parseEmbeddingResponse(response);
      },
      classify: classifyOpenAIError,
    },
    settings,
    options,
  );
}
