import { createHash, randomUUID } from "node:crypto";
import type { Analysis } from "../../src/domain/analysis.js";
import type { NewImage } from "../../src/ports/catalog.js";

let counter = 0;

/** A photo record as ingest would insert it; distinct bytes (sha256) unless told otherwise. */
export function newImage(overrides: Partial<NewImage> = {}): NewImage {
  counter += 1;
  return {
    id: randomUUID(),
    sha256: createHash("sha256").update(`photo ${counter} ${randomUUID()}`).digest("hex"),
    originalName: `IMG_${1000 + counter}.jpg`,
    mediaType: "image/jpeg",
    byteSize: 123_456,
    width: 4032,
    height: 3024,
    metadata: {
      takenAt: null,
      cameraMake: null,
      cameraModel: null,
      lens: null,
      gps: null,
      orientation: null,
    },
    place: null,
    thumbhash: null,
    perceptualHash: null,
    sharpness: null,
    ...overrides,
  };
}

export function analysis(
  overrides: Partial<Analysis> & { provider?: string; model?: string } = {},
): Analysis {
  const { provider = "test", model = "test-model", ...rest } = overrides;
  return {
    summary: "A tabby cat asleep on a windowsill.",
    category: "animals",
    tags: ["cat", "window"],
    altText: "Tabby cat asleep on a windowsill",
    text: null,
    confidence: 0.9,
    provenance: {
      provider,
      model,
      promptVersion: "test-1",
      inputTokens: 1000,
      outputTokens: 100,
      costUsd: 0.002,
      ms: 1234,
    },
    ...rest,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
