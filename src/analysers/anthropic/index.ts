import Anthropic from "@anthropic-ai/sdk";
import type { Config } from "../../config.js";
import { ConfigurationError } from "../../domain/errors.js";
import type { Analyser } from "../../ports/analyser.js";
import { CLAUDE_IMAGE_LIMITS } from "../shared/image.js";
import {
  createModelAnalyser,
  type ModelAnalyserOptions,
  type ModelTransport,
} from "../shared/model-analyser.js";
import { type Failure, httpFailure, parseRetryAfter } from "../shared/retry.js";
import { buildMessageParams, DEFAULT_ANTHROPIC_MODEL, parseMessage } from "./messages.js";

export interface AnthropicOptions extends ModelAnalyserOptions {
  fetch?: typeof fetch;
}

const PROVIDER = "Anthropic";
export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";

/** The official client, configured from Config only; retries are ours (one policy for every provider). */
export function createAnthropicClient(config: Config, options: { fetch?: typeof fetch } = {}): Anthropic {
  const { apiKey, baseUrl } = config.providers.anthropic;
  if (!apiKey) throw new ConfigurationError("ANTHROPIC_API_KEY is not set: the anthropic analyser needs it");
  return new Anthropic({
    apiKey,
    baseURL: baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL,
    maxRetries: 0,
    timeout: config.providers.timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** Turns anything the Anthropic SDK throws into a failure with a reason and a retry verdict. */
export function classifyAnthropicError(error: unknown): Failure {
  if (error instanceof Anthropic.APIConnectionTimeoutError) {
    return { retryable: true, reason: `${PROVIDER} did not answer in time` };
  }
  if (error instanceof Anthropic.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { retryable: true, reason: `could not reach ${PROVIDER}${cause}` };
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
  config: Config,
  options: AnthropicOptions = {},
): Promise<Analyser> {
  const client = createAnthropicClient(config, options);
  const model = config.model ?? DEFAULT_ANTHROPIC_MODEL;
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
  return createModelAnalyser(transport, config, options);
}
