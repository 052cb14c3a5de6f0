import type { Message, MessageCreateParamsNonStreaming, Tool } from "@anthropic-ai/sdk/resources/messages";
import type { ModelReply, ModelRequest } from "../shared/model-analyser.js";
import { ANSWER_TOOL_NAME } from "../shared/prompt.js";

/** A current Haiku-class Claude: fast, cheap, good at describing photos. PHOTOCAT_MODEL overrides it. */
export const DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5";

/**
 * Claude 5 models think by default, and the API refuses a forced tool choice while thinking is on;
 * they get the tool offered (tool_choice auto) and the prompt asks them to use it.
 */
export function canForceTool(model: string): boolean {
  return !/claude-(?:haiku|sonnet|opus|fable|mythos)-(?:[5-9]|\d\d)/.test(model);
}

/** Builds a Messages API request: one image, the shared prompt and a single answer tool. */
export function buildMessageParams(model: string, request: ModelRequest): MessageCreateParamsNonStreaming {
  const tool: Tool = {
    name: ANSWER_TOOL_NAME,
    description: "Records the description of the photo in the catalogue.",
    input_schema: request.schema as Tool.InputSchema,
  };
  const text = request.reask ? `${request.prompt.user}\n\n${request.reask}` : request.prompt.user;
  return {
    model,
    max_tokens: request.maxOutputTokens,
    system: request.prompt.system,
    tools: [tool],
    tool_choice: canForceTool(model) ? { type: "tool", name: ANSWER_TOOL_NAME } : { type: "auto" },
    messages: [
      {
        role: "user",
        content: [
          {
            type: "image",
            source: {
              type: "base64",
              media_type: request.image.mediaType,
              data: request.image.bytes.toString("base64"),
            },
          },
          { type: "text", text },
        ],
      },
    ],
  };
}

/** Reads a Messages API answer: the tool's input when Claude called it, else its text for the <json> parser. */
export function parseMessage(message: Message): ModelReply {
  const content = Array.isArray(message.content) ? message.content : [];
  let output: unknown;
  const texts: string[] = [];
  for (const block of content) {
    if (block.type === "tool_use" && block.name === ANSWER_TOOL_NAME) output = block.input;
    else if (block.type === "text") texts.push(block.text);
  }
  const usage = message.usage;
  return {
    output,
    text: texts.join("\n"),
    inputTokens:
      (usage?.input_tokens ?? 0) +
      (usage?.cache_creation_input_tokens ?? 0) +
      (usage?.cache_read_input_tokens ?? 0),
    outputTokens: usage?.output_tokens ?? 0,
    model: message.model,
    stopReason: message.stop_reason ?? undefined,
  };
}
