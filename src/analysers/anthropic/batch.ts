import type Anthropic from "@anthropic-ai/sdk";
import type { MessageCreateParamsNonStreaming } from "@anthropic-ai/sdk/resources/messages";
import type {
  MessageBatch,
  MessageBatchIndividualResponse,
} from "@anthropic-ai/sdk/resources/messages/batches";
import type { Analysis } from "../../domain/analysis.js";
import { errorMessage, PhotocatError } from "../../domain/errors.js";
import type { Taxonomy } from "../../domain/taxonomy.js";
import type { AnalysisContext } from "../../ports/analyser.js";
import { CLAUDE_IMAGE_LIMITS, prepareForModel } from "../shared/image.js";
import { DEFAULT_MAX_OUTPUT_TOKENS } from "../shared/model-analyser.js";
import { InvalidAnswerError, validateAnswer } from "../shared/parse.js";
import { BATCH_DISCOUNT, costUsd, priceFor } from "../shared/prices.js";
import { answerJsonSchema, buildPrompt, PROMPT_VERSION } from "../shared/prompt.js";
import { sleep } from "../shared/retry.js";
import { type AnthropicSettings, createAnthropicClient } from "./index.js";
import { buildMessageParams, DEFAULT_ANTHROPIC_MODEL, parseMessage } from "./messages.js";

/** One photo to describe in a batch; its id comes back as the result's custom_id. */
export interface BatchPhoto {
  /** The image id (a UUID): Anthropic allows 1-64 characters of [A-Za-z0-9_-]. */
  id: string;
  bytes: Buffer;
  mediaType: string;
  context?: AnalysisContext;
}

export interface BatchSettings {
  taxonomy: Taxonomy;
  language: string;
}

/** A batch as submitted: store `batchId` with the image ids to resume after a restart. */
export interface SubmittedBatch {
  batchId: string;
  imageIds: string[];
}

/** A photo that could not be prepared is reported here and left out of the batch. */
export interface SkippedPhoto {
  imageId: string;
  error: PhotocatError;
}

export interface BatchProgress {
  batchId: string;
  state: MessageBatch["processing_status"];
  total: number;
  /** Requests finished, whatever their outcome. */
  done: number;
  counts: MessageBatch["request_counts"];
  endedAt: string | null;
  expiresAt: string;
}

export type BatchOutcome =
  | { imageId: string; analysis: Analysis }
  | { imageId: string; error: PhotocatError };

export interface AnthropicBatches {
  readonly model: string;
  /** Prepares the photos and submits them in as many batches as the size limits need. */
  submit(
    photos: Iterable<BatchPhoto> | AsyncIterable<BatchPhoto>,
    settings: BatchSettings,
  ): Promise<{ batches: SubmittedBatch[]; skipped: SkippedPhoto[] }>;
  status(batchId: string): Promise<BatchProgress>;
  /** Polls until the batch has ended (most end within an hour, all within 24 h). */
  waitUntilEnded(
    batchId: string,
    options?: { intervalMs?: number; signal?: AbortSignal; onProgress?: (progress: BatchProgress) => void },
  ): Promise<BatchProgress>;
  /** Streams the results of an ended batch; can be read again after a restart (kept 29 days). */
  results(batchId: string, taxonomy: Taxonomy): AsyncGenerator<BatchOutcome>;
  cancel(batchId: string): Promise<BatchProgress>;
}

export interface AnthropicBatchOptions {
  fetch?: typeof fetch;
  /** Largest JSON body per batch (Anthropic's limit is 256 MB; bodies are built in memory). */
  maxBatchBytes?: number;
  /** Most requests per batch (Anthropic's limit is 100,000). */
  maxRequests?: number;
}

const CUSTOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

function progressOf(batch: MessageBatch): BatchProgress {
  const c = batch.request_counts;
  const done = c.succeeded + c.errored + c.canceled + c.expired;
  return {
    batchId: batch.id,
    state: batch.processing_status,
    total: done + c.processing,
    done,
    counts: c,
    endedAt: batch.ended_at,
    expiresAt: batch.expires_at,
  };
}

/**
 * Claude's Message Batches API for large imports: half price, results within 24 hours.
 * The same prompt, tool and validation as the interactive analyser; no second ask for invalid
 * answers (they come back as analyser_output_invalid, to be queued for a normal analysis).
 */
