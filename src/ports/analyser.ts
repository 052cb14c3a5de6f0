import type { Analysis } from "../domain/analysis.js";
import type { Taxonomy } from "../domain/taxonomy.js";

/** Context a user allows the model to see (PHOTOCAT_SHARE_CONTEXT). GPS coordinates are never given. */
export interface AnalysisContext {
  takenAt?: string | null;
  place?: string | null;
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
