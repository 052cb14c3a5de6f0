import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from "openai/resources/chat/completions";
import type { ReasoningEffort } from "openai/resources/shared";
import { isOpenAIItself } from "../../config.js";
import { ConfigurationError } from "../../domain/errors.js";
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
import { ANSWER_TOOL_NAME } from "../shared/prompt.js";
import { type Failure, httpFailure, parseRetryAfter } from "../shared/retry.js";

/** OpenAI's small, cheap vision model with structured outputs (the successor of gpt-4o-mini). */
export const DEFAULT_OPENAI_MODEL = "gpt-5.6-luna";
export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
const PROVIDER = "OpenAI";

/**
 * OpenAI's reasoning models think before answering unless told not to; describing a photo needs no
 * deliberation, so ask for the least effort each family accepts. Other servers get no such field.
 */
export function reasoningEffortFor(model: string): ReasoningEffort | undefined {
  if (/^(gpt-5\.[1-9]|gpt-[6-9])/.test(model)) return "none";
  if (/^gpt-5(-|$)/.test(model)) return "minimal";
  if (/^o\d/.test(model)) return "low";
  return undefined;
}

/** Builds a chat completion request: image as a data URL, answer constrained by a strict JSON schema. */
export function buildChatParams(
  model: string,
  request: ModelRequest,
): ChatCompletionCreateParamsNonStreaming {
  const text = request.reask ? `${request.prompt.user}\n\n${request.reask}` : request.prompt.user;
  const dataUrl = `data:${request.image.mediaType};base64,${request.image.bytes.toString("base64")}`;
  const effort = reasoningEffortFor(model);
  return {
    model,
    messages: [
      { role: "system", content: request.prompt.system },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: dataUrl, detail: "auto" } },
          { type: "text", text },
        ],
      },
    ],
    response_format: {
      type: "json_schema",
      json_schema: { name: ANSWER_TOOL_NAME, strict: true, schema: request.schema },
    },
    max_completion_tokens: request.maxOutputTokens,
    ...(effort ? { reasoning_effort: effort } : {}),
  };
}

/** Reads a chat completion: the content is JSON when the server honoured the schema, else text for the parser. */
export function parseChatCompletion(completion: ChatCompletion): ModelReply {
  const choice = completion.choices?.[0];
  const refusal = choice?.message?.refusal;
  return {
    text: refusal ? "" : (choice?.message?.content ?? ""),
    inputTokens: completion.usage?.prompt_tokens ?? 0,
    outputTokens: completion.usage?.completion_tokens ?? 0,
    model: completion.model || undefined,
    stopReason:
      refusal || choice?.finish_reason === "content_filter"
        ? "refusal"
        : (choice?.finish_reason ?? undefined),
  };
}

export function classifyOpenAIError(error: unknown): Failure {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return { retryable: true, reason: `${PROVIDER} did not answer in time` };
  }
  if (error instanceof OpenAI.APIConnectionError || isNetworkError(error)) {
    return unreachable(`the ${PROVIDER}-compatible server`, error);
  }
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const body = error.error as { message?: unknown } | undefined;
    const detail = typeof body?.message === "string" ? body.message : error.message;
    return httpFailure(PROVIDER, error.status, detail, {
      keySetting: "OPENAI_API_KEY",
      retryAfterMs: parseRetryAfter(error.headers),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return { retryable: false, reason: `${PROVIDER} call failed: ${message}` };
}

export interface OpenAIOptions extends ModelAnalyserOptions {
  fetch?: typeof fetch;
}

/** What the openai analyser needs (mapped from Config in analysers/registry.ts). */
export interface OpenAISettings extends ModelSettings {
  /** OPENAI_API_KEY; optional for a compatible server. */
  apiKey: string | null;
  /** OPENAI_BASE_URL; null for OpenAI itself. */
  baseUrl: string | null;
}

/** The official client for OpenAI or the compatible server at OPENAI_BASE_URL; retries are ours. */
export function createOpenAIClient(
  settings: Pick<OpenAISettings, "apiKey" | "baseUrl" | "timeoutMs">,
  fetchImpl?: typeof fetch,
): OpenAI {
  return new OpenAI({
    // Local servers usually take any key.
    apiKey: settings.apiKey ?? "not-needed",
    baseURL: settings.baseUrl ?? OPENAI_DEFAULT_BASE_URL,
    maxRetries: 0,
    timeout: settings.timeoutMs,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** OpenAI or any OpenAI-compatible server (vLLM, LM Studio, llama.cpp) through chat completions. */
export async function createOpenAIAnalyser(
  settings: OpenAISettings,
  options: OpenAIOptions = {},
): Promise<Analyser> {
  const { apiKey, baseUrl } = settings;
  const isOpenAI = isOpenAIItself(baseUrl);
  if (!apiKey && isOpenAI) {
    throw new ConfigurationError(
      "OPENAI_API_KEY is not set: the openai analyser needs it (or set OPENAI_BASE_URL to an OpenAI-compatible server)",
    );
  }
  if (!isOpenAI && !apiKey && !settings.model) {
    throw new ConfigurationError(
      `PHOTOCAT_MODEL is not set: name the vision model served at ${baseUrl} (OPENAI_BASE_URL)`,
    );
  }
  const client = createOpenAIClient(settings, options.fetch);
  const model = settings.model ?? DEFAULT_OPENAI_MODEL;
  const transport: ModelTransport = {
    provider: "openai",
    model,
    endpointKey: client.baseURL,
    imageLimits: CLAUDE_IMAGE_LIMITS,
    async send(request, signal) {
      const completion = await client.chat.completions.create(buildChatParams(model, request), { signal });
      return parseChatCompletion(completion);
    },
    classify: classifyOpenAIError,
  };
  return createModelAnalyser(transport, settings, options);
}
