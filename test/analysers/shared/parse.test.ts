import { describe, expect, it } from "vitest";
import {
  extractJsonAnswer,
  InvalidAnswerError,
  validateAnswer,
} from "../../../src/analysers/shared/parse.js";
import { DEFAULT_TAXONOMY } from "../../../src/domain/taxonomy.js";

describe("extractJsonAnswer", () => {
  it("takes the last <json> block, ignoring any inside the scratchpad", () => {
    const text = `<scratchpad>Maybe <json>{"category":"documents"}</json>?</scratchpad>
Some words.
<json>{"category":"people"}</json>
<json>{"category":"animals"}</json>`;
    expect(extractJsonAnswer(text)).toEqual({ category: "animals" });
  });

  it("tolerates trailing commas", () => {
    expect(extractJsonAnswer('<json>{"tags":["a","b",],"category":"food",}</json>')).toEqual({
      tags: ["a", "b"],
      category: "food",
    });
  });

  it("reads bare JSON, fenced JSON and JSON wrapped in prose", () => {
    expect(extractJsonAnswer('{"a":1}')).toEqual({ a: 1 });
    expect(extractJsonAnswer('Here:\n```json\n{"a":2}\n```')).toEqual({ a: 2 });
    expect(extractJsonAnswer('Sure! {"a":3, "b":"{x}"} Hope it helps.')).toEqual({ a: 3, b: "{x}" });
  });

  it("reads a <json> block cut off before its closing tag", () => {
    expect(extractJsonAnswer('<json>{"a":4}')).toEqual({ a: 4 });
  });

  it("rejects text without JSON and broken JSON with a reason", () => {
    expect(() => extractJsonAnswer("I cannot help with that.")).toThrow(InvalidAnswerError);
    expect(() => extractJsonAnswer('<json>{"a": </json>')).toThrow(/not valid JSON/);
    expect(() => extractJsonAnswer("<scratchpad>only thinking</scratchpad>")).toThrow(/no JSON/);
  });
});

describe("validateAnswer", () => {
  const good = {
    summary: "This photo shows a dog on a beach.",
    category: "Animals",
    tags: ["Dog", "beach", "dog"],
    alt_text: "Dog on a beach",
    text: "none",
    confidence: 0.9,
  };

  it("normalises a structured answer", () => {
    expect(validateAnswer({ output: good }, DEFAULT_TAXONOMY)).toEqual({
      summary: "A dog on a beach.",
      category: "animals",
      tags: ["dog", "beach"],
      altText: "Dog on a beach",
      text: null,
      confidence: 0.9,
    });
  });

  it("falls back to the text when there is no structured answer", () => {
    const text = `<scratchpad>dog</scratchpad><json>${JSON.stringify(good)}</json>`;
    expect(validateAnswer({ text }, DEFAULT_TAXONOMY).category).toBe("animals");
  });

  it("forgives tags as one string and confidence as a percentage", () => {
    const answer = validateAnswer(
      { output: { ...good, tags: "sand, Sea", confidence: "85" } },
      DEFAULT_TAXONOMY,
    );
    expect(answer.tags).toEqual(["sand", "sea"]);
    expect(answer.confidence).toBe(0.85);
  });

  it("rejects a category outside the taxonomy, an empty answer and a missing summary", () => {
    expect(() => validateAnswer({ output: { ...good, category: "memes" } }, DEFAULT_TAXONOMY)).toThrow(
      /"memes" is not in the taxonomy/,
    );
    expect(() => validateAnswer({ text: "  " }, DEFAULT_TAXONOMY)).toThrow(/empty/);
    expect(() => validateAnswer({ output: { category: "food" } }, DEFAULT_TAXONOMY)).toThrow(/summary/);
  });
});
