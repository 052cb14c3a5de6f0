import type { EmbedResponse } from "ollama";
import type { Embedder } from "../../ports/embedder.js";
import {
  createRemoteEmbedder,
  type EmbedderOptions,
  type EmbedderSettings,
  type EmbeddingReply,
  type EmbeddingRequest,
} from "../shared/embedding.js";
import { callOllama, classifyOllamaError, type OllamaSettings, ollamaRetryAfter } from "./index.js";

/**
 * nomic-embed-text: a widely used embedding model of Ollama's library, small (137M parameters, 274 MB,
 * quick on a CPU beside the vision model), open weights, 768 dimensions, and better at English retrieval
 * than OpenAI's ada-002 by its authors' benchmarks (`ollama pull nomic-embed-text`).
 * PHOTOCAT_EMBEDDING_MODEL picks another one.
 */
export const DEFAULT_OLLAMA_EMBEDDING_MODEL = "nomic-embed-text";

/** Ollama truncates what does not fit the model's context (`truncate`, on by default); this only bounds the request. */
export const OLLAMA_MAX_TEXT_CHARS = 8000;

const isNomicEmbedText = (model: string) => /^nomic-embed-text(:|$)/.test(model);
/** nomic-embed-text's vector length; other models are held to their first answer's length. */
const NOMIC_DIMENSIONS = 768;

/**
 * nomic-embed-text was trained with task prefixes, and ranks noticeably worse without them: documents
 * (our photos' descriptions) and queries get different ones.
 */
export function withTaskPrefix(model: string, request: EmbeddingRequest): string {
  if (!isNomicEmbedText(model)) return request.text;
  return `${request.purpose === "query" ? "search_query" : "search_document"}: ${request.text}`;
}

/** Reads an /api/embed answer: the first input's vector (checked by the caller) and the tokens read. */
export function parseOllamaEmbed(response: EmbedResponse): EmbeddingReply {
  return {
    vector: Array.isArray(response?.embeddings) ? response.embeddings[0] : undefined,
    inputTokens: typeof response?.prompt_eval_count === "number" ? response.prompt_eval_count : 0,
  };
}

/** What the ollama embedder needs (mapped from Config in analysers/embedders.ts). */
export interface OllamaEmbedderSettings extends EmbedderSettings, Pick<OllamaSettings, "host"> {}

/** An Ollama server's /api/embed through the official client: text only, free. */
export async function createOllamaEmbedder(
  settings: OllamaEmbedderSettings,
  options: EmbedderOptions & { fetch?: typeof fetch } = {},
): Promise<Embedder> {
  const host = settings.host;
  const model = settings.model ?? DEFAULT_OLLAMA_EMBEDDING_MODEL;
  const baseFetch = options.fetch ?? fetch;
  return createRemoteEmbedder(
    {
      provider: "ollama",
      model,
      endpointKey: host,
      maxTextChars: OLLAMA_MAX_TEXT_CHARS,
      dimensions: isNomicEmbedText(model) ? NOMIC_DIMENSIONS : undefined,
      price: { input: 0, output: 0 },
      async send(request, signal) {
        return callOllama(host, baseFetch, signal, async (client) =>
          parseOllamaEmbed(await client.embed({ model, input: withTaskPrefix(model, request) })),
        );
      },
      classify: (error) => classifyOllamaError(error, host, model, ollamaRetryAfter(error)),
    },
    settings,
    options,
  );
}
