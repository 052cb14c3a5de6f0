import type { Analysis } from "../../domain/analysis.js";
import { PhotocatError } from "../../domain/errors.js";
import type { Taxonomy } from "../../domain/taxonomy.js";
import { type Logger, silentLogger } from "../../logger.js";
import type { Analyser, AnalyserInput } from "../../ports/analyser.js";
import { type PreparedImage, type PrepareOptions, prepareForModel } from "./image.js";
import { InvalidAnswerError, validateAnswer } from "./parse.js";
import { costUsd, type Price, priceFor } from "./prices.js";
import {
  answerJsonSchema,
  buildPrompt,
  type JsonSchema,
  PROMPT_VERSION,
  type Prompt,
  reaskNote,
} from "./prompt.js";
import { providerCaller } from "./provider-call.js";
import { DEFAULT_RETRY_POLICY, type Failure, type RetryPolicy } from "./retry.js";

/** Everything a provider needs to build one request. */
export interface ModelRequest {
  prompt: Prompt;
  /** Set on the second request, after the first answer could not be used. */
  reask?: string;
  image: PreparedImage;
  schema: JsonSchema;
  taxonomy: Taxonomy;
  maxOutputTokens: number;
}

/** One provider answer, before validation. */
export interface ModelReply {
  /** The structured answer (tool input, schema-constrained JSON already parsed). */
  output?: unknown;
  /** Free text, parsed with the <json> parser when there is no structured answer. */
  text?: string;
  inputTokens: number;
  outputTokens: number;
  /** The model that actually answered, when the provider says. */
  model?: string;
  /** Why generation stopped, when it explains a bad answer (refusal, max_tokens). */
  stopReason?: string;
}

/** A provider: a request builder, a response parser and an error classifier around its official SDK. */
export interface ModelTransport {
  readonly provider: string;
  readonly model: string;
  /** Identifies the endpoint for the shared rate gate. */
  readonly endpointKey: string;
  readonly imageLimits: PrepareOptions;
  /** Price when the table does not apply (Ollama: free). */
  readonly price?: Price;
  send(request: ModelRequest, signal: AbortSignal): Promise<ModelReply>;
  classify(error: unknown): Failure;
  close?(): Promise<void>;
}

export interface ModelAnalyserOptions {
  logger?: Logger;
  /** Overrides of the retry timing (tests use tiny delays). */
  retry?: Partial<RetryPolicy>;
  maxOutputTokens?: number;
}

export const DEFAULT_MAX_OUTPUT_TOKENS = 2048;

/** The settings every model-based analyser honours (mapped from Config in analysers/registry.ts). */
export interface ModelSettings {
  /** PHOTOCAT_MODEL; null for the provider's default. */
  model: string | null;
  /** Largest image decoded before it is resized for the model (PHOTOCAT_MAX_PIXELS). */
  maxPixels: number;
  /** The user allows capture date and place to be sent (PHOTOCAT_SHARE_CONTEXT). */
  shareContext: boolean;
  timeoutMs: number;
  maxRetries: number;
  requestsPerMinute: number | null;
  /** USD per million tokens, overriding the built-in table. */
  prices: Record<string, Price>;
}

export function retryPolicyFrom(
  settings: Pick<ModelSettings, "maxRetries">,
  overrides: Partial<RetryPolicy> = {},
): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, maxRetries: settings.maxRetries, ...overrides };
}

/**
 * Wraps a provider transport into an Analyser: prepares the image, builds the shared prompt, paces,
 * times out and retries calls, validates the answer (asking once more when it is unusable) and
 * records provenance: tokens, cost and latency.
 */
export function createModelAnalyser(
  transport: ModelTransport,
  settings: ModelSettings,
  options: ModelAnalyserOptions = {},
): Analyser {
  const logger = (options.logger ?? silentLogger()).child({
    analyser: transport.provider,
    model: transport.model,
  });
  const warnedPrices = new Set<string>();
  const callProvider = providerCaller({
    gateKey: `${transport.provider} ${transport.endpointKey}`,
    requestsPerMinute: settings.requestsPerMinute,
    timeoutMs: settings.timeoutMs,
    policy: retryPolicyFrom(settings, options.retry),
    classify: (error) => transport.classify(error),
    logger,
    retryMessage: "analyser call failed; retrying",
  });

  function call(
    request: ModelRequest,
    signal: AbortSignal | undefined,
    onRetry: AnalyserInput["onRetry"],
  ): Promise<ModelReply> {
    return callProvider((attemptSignal) => transport.send(request, attemptSignal), signal, onRetry);
  }

  function price(model: string): Price | null {
    if (transport.price && !settings.prices[model]) return transport.price;
    const found = priceFor(model, settings.prices) ?? priceFor(transport.model, settings.prices);
    if (!found && !warnedPrices.has(model)) {
      warnedPrices.add(model);
      logger.warn({ model }, "no price known for this model: cost is recorded as 0 (set PHOTOCAT_PRICES)");
    }
    return found;
  }

  return {
    provider: transport.provider,
    model: transport.model,
    offline: false,
    async analyse(input: AnalyserInput): Promise<Analysis> {
      const started = performance.now();
      const image = await prepareForModel(input.bytes, input.mediaType, {
        ...transport.imageLimits,
        decodeMaxPixels: settings.maxPixels,
      });
      const request: ModelRequest = {
        // Context leaves the machine only when the user allowed it.
        prompt: buildPrompt({
          taxonomy: input.taxonomy,
          language: input.language,
          context: settings.shareContext ? input.context : undefined,
        }),
        image,
        schema: answerJsonSchema(input.taxonomy),
        taxonomy: input.taxonomy,
        maxOutputTokens: options.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      };
      let inputTokens = 0;
      let outputTokens = 0;
      let model = transport.model;
      let reason = "";
      for (let ask = 0; ask < 2; ask++) {
        const reply = await call(
          ask === 0 ? request : { ...request, reask: reaskNote(reason, input.taxonomy) },
          input.signal,
          input.onRetry,
        );
        inputTokens += reply.inputTokens;
        outputTokens += reply.outputTokens;
        if (reply.model) model = reply.model;
        try {
          const answer = validateAnswer(reply, input.taxonomy);
          return {
            ...answer,
            provenance: {
              provider: transport.provider,
              model,
              promptVersion: PROMPT_VERSION,
              inputTokens,
              outputTokens,
              costUsd: costUsd(price(model), inputTokens, outputTokens),
              ms: Math.round(performance.now() - started),
            },
          };
        } catch (error) {
          if (!(error instanceof InvalidAnswerError)) throw error;
          reason = error.message;
          if (reply.stopReason === "refusal") reason = `the model declined to describe the photo (${reason})`;
          if (reply.stopReason === "max_tokens" || reply.stopReason === "length") {
            reason = `the answer was cut off at the output token limit (${reason})`;
          }
          logger.warn({ reason, ask: ask + 1 }, "the model's answer was not usable");
        }
      }
      throw new PhotocatError(
        "analyser_output_invalid",
        `${transport.provider} gave no usable answer, even when asked again: ${reason}`,
      );
    },
    async close() {
      await transport.close?.();
    },
  };
}
