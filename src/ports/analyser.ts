import type { Analysis } from "../domain/analysis.js";
import type { Taxonomy } from "../domain/taxonomy.js";

/** Context a user allows the model to see (PHOTOCAT_SHARE_CONTEXT). GPS coordinates are never given. */
export interface AnalysisContext {
  takenAt?: string | null;
  place?: string | null;
}

/** Told while a remote call is retried, before each wait (so the photo can say so). */
export interface RetryProgress {
  /** The attempt about to be made, from 2 up to maxAttempts. */
  attempt: number;
  maxAttempts: number;
  /** Why the previous attempt failed, e.g. "rate limited by Anthropic (429)". */
  reason: string;
  delayMs: number;
}

export interface AnalyserInput {
  /** The stored original, untouched. Each analyser prepares what it needs (remote ones never send it). */
  bytes: Buffer;
  mediaType: string;
  taxonomy: Taxonomy;
  /** BCP 47 language for the summary, tags and alt text, e.g. "en". */
  language: string;
  context?: AnalysisContext;
  signal?: AbortSignal;
  /** Called before each retry wait; analysers that never retry do not call it. */
  onRetry?: (progress: RetryProgress) => void;
}

/**
 * Describes a photo. Implementations: local (offline models), anthropic, bedrock, openai, ollama.
 * Throw PhotocatError("analyser_failed", ..., { retryable }) so the queue knows whether to try again.
 */
export interface Analyser {
  readonly provider: string;
  readonly model: string;
  /** True when nothing leaves this machine, so private context (date, place) may always be used. */
  readonly offline?: boolean;
  analyse(input: AnalyserInput): Promise<Analysis>;
  /** Loads models or checks settings ahead of the first photo. */
  warmUp?(): Promise<void>;
  close?(): Promise<void>;
}
