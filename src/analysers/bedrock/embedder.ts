import { InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { PhotocatError } from "../../domain/errors.js";
import type { Embedder } from "../../ports/embedder.js";
import {
  createRemoteEmbedder,
  type EmbedderOptions,
  type EmbedderSettings,
  type EmbeddingReply,
  type EmbeddingRequest,
  truncateText,
} from "../shared/embedding.js";
import type { PrepareOptions } from "../shared/image.js";
import type { Failure } from "../shared/retry.js";
import { type BedrockSettings, classifyBedrockError, createBedrockClient } from "./index.js";

/** Titan Multimodal Embeddings G1: the image and its description in one vector, and text queries in the same space. */
export const DEFAULT_BEDROCK_EMBEDDING_MODEL = "amazon.titan-embed-image-v1";
/** The largest of the lengths Titan offers (256, 384, 1024): the most detail, still only 4 KB per photo. */
export const TITAN_EMBEDDING_LENGTH = 1024;

/**
 * Titan's documented input limits: 25 MB (counted here on the base64 text, to be safe: 18 MB of JPEG)
 * and 2048 x 2048 px, JPEG or PNG. The prepared copy is a metadata-free JPEG within them.
 */
export const TITAN_IMAGE_LIMITS: PrepareOptions = {
  maxLongEdge: 2048,
  maxPixels: 2048 * 2048,
  maxBytes: 18 * 1024 * 1024,
  accepted: ["image/jpeg", "image/png"],
};

/**
 * Titan reads at most 256 text tokens by its documentation and refuses more rather than cutting them.
 * 512 characters stay within 256 tokens even at two characters per token (numbers, names, non-English
 * words); a text still refused as too long is cut further (see TEXT_TOO_LONG).
 */
export const TITAN_MAX_TEXT_CHARS = 512;

/** Titan's ValidationException for text over its token limit ("Too many input tokens. Max input tokens: 256, ..."). */
const TEXT_TOO_LONG = /too many input tokens|input text.*too long|maxLength/i;

/** True when Bedrock refused the request because the text has too many tokens for the model. */
export function isTextTooLong(error: unknown): boolean {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
  };
  return e.name === "ValidationException" && typeof e.message === "string" && TEXT_TOO_LONG.test(e.message);
}

/** The InvokeModel body for Titan Multimodal Embeddings: text, image (base64) or both (then averaged by Titan). */
export function buildTitanBody(request: EmbeddingRequest): Record<string, unknown> {
  return {
    ...(request.text ? { inputText: request.text } : {}),
    ...(request.image ? { inputImage: request.image.bytes.toString("base64") } : {}),
    embeddingConfig: { outputEmbeddingLength: TITAN_EMBEDDING_LENGTH },
  };
}

/** Reads Titan's answer `{embedding, inputTextTokenCount, message}`; the vector is checked by the caller. */
export function parseTitanBody(body: Uint8Array): EmbeddingReply {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new PhotocatError("embedder_failed", "Bedrock returned an embedding answer that is not JSON", {
      retryable: false,
    });
  }
  const answer = (typeof json === "object" && json !== null ? json : {}) as {
    embedding?: unknown;
    inputTextTokenCount?: unknown;
    message?: unknown;
  };
  if (answer.embedding === undefined && typeof answer.message === "string" && answer.message) {
    throw new PhotocatError("embedder_failed", `Bedrock could not embed: ${answer.message.slice(0, 300)}`, {
      retryable: false,
    });
  }
  return {
    vector: answer.embedding,
    inputTokens: typeof answer.inputTextTokenCount === "number" ? answer.inputTextTokenCount : 0,
  };
}

/** Bedrock's failures, with the hint that embedding models need their own model access. */
export function classifyTitanError(error: unknown, model: string): Failure {
  const failure = classifyBedrockError(error);
  if (/denied access \(403\)|AccessDenied/.test(failure.reason)) {
    return {
      ...failure,
      reason: `${failure.reason} (is access to ${model} enabled in the Bedrock console for this region? PHOTOCAT_EMBEDDING_MODEL picks another model)`,
    };
  }
  return failure;
}

/** What the bedrock embedder needs (mapped from Config in analysers/embedders.ts). */
export interface BedrockEmbedderSettings
  extends EmbedderSettings,
    Pick<BedrockSettings, "region" | "endpoint"> {}

/** Amazon Titan Multimodal Embeddings on Bedrock through InvokeModel: sees the photo and its description. */
export async function createBedrockEmbedder(
  settings: BedrockEmbedderSettings,
  options: EmbedderOptions = {},
): Promise<Embedder> {
  const { client, region } = createBedrockClient(
    settings,
    "the bedrock embedder (PHOTOCAT_EMBEDDINGS=bedrock)",
  );
  const model = settings.model ?? DEFAULT_BEDROCK_EMBEDDING_MODEL;
  return createRemoteEmbedder(
    {
      provider: "bedrock",
      model,
      endpointKey: settings.endpoint ?? region,
      imageLimits: TITAN_IMAGE_LIMITS,
      maxTextChars: TITAN_MAX_TEXT_CHARS,
      dimensions: TITAN_EMBEDDING_LENGTH,
      async send(request, signal) {
        const invoke = async (text: string) => {
          const output = await client.send(
            new InvokeModelCommand({
              modelId: model,
              contentType: "application/json",
              accept: "application/json",
              body: JSON.stringify(buildTitanBody({ ...request, text })),
            }),
            { abortSignal: signal },
          );
          return parseTitanBody(output.body);
        };
        // Tokens cannot be counted here: text refused as too long is sent again at half its length.
        let text = request.text;
        for (let cut = 0; ; cut++) {
          try {
            return await invoke(text);
          } catch (error) {
            const shorter = truncateText(text, Math.floor(text.length / 2));
            if (cut >= 3 || !isTextTooLong(error) || !shorter) throw error;
            text = shorter;
          }
        }
      },
      classify: (error) => classifyTitanError(error, model),
      async close() {
        client.destroy();
      },
    },
    settings,
    options,
  );
}
