import Anthropic from "@anthropic-ai/sdk";
import { ConfigurationError } from "../../domain/errors.js";
import type { Analyser } from "../../ports/analyser.js";
import { CLAUDE_IMAGE_LIMITS } from "../shared/image.js";
import {
  createModelAnalyser,
  type ModelAnalyserOptions,
  type ModelSettings,
  type ModelTransport,
} from "../shared/model-analyser.js";
import { isNetworkError, unreachable } from "../shared/network.js";
import { type Failure, httpFailure, parseRetryAfter } from "../shared/retry.js";
import { buildMessageParams, DEFAULT_ANTHROPIC_MODEL, parseMessage } from "./messages.js";

export interface AnthropicOptions extends ModelAnalyserOptions {
  fetch?: typeof fetch;
}

/** What the anthropic analyser needs (mapped from Config in analysers/registry.ts). */
export interface AnthropicSettings extends ModelSettings {
  /** ANTHROPIC_API_KEY */
  apiKey: string | null;
  /** ANTHROPIC_BASE_URL; null for the public API. */
  baseUrl: string | null;
}

const PROVIDER = "Anthropic";
export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";

/** The official client; retries are ours (one policy for every provider). */
export function createAnthropicClient(
  settings: Pick<AnthropicSettings, "apiKey" | "baseUrl" | "timeoutMs">,
  options: { fetch?: typeof fetch } = {},
): Anthropic {
  const { apiKey, baseUrl } = settings;
  if (!apiKey) throw new ConfigurationError("ANTHROPIC_API_KEY is not set: the anthropic analyser needs it");
  return new Anthropic({
    apiKey,
    baseURL: baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL,
    maxRetries: 0,
    timeout: settings.timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** Turns anything the Anthropic SDK throws into a failure with a reason and a retry verdict. */
export function classifyAnthropicError(error: unknown): Failure {
  if (error instanceof Anthropic.APIConnectionTimeoutError) {
    return { retryable: true, reason: `${PROVIDER} did not answer in time` };
  }
  // A connection error, or a connection dropped while the answer was read.
  if (error instanceof Anthropic.APIConnectionError || isNetworkError(error)) {
    return unreachable(PROVIDER, error);
  }
  if (error instanceof Anthropic.APIError && typeof error.status === "number") {
    const detail = error.apiMessage ?? error.message;
    return httpFailure(PROVIDER, error.status, detail, {
      keySetting: "ANTHROPIC_API_KEY",
      retryAfterMs: parseRetryAfter(error.headers),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return { retryable: false, reason: `${PROVIDER} call failed: ${message}` };
}

/** Claude through the Messages API, with one forced answer tool whose schema lists the taxonomy. */
export async function createAnthropicAnalyser(
  settings: AnthropicSettings,
  options: AnthropicOptions = {},
): Promise<Analyser> {
  const client = createAnthropicClient(settings, options);
  const model = settings.model ?? DEFAULT_ANTHROPIC_MODEL;
  const transport: ModelTransport = {
    provider: "anthropic",
    model,
    endpointKey: client.baseURL,
    imageLimits: CLAUDE_IMAGE_LIMITS,
    async send(request, signal) {
      const message = await client.messages.create(buildMessageParams(model, request), { signal });
      return parseMessage(message);
    },
    classify: classifyAnthropicError,
  };
  return createModelAnalyser(transport, settings, options);
}
