/** USD per million tokens; embedding models that take images also cost a flat amount per image. */
export interface Price {
  input: number;
  output: number;
  /** USD per image embedded (Titan Multimodal Embeddings). */
  image?: number;
}

/**
 * List prices (USD per million tokens, standard tier, prompts under 100k tokens) as published by the
 * providers in November 2026. Keys are model-id prefixes; the longest matching prefix wins, so a
 * dated snapshot or a Bedrock id ("us.anthropic.claude-haiku-4-5-20251001-v1:0") finds its family.
 * Override or extend with PHOTOCAT_PRICES.
 */
export const PRICES: Readonly<Record<string, Price>> = {
  "claude-haiku-5-5": { input: 0.1, output: 0.5 },
  "claude-haiku-4-5": { input: 1, output: 5 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
  "claude-3-haiku": { input: 0.25, output: 1.25 },
  "claude-sonnet-5-5": { input: 2, output: 10 },
  "claude-sonnet-4-5": { input: 3, output: 15 },
  "claude-opus-5-5": { input: 4, output: 20 },
  "gpt-5.6-luna": { input: 0.2, output: 1.2 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  // Embedding models: input only. Titan Multimodal Embeddings G1: $0.0008 per 1k input tokens (from memory,
  // not found in the docs at hand) and $0.00006 per image ($0.06 per 1,000 images, as OpenRouter lists it);
  // OpenAI's per million tokens as on its model pages.
  "amazon.titan-embed-image-v1": { input: 0.8, output: 0, image: 0.00006 },
  "text-embedding-3-small": { input: 0.02, output: 0 },
  "text-embedding-3-large": { input: 0.13, output: 0 },
  "text-embedding-ada-002": { input: 0.1, output: 0 },
};

/** Message Batches and similar bulk APIs bill half the list price. */
export const BATCH_DISCOUNT = 0.5;

/** "us.anthropic.claude-3-haiku-20240307-v1:0" -> "claude-3-haiku-20240307"; OpenAI/Anthropic ids unchanged. */
export function canonicalModelId(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^arn:aws:bedrock:[^/]*\/(?:[^/]*\/)?/, "")
    .replace(/^(?:us|eu|apac|jp|au|ca|us-gov|global)\./, "")
    .replace(/^anthropic\./, "")
    .replace(/-v\d+(?::\d+)?$/, "");
}

/** The price of a model, or null when unknown (then cost is recorded as 0 and a warning logged). */
export function priceFor(model: string, overrides: Readonly<Record<string, Price>> = {}): Price | null {
  const id = canonicalModelId(model);
  const exact = overrides[model] ?? overrides[id];
  if (exact) return exact;
  const tables = [overrides, PRICES];
  for (const table of tables) {
    let best: string | null = null;
    for (const key of Object.keys(table)) {
      const k = canonicalModelId(key);
      if (
        (id === k || id.startsWith(`${k}-`) || id.startsWith(`${k}:`)) &&
        (!best || k.length > best.length)
      ) {
        best = key;
      }
    }
    if (best) return table[best] ?? null;
  }
  return null;
}

/** What one embedding call cost: its input tokens and its images. */
export function embeddingCostUsd(price: Price | null, inputTokens: number, images: number): number {
  if (!price) return 0;
  const usd = (inputTokens * price.input) / 1_000_000 + images * (price.image ?? 0);
  return Math.round(usd * 1e8) / 1e8;
}

export function costUsd(
  price: Price | null,
  inputTokens: number,
  outputTokens: number,
  discount = 1,
): number {
  if (!price) return 0;
  const usd = ((inputTokens * price.input + outputTokens * price.output) / 1_000_000) * discount;
  return Math.round(usd * 1e8) / 1e8;
}
