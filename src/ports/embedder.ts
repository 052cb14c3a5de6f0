/**
 * Turns a photo, and a search query, into vectors in one space, so that search can rank photos by meaning.
 * Implementations: Amazon Bedrock (Titan Multimodal Embeddings: the image and its description), an
 * OpenAI-compatible /v1/embeddings and Ollama's /api/embed (both text only: the photo's description).
 * Throw PhotocatError("embedder_failed", ..., { retryable }) so the queue knows whether to try again.
 */
export interface Embedder {
  readonly provider: string;
  readonly model: string;
  /** True when the photo's pixels are embedded, not only its description. */
  readonly seesImages: boolean;
  /**
   * Embeds a photo. A text-only embedder refuses a photo without a description (embedder_failed, not
   * retryable: analyse it first); an answer that is not a usable vector is embedder_failed, not retryable.
   */
  embedPhoto(input: EmbedPhotoInput): Promise<Embedding>;
  /** Embeds a search query; in the same space as embedPhoto's vectors. An empty query is invalid_request. */
  embedQuery(text: string, signal?: AbortSignal): Promise<Embedding>;
  /** Releases the provider's connections (the AWS SDK keeps HTTP/2 sessions open). */
  close?(): Promise<void>;
}

export interface EmbedPhotoInput {
  /** The stored original; an embedder that sees images prepares (resizes, re-encodes) what it sends. */
  bytes: Buffer;
  mediaType: string;
  /** The photo's description in one text: summary, category, tags, alt text and visible text. */
  description: string;
  signal?: AbortSignal;
}

export interface Embedding {
  /** Unit length, so a dot product is the cosine. */
  vector: Float32Array;
  usage: EmbeddingUsage;
}

export interface EmbeddingUsage {
  inputTokens: number;
  images: number;
  /** What the call cost in USD, from the provider's list price; 0 when unknown (and a warning logged). */
  costUsd: number;
  ms: number;
}
