import { type ChatRequest, type ChatResponse, Ollama } from "ollama";
import type { Config } from "../../config.js";
import type { Analyser } from "../../ports/analyser.js";
import { CLAUDE_IMAGE_LIMITS } from "../shared/image.js";
import {
  createModelAnalyser,
  type ModelAnalyserOptions,
  type ModelReply,
  type ModelRequest,
  type ModelTransport,
} from "../shared/model-analyser.js";
import { type Failure, httpFailure } from "../shared/retry.js";

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

export function classifyOllamaError(error: unknown, host: string, model: string): Failure {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: string;
    status_code?: number;
    message?: string;
    cause?: { code?: string; message?: string };
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
    return httpFailure(PROVIDER, e.status_code, message);
  }
  if (e.name === "TypeError" || e.cause?.code) {
    const cause = e.cause?.message ?? e.cause?.code ?? message;
    return { retryable: true, reason: `could not reach ${PROVIDER} at ${host} (is it running?): ${cause}` };
  }
  return { retryable: false, reason: `${PROVIDER} call failed: ${message}` };
}

export interface OllamaOptions extends ModelAnalyserOptions {
  fetch?: typeof fetch;
}

/** A local Ollama server through its official client: /api/chat with images and a `format` schema. */
export async function createOllamaAnalyser(config: Config, options: OllamaOptions = {}): Promise<Analyser> {
  const host = config.providers.ollama.host;
  const model = config.model ?? DEFAULT_OLLAMA_MODEL;
  const baseFetch = options.fetch ?? fetch;
  const transport: ModelTransport = {
    provider: "ollama",
    model,
    endpointKey: host,
    // Ollama decodes JPEG and PNG everywhere; WebP only in recent versions.
    imageLimits: { ...CLAUDE_IMAGE_LIMITS, accepted: ["image/jpeg", "image/png"] },
    price: { input: 0, output: 0 },
    async send(request, signal) {
      // The client sends non-streaming requests without a signal: give each call its own.
      const client = new Ollama({ host, fetch: (input, init) => baseFetch(input, { ...init, signal }) });
      return parseOllamaChat(await client.chat(buildOllamaChat(model, request)));
    },
    classify: (error) => classifyOllamaError(error, host, model),
  };
  return createModelAnalyser(transport, config, options);
}
