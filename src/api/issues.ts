import type { z } from "@hono/zod-openapi";

/** zod's own messages ("Invalid input: expected number, received NaN") are for developers, not users. */
const ZOD_DEFAULT = /^(Invalid|Too big|Too small|Unrecognized)\b/;

const NOUNS: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
};

function field(path: readonly PropertyKey[]): string {
  return path.length > 0 ? path.map(String).join(".") : "the body";
}

function bound(issue: { origin?: string; minimum?: unknown; maximum?: unknown }, word: "least" | "most") {
  const n = Number(word === "least" ? issue.minimum : issue.maximum);
  if (issue.origin === "string") return `at ${word} ${n} character${n === 1 ? "" : "s"} long`;
  if (issue.origin === "array") return `a list of at ${word} ${n} item${n === 1 ? "" : "s"}`;
  return `at ${word} ${n}`;
}

/** One human sentence for one zod issue: the schema's own message when it has one, else one made here. */
function sentence(issue: z.core.$ZodIssue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  const name = field(issue.path);
  switch (issue.code) {
    case "invalid_type":
      return `${name} must be ${NOUNS[issue.expected] ?? issue.expected}`;
    case "too_small":
      return `${name} must be ${bound(issue, "least")}`;
    case "too_big":
      return `${name} must be ${bound(issue, "most")}`;
    case "invalid_value":
      return `${name} must be one of: ${issue.values.map(String).join(", ")}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.join(", ")}${issue.path.length ? ` in ${name}` : ""}`;
    case "invalid_format":
      return `${name} is not in the expected format`;
    default:
      return `${name} is not valid`;
  }
}

/** The message of a failed validation, used by every route: each distinct problem once, joined. */
export function describeIssues(error: z.ZodError): string {
  return [...new Set(error.issues.map(sentence))].join("; ");
}
