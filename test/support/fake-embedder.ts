import { PhotocatError } from "../../src/domain/errors.js";
import type { Embedder, EmbedPhotoInput } from "../../src/ports/embedder.js";

const DIMENSIONS = 256;
/** Words that mean the same to the fake model: each maps to the first word of its group. */
const SYNONYMS = [
  ["blue", "azure", "cobalt"],
  ["red", "crimson", "scarlet"],
  ["green", "emerald", "verdant"],
];
const CONCEPT = new Map(SYNONYMS.flatMap((group) => group.map((word) => [word, group[0]!] as const)));

function slot(word: string): number {
  let hash = 2166136261;
  for (const char of word) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return (hash >>> 0) % DIMENSIONS;
}

/** A hashed bag of words with a few synonyms: texts that share (synonymous) words are near. */
export function bagOfWords(text: string): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? [])
    vector[slot(CONCEPT.get(word) ?? word)]! += 1;
  const norm = Math.hypot(...vector);
  if (norm > 0) for (let i = 0; i < DIMENSIONS; i++) vector[i]! /= norm;
  return vector;
}

export interface FakeEmbedderOptions {
  /** Every photo embedding fails with this error. */
  photoError?: { message: string; retryable: boolean };
  /** Every query embedding fails. */
  queryError?: string;
}

/** A deterministic, text-only stand-in for a remote embedder: 0.0001 USD and one token per word. */
export function fakeEmbedder(
  options: FakeEmbedderOptions = {},
): Embedder & { photos: EmbedPhotoInput[]; queries: string[] } {
  const photos: EmbedPhotoInput[] = [];
  const queries: string[] = [];
  const usage = (text: string) => ({
    inputTokens: text.split(/\s+/).filter(Boolean).length,
    images: 0,
    costUsd: 0.0001,
    ms: 1,
  });
  return {
    provider: "fake",
    model: "bag-1",
    seesImages: false,
    photos,
    queries,
    async embedPhoto(input) {
      photos.push(input);
      if (options.photoError) {
        throw new PhotocatError("embedder_failed", options.photoError.message, {
          retryable: options.photoError.retryable,
        });
      }
      return { vector: bagOfWords(input.description), usage: usage(input.description) };
    },
    async embedQuery(text) {
      queries.push(text);
      if (options.queryError)
        throw new PhotocatError("embedder_failed", options.queryError, { retryable: true });
      return { vector: bagOfWords(text), usage: usage(text) };
    },
  };
}
