import { createHash } from "node:crypto";
import type { Analysis } from "../../domain/analysis.js";
import { PhotocatError } from "../../domain/errors.js";
import { loadWordNet } from "../../lexicon/wordnet.js";
import { type Logger, silentLogger } from "../../logger.js";
import { decodeError } from "../../media/decode.js";
import { readPhotoMetadata } from "../../media/exif.js";
import { reverseGeocode } from "../../media/geocode.js";
import type { Analyser, AnalyserInput, AnalysisContext } from "../../ports/analyser.js";
import { buildVocabulary, caption, captionFacts, FACE_SCORE, type Vocabulary } from "./caption.js";
import { decideCategory, decideDefault } from "./category.js";
import { type HeadWeights, headInput, predict } from "./classifier.js";
import { colourStats } from "./colours.js";
import { LocalModels } from "./models.js";
import { planReading, seesText, TextReader } from "./ocr.js";
import { preparePixels } from "./pixels.js";
import { EMBEDDING_BASE, LOCAL_MODEL, PIPELINE_VERSION } from "./version.js";
import head from "./weights/category-head.json" with { type: "json" };
import kindHead from "./weights/kind-head.json" with { type: "json" };

export { LOCAL_MODEL, PIPELINE_VERSION } from "./version.js";

const HEAD = head as HeadWeights;
/** A second head over the same inputs: the kind of subject (a bird, a car, fruit), see kinds.ts. */
const KIND_HEAD = kindHead as HeadWeights;
const EMBEDDING_SIZE = HEAD.inputs.filter((name) => name.startsWith("embedding_")).length;

/**
 * The stored embedding is the pooled feature standardised with the head's training statistics: centred
 * vectors make cosine similarity meaningful for learning from corrections. The name carries a digest of
 * those statistics, so vectors from a retrained head are never compared with older ones.
 */
export const EMBEDDING_MODEL = `${EMBEDDING_BASE}-z-${createHash("sha256")
  .update(JSON.stringify([HEAD.mean.slice(0, EMBEDDING_SIZE), HEAD.std.slice(0, EMBEDDING_SIZE)]))
  .digest("hex")
  .slice(0, 8)}`;

function standardised(feature: readonly number[]): number[] {
  return feature.map((v, i) => Math.round(((v - HEAD.mean[i]!) / HEAD.std[i]!) * 1e4) / 1e4);
}
/** The head reads the pooled embedding plus the cues when it was trained with them. */
const HEAD_FEATURES = { cues: HEAD.inputs.some((name) => !name.startsWith("embedding_")), cuePenalty: 1 };

export interface LocalAnalyserOptions {
  logger?: Logger;
  /** Pixel limit when decoding (ingest has already checked it; this guards direct use). */
  maxPixels?: number;
  /** Set false to skip OCR entirely (text stays null). */
  ocr?: boolean;
}

export interface LocalAnalyser extends Analyser {
  /** tfjs tensors alive: constant between photos when nothing leaks (used by the memory test). */
  tensorCount(): number;
}

let sharedModels: Promise<LocalModels> | null = null;
let loadedModels: LocalModels | null = null;
let sharedReader: TextReader | null = null;
let sharedVocabulary: Promise<Vocabulary> | null = null;

/** WordNet's words for captions (tags such as "animal" for a dog), built once per process. */
function vocabulary(): Promise<Vocabulary> {
  sharedVocabulary ??= loadWordNet().then(buildVocabulary);
  sharedVocabulary.catch(() => {
    sharedVocabulary = null;
  });
  return sharedVocabulary;
}

/** Models are loaded once per process and shared by every analyser instance and concurrent job. */
function models(): Promise<LocalModels> {
  sharedModels ??= LocalModels.load().then((m) => {
    loadedModels = m;
    return m;
  });
  sharedModels.catch(() => {
    sharedModels = null;
  });
  return sharedModels;
}

/** Date and place from the file itself, when the caller gave no context (e.g. a direct library call). */
async function contextFromFile(bytes: Buffer): Promise<AnalysisContext> {
  const metadata = await readPhotoMetadata(bytes);
  const place = metadata.gps ? await reverseGeocode(metadata.gps.latitude, metadata.gps.longitude) : null;
  return { takenAt: metadata.takenAt, place };
}

