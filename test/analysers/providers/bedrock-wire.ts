import { afterAll, beforeAll, vi } from "vitest";
import { ANSWER_TOOL_NAME } from "../../../src/analysers/shared/prompt.js";
import type { FakeReply } from "../shared/fixtures.js";

// Wire format of the Bedrock Runtime Converse API (POST /model/{modelId}/converse, REST-JSON).
export function converseToolUse(input: unknown): FakeReply {
  return {
    body: {
      output: {
        message: {
          role: "assistant",
          content: [{ toolUse: { toolUseId: "tooluse_1", name: ANSWER_TOOL_NAME, input } }],
        },
      },
      stopReason: "tool_use",
      usage: { inputTokens: 1580, outputTokens: 110, totalTokens: 1690 },
      metrics: { latencyMs: 812 },
    },
  };
}

export function converseText(text: string): FakeReply {
  return {
    body: {
      output: { message: { role: "assistant", content: [{ text }] } },
      stopReason: "end_turn",
      usage: { inputTokens: 1500, outputTokens: 90, totalTokens: 1590 },
      metrics: { latencyMs: 700 },
    },
  };
}

export function awsError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  return {
    status,
    headers: {
      "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      ...headers,
    },
    body: { message },
  };
}

/** Fake credentials for the AWS SDK's standard chain, for the whole file: Bedrock requests must still be signed (SigV4). */
export function useFakeAwsCredentials(): void {
  beforeAll(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTEST");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test-secret");
    vi.stubEnv("AWS_SESSION_TOKEN", "");
    vi.stubEnv("AWS_PROFILE", "");
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
}
