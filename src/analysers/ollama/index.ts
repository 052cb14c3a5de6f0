import { type ChatRequest, type ChatResponse, Ollama } from "ollama";
import type { Analyser } from "../../ports/analyser.js";
import { CLAUDE_IMAGE_LIMITS } from "../shared/image.js";
import {
  createModelAnalyser,
  type ModelAnalyserOptions,
  type ModelReply,
  type ModelRequest,
  type ModelSettings,
  type ModelTransport,
} from "../shared/model-analyser.js";
import { isNetworkError, unreachable } from "../shared/network.js";
import { type Failure, httpFailure, parseRetryAfter } from "../shared/retry.js";

/**
 * Qwen2.5-VL 7B: reads text in photos well, follows a JSON schema, answers without a thinking phase
 * and runs on an 8 GB GPU (`ollama pull qwen2.5vl:7b`). PHOTOCAT_MODEL picks another vision model.
 */
export const DEFAULT_OLLAMA_MODEL = "qwen2.5vl:7b";
const PROVIDER = "Ollama";

/** Builds an /api/chat request: base64 image, the shared prompt, `format` = the answer's JSON schema. */
export function buildOllamaChat(model: string, request: ModelRequest): ChatRequest & { stream: false } {
  const text = request.reask ? `${request.prompt.user}\n\n${request.reask}` : request.prompt.user;
  return {
    model,
    stream: false,
    format: request.schema,
    messages: [
      { role: "system", content: request.prompt.system },
      { role: "user", content: text, images: [request.image.bytes.toString("base64")] },
    ],
    options: { temperature: 0, num_predict: request.maxOutputTokens },
  };
}

export function parseOllamaChat(response: ChatResponse): ModelReply {
  return {
    text: response.message?.content ?? "",
    inputTokens: response.prompt_eval_count ?? 0,
    outputTokens: response.eval_count ?? 0,
    model: response.model || undefined,
    stopReason: response.done_reason === "length" ? "max_tokens" : response.done_reason,
  };
}

export function classifyOllamaError(
  error: unknown,
  host: string,
  model: string,
  retryAfterMs?: number,
): Failure {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: string;
    status_code?: number;
    message?: string;
  };
  const message = e.message ?? String(error);
  if (e.name === "ResponseError" && typeof e.status_code === "number") {
    if (e.status_code === 404) {
      return {
        retryable: false,
        reason: `${PROVIDER} has no model "${model}": run \`ollama pull ${model}\` (${message})`,
      };
    }
    if (/more system memory|out of memory|unable to load/i.test(message)) {
      return { retryable: false, reason: `${PROVIDER} cannot load "${model}": ${message}` };
    }
    return httpFailure(PROVIDER, e.status_code, message, { retryAfterMs });
  }
  if (isNetworkError(error) || (e.name === "TypeError" && message === "fetch failed")) {
    return unreachable(`${PROVIDER} at ${host} (is it running?)`, error);
  }
  return { retryable: false, reason: `${PROVIDER} call failed: ${message}` };
}

export interface OllamaOptions extends ModelAnalyserOptions {
  fetch?: typeof fetch;
}

/** What the ollama analyser needs (mapped from Config in analysers/registry.ts). */
export interface OllamaSettings extends ModelSettings {
  /** OLLAMA_HOST */
  host: string;
}

/** The client's errors carry no headers: the retry-after of the failed answer travels with the error. */
const RETRY_AFTER = Symbol("retryAfterMs");

/**
 * Makes one call with a client of its own, bound to `signal` (the client sends non-streaming requests
 * without one); a failed call's error carries the answer's retry-after (see ollamaRetryAfter).
 */
export async function callOllama<T>(
  host: string,
  baseFetch: typeof fetch,
  signal: AbortSignal,
  call: (client: Ollama) => Promise<T>,
): Promise<T> {
  let retryAfterMs: number | undefined;
  const client = new Ollama({
    host,
    fetch: async (input, init) => {
      const response = await baseFetch(input, { ...init, signal });
      retryAfterMs = parseRetryAfter(response.headers);
      return response;
    },
  });
  try {
    return await call(client);
  } catch (error) {
    if (typeof error === "object" && error !== null) Object.assign(error, { [RETRY_AFTER]: retryAfterMs });
    throw error;
  }
}

/** The retry-after of the answer that made callOllama fail, if the server sent one. */
export function ollamaRetryAfter(error: unknown): number | undefined {
  return (error as { [RETRY_AFTER]?: number } | null)?.[RETRY_AFTER];
}

/** A local Ollama server through its official client: /api/chat with images and a `format` schema. */
export async function createOllamaAnalyser(
  settings: OllamaSettings,
  options: OllamaOptions = {},
): Promise<Analyser> {
  const host = settings.host;
  const model = settings.model ?? DEFAULT_OLLAMA_MODEL;
  const baseFetch = options.fetch ?? fetch;
  const transport: ModelTransport = {
    provider: "ollama",
    model,
    endpointKey: host,
    // Ollama decodes JPEG and PNG everywhere; WebP only in recent versions.
    imageLimits: { ...CLAUDE_IMAGE_LIMITS, accepted: ["image/jpeg", "image/png"] },
    price: { input: 0, output: 0 },
    async send(request, signal) {
      return callOllama(host, baseFetch, signal, async (client) =>
        parseOllamaChat(await client.chat(buildOllamaChat(model, request))),
      );
    },
    classify: (error) => classifyOllamaError(error, host, model, ollamaRetryAfter(error)),
  };
  return createModelAnalyser(transport, settings, options);
}