export async function createLocalAnalyser(options: LocalAnalyserOptions = {}): Promise<LocalAnalyser> {
  const logger = options.logger ?? silentLogger();
  const maxPixels = options.maxPixels ?? 100_000_000;
  const useOcr = options.ocr ?? true;
  sharedReader ??= new TextReader();
  const reader = sharedReader;

  async function analyse(input: AnalyserInput): Promise<Analysis> {
    const started = performance.now();
    input.signal?.throwIfAborted();
    // Decode first: a photo over the pixel limit is refused without loading the models.
    const pixels = await preparePixels(input.bytes, { mediaType: input.mediaType, maxPixels }).catch(
      (cause: unknown) => {
        throw decodeError(input.mediaType, cause);
      },
    );
    const [loaded, words] = await Promise.all([models(), vocabulary()]).catch((cause: unknown) => {
      throw new PhotocatError("analyser_failed", "the local models could not be loaded", { cause });
    });
    input.signal?.throwIfAborted();
    const signals = await loaded.infer(pixels).catch((cause: unknown) => {
      throw new PhotocatError("analyser_failed", "the local models failed on this image", {
        cause,
        retryable: false,
      });
    });
    const colours = colourStats(pixels.tiny);
    const cues = { signals, colours };
    const ranking = predict(HEAD, headInput(cues, HEAD_FEATURES));
    const modelView = decideDefault(ranking, signals, colours);
    const decision = decideCategory(ranking, signals, colours, input.taxonomy);

    let text: string | null = null;
    if (useOcr) {
      input.signal?.throwIfAborted();
      try {
        const plan = await planReading(
          {
            documentCategory: modelView.category === "documents",
            documentProbability: ranking.find((r) => r.label === "documents")?.p ?? 0,
            colours,
            top: ranking[0] ?? { label: "other", p: 0 },
          },
          () => seesText(pixels.base),
        );
        if (plan) text = (await reader.read(pixels.base, plan)).text;
      } catch (error) {
        // Text is a bonus: a failed OCR never fails the photo.
        logger.warn({ err: error }, "local analyser: OCR failed");
      }
    }

    const context = input.context ?? (await contextFromFile(input.bytes));
    const faces = signals.faceScores.filter((s) => s >= FACE_SCORE).length;
    const drawing = (signals.nsfw.Drawing ?? 0) >= 0.5;
    const nsfwScore = (signals.nsfw.Porn ?? 0) + (signals.nsfw.Hentai ?? 0) + (signals.nsfw.Sexy ?? 0) * 0.5;
    const kinds = predict(KIND_HEAD, headInput(cues, HEAD_FEATURES));
    const described = caption(captionFacts(signals, colours, ranking, kinds, text, context), words);
    const tags = described.tags.map((t) => (t === modelView.category ? decision.category : t));
    return {
      summary: described.summary,
      category: decision.category,
      tags: [...new Set(tags)],
      altText: described.altText,
      text,
      confidence: Math.round(Math.min(1, Math.max(0, decision.confidence)) * 1000) / 1000,
      extras: {
        objects: signals.objects,
        faces,
        drawing,
        nsfw: nsfwScore >= 0.6,
        colours: colours.dominant,
        place: context.place ?? null,
        categoryRule: decision.rule,
        subject: described.subject.level,
        ranking: ranking.slice(0, 3).map((r) => ({ category: r.label, p: Math.round(r.p * 1000) / 1000 })),
      },
      embedding: { model: EMBEDDING_MODEL, vector: standardised(signals.feature) },
      provenance: {
        provider: "local",
        model: LOCAL_MODEL,
        promptVersion: PIPELINE_VERSION,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        ms: Math.round(performance.now() - started),
      },
    };
  }

  return {
    provider: "local",
    model: LOCAL_MODEL,
    offline: true,
    analyse,
    async warmUp() {
      const started = performance.now();
      await Promise.all([models(), vocabulary()]);
      logger.info({ ms: Math.round(performance.now() - started) }, "local analyser: models loaded");
    },
    tensorCount() {
      return loadedModels?.tensorCount() ?? 0;
    },
    async close() {
      await reader.close();
      if (sharedReader === reader) sharedReader = null;
    },
  };
}
