import { PhotocatError } from "../../domain/errors.js";
import { unitLength } from "../../domain/vectors.js";
import { silentLogger } from "../../logger.js";
import type { Embedder, Embedding, EmbedPhotoInput } from "../../ports/embedder.js";
import { type PreparedImage, type PrepareOptions, prepareForModel } from "./image.js";
import { type ModelAnalyserOptions, retryPolicyFrom } from "./model-analyser.js";
import { embeddingCostUsd, type Price, priceFor } from "./prices.js";
import { providerCaller } from "./provider-call.js";
import type { Failure } from "./retry.js";

/** What one embedding call sends: text, and for a photo an embedder that sees images, the prepared image. */
export interface EmbeddingRequest {
  /** A photo's description, or a search query: never empty, already cut to the model's limit. */
  text: string;
  image?: PreparedImage;
  /** Some models embed documents and queries differently (nomic-embed-text's task prefixes). */
  purpose: "photo" | "query";
}

/** One provider answer, before validation: nothing in it is trusted yet. */
export interface EmbeddingReply {
  vector: unknown;
  inputTokens: number;
}

/** A provider: a request builder and an error classifier around its official SDK. */
export interface EmbeddingTransport {
  readonly provider: string;
  readonly model: string;
  /** Identifies the endpoint for the rate gate it shares with the provider's analyser. */
  readonly endpointKey: string;
  /** Set when the photo's pixels are sent: how to prepare them. Text-only embedders leave it out. */
  readonly imageLimits?: PrepareOptions;
  /** Longest text sent, in characters (the model's input limit, with a margin). */
  readonly maxTextChars: number;
  /** The vector length the model gives, when known; otherwise the first answer's length is expected from then on. */
  readonly dimensions?: number;
  /** Price when the table does not apply (Ollama: free). */
  readonly price?: Price;
  send(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingReply>;
  classify(error: unknown): Failure;
  close?(): Promise<void>;
}

/** The settings every remote embedder honours (mapped from Config in analysers/embedders.ts). */
export interface EmbedderSettings {
  /** PHOTOCAT_EMBEDDING_MODEL; null for the provider's default. */
  model: string | null;
  /** Largest image decoded before it is resized for the model (PHOTOCAT_MAX_PIXELS). */
  maxPixels: number;
  timeoutMs: number;
  maxRetries: number;
  requestsPerMinute: number | null;
  /** USD per million tokens (and per image), overriding the built-in table. */
  prices: Record<string, Price>;
}

export type EmbedderOptions = Pick<ModelAnalyserOptions, "logger" | "retry">;

function invalid(provider: string, reason: string): PhotocatError {
  return new PhotocatError("embedder_failed", `${provider} returned an unusable embedding: ${reason}`, {
    retryable: false,
  });
}

/**
 * Checks an embedding from the provider (untrusted): an array of finite numbers, of the length this
 * model always gives, not all zeros; and scales it to unit length so that a dot product is the cosine.
 */
export function unitVector(provider: string, raw: unknown, expectedLength: number | undefined): Float32Array {
  if (!Array.isArray(raw)) throw invalid(provider, "no vector in the answer");
  if (raw.length === 0) throw invalid(provider, "the vector is empty");
  if (expectedLength !== undefined && raw.length !== expectedLength) {
    throw invalid(provider, `the vector has ${raw.length} dimensions, expected ${expectedLength}`);
  }
  for (const value of raw) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw invalid(provider, `the vector holds a value that is not a finite number (${String(value)})`);
    }
  }
  const vector = unitLength(raw);
  if (!vector) throw invalid(provider, "the vector is all zeros");
  return vector;
}

/** Cuts text to `maxChars` at a word boundary where there is one nearby. */
export function truncateText(text: string, maxChars: number): string {
  const trimmed = text.trim();
  if (trimmed.length <= maxChars) return trimmed;
  const cut = trimmed.slice(0, maxChars);
  const space = cut.lastIndexOf(" ");
  return (space > maxChars * 0.8 ? cut.slice(0, space) : cut).trimEnd();
}

/**
 * Wraps a provider transport into an Embedder: prepares the image (for embedders that see images),
 * paces, times out and retries calls like the analysers do, validates and normalises the vector and
 * records tokens, images, cost and latency. Failures are PhotocatError("embedder_failed").
 */
export function createRemoteEmbedder(
  transport: EmbeddingTransport,
  settings: EmbedderSettings,
  options: EmbedderOptions = {},
): Embedder {
  const logger = (options.logger ?? silentLogger()).child({
    embedder: transport.provider,
    model: transport.model,
  });
  const callProvider = providerCaller({
    gateKey: `${transport.provider} ${transport.endpointKey}`,
    requestsPerMinute: settings.requestsPerMinute,
    timeoutMs: settings.timeoutMs,
    policy: retryPolicyFrom(settings, options.retry),
    classify: (error) => transport.classify(error),
    errorCode: "embedder_failed",
    logger,
    retryMessage: "embedding call failed; retrying",
  });
  let expectedLength = transport.dimensions;
  let warnedPrice = false;

  function price(): Price | null {
    if (transport.price && !settings.prices[transport.model]) return transport.price;
    const found = priceFor(transport.model, settings.prices);
    if (!found && !warnedPrice) {
      warnedPrice = true;
      logger.warn("no price known for this embedding model: cost is recorded as 0 (set PHOTOCAT_PRICES)");
    }
    return found;
  }

  async function embed(request: EmbeddingRequest, signal: AbortSignal | undefined, started: number) {
    const reply = await callProvider((attemptSignal) => transport.send(request, attemptSignal), signal);
    const vector = unitVector(transport.provider, reply.vector, expectedLength);
    // One model, one space: every later vector must have this length.
    expectedLength = vector.length;
    const inputTokens = Number.isFinite(reply.inputTokens) ? Math.max(0, Math.round(reply.inputTokens)) : 0;
    const images = request.image ? 1 : 0;
    const embedding: Embedding = {
      vector,
      usage: {
        inputTokens,
        images,
        costUsd: embeddingCostUsd(price(), inputTokens, images),
        ms: Math.round(performance.now() - started),
      },
    };
    return embedding;
  }

  return {
    provider: transport.provider,
    model: transport.model,
    seesImages: transport.imageLimits !== undefined,
    async embedPhoto(input: EmbedPhotoInput): Promise<Embedding> {
      const started = performance.now();
      const text = truncateText(input.description, transport.maxTextChars);
      const image = transport.imageLimits
        ? await prepareForModel(input.bytes, input.mediaType, {
            ...transport.imageLimits,
            decodeMaxPixels: settings.maxPixels,
          })
        : undefined;
      if (!text && !image) {
        throw new PhotocatError(
          "embedder_failed",
          `the photo has no description yet: ${transport.provider} embeds text only (analyse it first)`,
          { retryable: false },
        );
      }
      return embed({ text, image, purpose: "photo" }, input.signal, started);
    },
    async embedQuery(query: string, signal?: AbortSignal): Promise<Embedding> {
      const started = performance.now();
      const text = truncateText(query, transport.maxTextChars);
      if (!text) throw new PhotocatError("invalid_request", "the search query is empty");
      return embed({ text, purpose: "query" }, signal, started);
    },
    async close() {
      await transport.close?.();
    },
  };
}
