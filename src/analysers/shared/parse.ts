import JSON5 from "json5";
import { type Analysis, normaliseModelOutput } from "../../domain/analysis.js";
import type { Taxonomy } from "../../domain/taxonomy.js";

/** A model answer that cannot be used; the message says why (it is shown to the user and to the model). */
export class InvalidAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidAnswerError";
  }
}

const SCRATCHPAD = /<scratchpad>[\s\S]*?(<\/scratchpad>|$)/gi;
const JSON_BLOCK = /<json>([\s\S]*?)(?:<\/json>|$)/gi;
const FENCE = /```(?:json)?\s*([\s\S]*?)```/gi;

function lastMatch(pattern: RegExp, text: string): string | undefined {
  let last: string | undefined;
  for (const m of text.matchAll(pattern)) last = m[1];
  return last;
}

/** The outermost {...} of the text, for answers that wrap the object in prose. */
function outerObject(text: string): string | undefined {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  return start >= 0 && end > start ? text.slice(start, end + 1) : undefined;
}

/**
 * Finds the JSON answer in a model's text: the last <json> block (after any <scratchpad>), else the
 * last fenced block, else the outermost object. Tolerates trailing commas and similar slips (JSON5).
 * Pure: tested on raw strings.
 */
export function extractJsonAnswer(text: string): unknown {
  const withoutScratchpad = text.replace(SCRATCHPAD, "");
  const candidate =
    lastMatch(JSON_BLOCK, withoutScratchpad) ??
    lastMatch(FENCE, withoutScratchpad) ??
    outerObject(withoutScratchpad);
  if (candidate === undefined || candidate.trim() === "") {
    throw new InvalidAnswerError("the answer holds no JSON object");
  }
  const body = candidate.trim();
  const json = body.startsWith("{") ? body : (outerObject(body) ?? body);
  try {
    return JSON5.parse(json);
  } catch (error) {
    throw new InvalidAnswerError(`the answer is not valid JSON (${(error as Error).message.slice(0, 120)})`);
  }
}

/** Forgives shapes small models often produce: tags as one string, confidence as text or percent. */
function coerceLooseFields(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (typeof out.tags === "string") out.tags = out.tags.split(/[,;\n]/).filter((t) => t.trim());
  if (Array.isArray(out.tags)) out.tags = out.tags.filter((t): t is string => typeof t === "string");
  if (out.tags === null) out.tags = [];
  if (typeof out.confidence === "string") out.confidence = Number.parseFloat(out.confidence);
  if (typeof out.confidence === "number") {
    const c = out.confidence > 1 && out.confidence <= 100 ? out.confidence / 100 : out.confidence;
    out.confidence = Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : undefined;
  } else if (out.confidence === null) {
    out.confidence = undefined;
  }
  if (out.alt_text === null) out.alt_text = "";
  return out;
}

export type ValidatedAnswer = Omit<Analysis, "provenance" | "extras" | "embedding">;

/**
 * Validates an answer against the contract and the taxonomy: a structured object (tool input,
 * JSON-schema output) or, when a server ignored the schema, text holding JSON.
 */
export function validateAnswer(
  answer: { output?: unknown; text?: string },
  taxonomy: Taxonomy,
): ValidatedAnswer {
  let raw = answer.output;
  if (raw === undefined || raw === null) {
    if (!answer.text?.trim()) throw new InvalidAnswerError("the answer is empty");
    raw = extractJsonAnswer(answer.text);
  }
  try {
    return normaliseModelOutput(coerceLooseFields(raw), taxonomy);
  } catch (error) {
    throw new InvalidAnswerError((error as Error).message.replace(/^model output is invalid: /, ""));
  }
}