export function createAnthropicBatches(
  anthropic: AnthropicSettings,
  options: AnthropicBatchOptions = {},
): AnthropicBatches {
  // Batch endpoints are few and cheap: the SDK's own retries (retry-after, backoff) suffice here.
  const client: Anthropic = createAnthropicClient(anthropic, {
    fetch: options.fetch,
  }).withOptions({
    maxRetries: anthropic.maxRetries,
  });
  const model = anthropic.model ?? DEFAULT_ANTHROPIC_MODEL;
  const maxBatchBytes = options.maxBatchBytes ?? 100 * 1024 * 1024;
  const maxRequests = options.maxRequests ?? 100_000;

  async function create(requests: { custom_id: string; params: MessageCreateParamsNonStreaming }[]) {
    try {
      return await client.messages.batches.create({ requests });
    } catch (error) {
      throw new PhotocatError("analyser_failed", `could not submit the batch: ${errorMessage(error)}`, {
        cause: error,
        retryable: true,
      });
    }
  }

  return {
    model,
    async submit(photos, settings) {
      const batches: SubmittedBatch[] = [];
      const skipped: SkippedPhoto[] = [];
      let pending: { custom_id: string; params: MessageCreateParamsNonStreaming }[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pending.length === 0) return;
        const batch = await create(pending);
        batches.push({ batchId: batch.id, imageIds: pending.map((r) => r.custom_id) });
        pending = [];
        pendingBytes = 0;
      };
      for await (const photo of photos) {
        if (!CUSTOM_ID.test(photo.id)) {
          skipped.push({
            imageId: photo.id,
            error: new PhotocatError("invalid_request", "the image id cannot be a batch custom_id"),
          });
          continue;
        }
        let params: MessageCreateParamsNonStreaming;
        try {
          const image = await prepareForModel(photo.bytes, photo.mediaType, {
            ...CLAUDE_IMAGE_LIMITS,
            decodeMaxPixels: anthropic.maxPixels,
          });
          params = buildMessageParams(model, {
            prompt: buildPrompt({
              taxonomy: settings.taxonomy,
              language: settings.language,
              context: anthropic.shareContext ? photo.context : undefined,
            }),
            image,
            schema: answerJsonSchema(settings.taxonomy),
            taxonomy: settings.taxonomy,
            maxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS,
          });
        } catch (error) {
          const reason =
            error instanceof PhotocatError ? error : new PhotocatError("corrupt_image", errorMessage(error));
          skipped.push({ imageId: photo.id, error: reason });
          continue;
        }
        const request = { custom_id: photo.id, params };
        const size = JSON.stringify(request).length + 1;
        if (pending.length > 0 && (pendingBytes + size > maxBatchBytes || pending.length >= maxRequests))
          await flush();
        pending.push(request);
        pendingBytes += size;
      }
      await flush();
      return { batches, skipped };
    },

    async status(batchId) {
      return progressOf(await client.messages.batches.retrieve(batchId));
    },

    async waitUntilEnded(batchId, waitOptions = {}) {
      const intervalMs = waitOptions.intervalMs ?? 30_000;
      for (;;) {
        const progress = await this.status(batchId);
        waitOptions.onProgress?.(progress);
        if (progress.state === "ended") return progress;
        await sleep(intervalMs, waitOptions.signal);
      }
    },

    async *results(batchId, taxonomy) {
      const price = priceFor(model, anthropic.prices);
      const decoder = await client.messages.batches.results(batchId);
      for await (const item of decoder as AsyncIterable<MessageBatchIndividualResponse>) {
        yield outcomeOf(item, taxonomy, model, (m, i, o) =>
          costUsd(priceFor(m, anthropic.prices) ?? price, i, o, BATCH_DISCOUNT),
        );
      }
    },

    async cancel(batchId) {
      return progressOf(await client.messages.batches.cancel(batchId));
    },
  };
}

/** Turns one line of a batch's results into an analysis or a stored failure reason. */
export function outcomeOf(
  item: MessageBatchIndividualResponse,
  taxonomy: Taxonomy,
  model: string,
  cost: (model: string, inputTokens: number, outputTokens: number) => number,
): BatchOutcome {
  const imageId = item.custom_id;
  const result = item.result;
  if (result.type === "succeeded") {
    const reply = parseMessage(result.message);
    try {
      const answer = validateAnswer(reply, taxonomy);
      const servedModel = reply.model ?? model;
      return {
        imageId,
        analysis: {
          ...answer,
          provenance: {
            provider: "anthropic",
            model: servedModel,
            promptVersion: PROMPT_VERSION,
            inputTokens: reply.inputTokens,
            outputTokens: reply.outputTokens,
            costUsd: cost(servedModel, reply.inputTokens, reply.outputTokens),
            // Batches have no per-request latency.
            ms: 0,
          },
        },
      };
    } catch (error) {
      const reason = error instanceof InvalidAnswerError ? error.message : errorMessage(error);
      return {
        imageId,
        error: new PhotocatError("analyser_output_invalid", `the batch answer could not be used: ${reason}`),
      };
    }
  }
  if (result.type === "errored") {
    const type = result.error?.error?.type ?? "api_error";
    const message = result.error?.error?.message ?? "unknown error";
    const retryable = ![
      "invalid_request_error",
      "authentication_error",
      "permission_error",
      "not_found_error",
    ].includes(type);
    return {
      imageId,
      error: new PhotocatError("analyser_failed", `the batch request failed (${type}): ${message}`, {
        retryable,
      }),
    };
  }
  return {
    imageId,
    error: new PhotocatError(
      "analyser_failed",
      result.type === "expired"
        ? "the batch expired before this photo was processed"
        : "the batch was canceled",
      { retryable: true },
    ),
  };
}
