import sharp from "sharp";
import { PROMPT_VERSION } from "../../src/domain/analysis.js";
import { PhotocatError } from "../../src/domain/errors.js";
import { isCategory } from "../../src/domain/taxonomy.js";
import type { Analyser, AnalyserInput } from "../../src/ports/analyser.js";

export interface FakeAnalyserOptions {
  /** Milliseconds each analysis takes. */
  delayMs?: number;
  /** Fail the first N calls with a retryable error (a provider outage). */
  failFirst?: number;
  /** Fail every call, not retryable. */
  alwaysFail?: string;
}

/**
 * A deterministic stand-in for a vision model: the category follows the image's dominant channel
 * (red -> food, green -> nature, blue -> vehicles, else other), so tests know what to expect.
 */
export function fakeAnalyser(options: FakeAnalyserOptions = {}): Analyser & { calls: AnalyserInput[] } {
  const calls: AnalyserInput[] = [];
  let failures = options.failFirst ?? 0;
  return {
    provider: "fake",
    model: "fake-1",
    calls,
    async analyse(input) {
      calls.push(input);
      input.signal?.throwIfAborted();
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.alwaysFail) throw new PhotocatError("analyser_failed", options.alwaysFail);
      if (failures > 0) {
        failures--;
        throw new PhotocatError("analyser_failed", "provider is overloaded", { retryable: true });
      }
      const { channels } = await sharp(input.bytes).stats();
      const [r = 0, g = 0, b = 0] = channels.map((c) => c.mean);
      const max = Math.max(r, g, b);
      const colour = max - Math.min(r, g, b) < 20 ? "grey" : max === r ? "red" : max === g ? "green" : "blue";
      const preferred = { red: "food", green: "nature", blue: "vehicles", grey: "other" }[colour] ?? "other";
      // Like every analyser, it answers from the taxonomy it is given.
      const category = isCategory(input.taxonomy, preferred) ? preferred : input.taxonomy.fallback;
      return {
        summary: `A mostly ${colour} picture.`,
        category,
        tags: [colour, "test"],
        altText: `A ${colour} picture`,
        text: null,
        confidence: 0.9,
        provenance: {
          provider: "fake",
          model: "fake-1",
          promptVersion: PROMPT_VERSION,
          inputTokens: 100,
          outputTokens: 20,
          costUsd: 0.0002,
          ms: options.delayMs ?? 0,
        },
      };
    },
  };
}

/** A small solid-colour photo (JPEG unless told), different bytes for each `seed`. */
export async function solidImage(
  colour: { r: number; g: number; b: number },
  seed = 0,
  format: "jpeg" | "png" | "webp" = "jpeg",
): Promise<Buffer> {
  const width = 64 + (seed % 50);
  return sharp({ create: { width, height: 48, channels: 3, background: colour } })
    .toFormat(format)
    .toBuffer();
}
