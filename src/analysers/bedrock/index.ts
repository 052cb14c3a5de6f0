import {
  BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  type ToolInputSchema,
} from "@aws-sdk/client-bedrock-runtime";
import { ConfigurationError } from "../../domain/errors.js";
import type { Analyser } from "../../ports/analyser.js";
import { canForceTool } from "../anthropic/messages.js";
import { CLAUDE_IMAGE_LIMITS } from "../shared/image.js";
import {
  createModelAnalyser,
  type ModelAnalyserOptions,
  type ModelReply,
  type ModelRequest,
  type ModelSettings,
  type ModelTransport,
} from "../shared/model-analyser.js";
import { isNetworkError, unreachable } from "../shared/network.js";
import { ANSWER_TOOL_NAME } from "../shared/prompt.js";
import { type Failure, httpFailure, parseRetryAfter } from "../shared/retry.js";

const PROVIDER = "Bedrock";
const BASE_MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0";

/**
 * Claude Haiku 4.5 on Bedrock is served through cross-region inference profiles: the profile of the
 * region's geography (us., eu., apac.), else the global one. PHOTOCAT_MODEL takes any model or
 * profile id or ARN, e.g. the seed's anthropic.claude-3-haiku-20240307-v1:0.
 */
export function defaultBedrockModel(region: string): string {
  const geography = /^(us|eu|ap)-/.exec(region)?.[1];
  const prefix = geography === "ap" ? "apac" : (geography ?? "global");
  return `${prefix}.${BASE_MODEL}`;
}

/** Builds a Converse request: the image as raw bytes, the shared prompt, one answer tool. */
export function buildConverseInput(model: string, request: ModelRequest): ConverseCommandInput {
  const text = request.reask ? `${request.prompt.user}\n\n${request.reask}` : request.prompt.user;
  return {
    modelId: model,
    system: [{ text: request.prompt.system }],
    messages: [
      {
        role: "user",
        content: [
          {
            image: {
              format: request.image.mediaType === "image/webp" ? "webp" : "jpeg",
              source: { bytes: request.image.bytes },
            },
          },
          { text },
        ],
      },
    ],
    inferenceConfig: { maxTokens: request.maxOutputTokens },
    toolConfig: {
      tools: [
        {
          toolSpec: {
            name: ANSWER_TOOL_NAME,
            description: "Records the description of the photo in the catalogue.",
            inputSchema: { json: request.schema } as ToolInputSchema,
          },
        },
      ],
      toolChoice: canForceTool(model) ? { tool: { name: ANSWER_TOOL_NAME } } : { auto: {} },
    },
  };
}

export function parseConverseOutput(output: ConverseCommandOutput): ModelReply {
  const content: ContentBlock[] = output.output?.message?.content ?? [];
  let answer: unknown;
  const texts: string[] = [];
  for (const block of content) {
    if (block.toolUse?.name === ANSWER_TOOL_NAME) answer = block.toolUse.input;
    else if (block.text) texts.push(block.text);
  }
  return {
    output: answer,
    text: texts.join("\n"),
    inputTokens: output.usage?.inputTokens ?? 0,
    outputTokens: output.usage?.outputTokens ?? 0,
    stopReason: output.stopReason === "max_tokens" ? "max_tokens" : output.stopReason,
  };
}

interface AwsError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
}

/** Turns what the AWS SDK throws into a failure; throttling and 5xx are retryable. */
export function classifyBedrockError(error: unknown): Failure {
  const e = (typeof error === "object" && error !== null ? error : {}) as AwsError;
  const message = e.message ?? String(error);
  if (e.name === "CredentialsProviderError") {
    return {
      retryable: false,
      reason: `no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use an IAM role): ${message}`,
    };
  }
  const retryAfterMs = parseRetryAfter(e.$response?.headers);
  if (
    e.name === "ThrottlingException" ||
    (e.name === "ServiceQuotaExceededException" && /too many|rate/i.test(message))
  ) {
    return {
      retryable: true,
      reason: `${PROVIDER} is throttling requests (${e.name}): ${message}`,
      retryAfterMs,
    };
  }
  if (
    e.name === "ModelNotReadyException" ||
    e.name === "ServiceUnavailableException" ||
    e.name === "ModelTimeoutException"
  ) {
    return { retryable: true, reason: `${PROVIDER} is not ready (${e.name}): ${message}`, retryAfterMs };
  }
  // The SDK wraps DNS and socket errors (e.g. an HTTP/2 stream cancelled because of ENOTFOUND, or
  // reset while the answer was read: then the status is the 200 already received).
  if (isNetworkError(error)) return unreachable(PROVIDER, error);
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number") {
    const detail = e.name && e.name !== "Error" ? `${e.name}: ${message}` : message;
    return httpFailure(PROVIDER, status, detail, { keySetting: "the AWS credentials", retryAfterMs });
  }
  if (e.name === "TimeoutError" || e.name === "RequestTimeout") {
    return { retryable: true, reason: `${PROVIDER} did not answer in time` };
  }
  return { retryable: false, reason: `${PROVIDER} call failed: ${message}` };
}

export interface BedrockOptions extends ModelAnalyserOptions {}

/** What the bedrock analyser needs (mapped from Config in analysers/registry.ts). */
export interface BedrockSettings extends ModelSettings {
  /** AWS_REGION */
  region: string | null;
  /** AWS_ENDPOINT_URL_BEDROCK_RUNTIME; null for the region's endpoint. */
  endpoint: string | null;
}

/**
 * A Bedrock Runtime client for the region's endpoint (or AWS_ENDPOINT_URL_BEDROCK_RUNTIME), with the
 * SDK's standard credential chain. `user` names who needs it in the error when AWS_REGION is missing.
 */
export function createBedrockClient(
  settings: Pick<BedrockSettings, "region" | "endpoint" | "timeoutMs">,
  user: string,
): { client: BedrockRuntimeClient; region: string } {
  const { region, endpoint } = settings;
  if (!region) {
    throw new ConfigurationError(`AWS_REGION is not set: ${user} needs it (e.g. AWS_REGION=us-east-1)`);
  }
  const client = new BedrockRuntimeClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    // Retries are ours: one policy (backoff, retry-after, shared pacing) for every provider.
    maxAttempts: 1,
    requestHandler: { requestTimeout: settings.timeoutMs },
  });
  return { client, region };
}

/** Claude on Amazon Bedrock through the Converse API, with a forced answer tool (toolConfig). */
export async function createBedrockAnalyser(
  settings: BedrockSettings,
  options: BedrockOptions = {},
): Promise<Analyser> {
  const { endpoint } = settings;
  const { client, region } = createBedrockClient(settings, "the bedrock analyser");
  const model = settings.model ?? defaultBedrockModel(region);
  const transport: ModelTransport = {
    provider: "bedrock",
    model,
    endpointKey: endpoint ?? region,
    imageLimits: CLAUDE_IMAGE_LIMITS,
    async send(request, signal) {
      const output = await client.send(new ConverseCommand(buildConverseInput(model, request)), {
        abortSignal: signal,
      });
      return parseConverseOutput(output);
    },
    classify: classifyBedrockError,
    async close() {
      client.destroy();
    },
  };
  return createModelAnalyser(transport, settings, options);
}
