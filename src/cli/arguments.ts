import { InvalidArgumentError, Option } from "commander";
import type { OutputFormat } from "./output.js";

/**
 * Parsers for flag values. Commander turns an InvalidArgumentError into "option '--x <n>' argument 'v' is
 * invalid. <message>" and our exit code 2, so bad usage never reaches a command's action.
 */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a whole number of at least 1.");
  }
  return n;
}

/** The dates the catalogue filters take: 2024-05-01 or an ISO time such as 2024-05-01T12:00:00Z. */
export function isoDate(value: string): string {
  const v = value.trim();
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00.000Z` : v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError("expected a date such as 2024-05-01 or an ISO time.");
  }
  return v;
}

/** `--format`, taking exactly the formats the command can write; its help lists them. */
export function formatOption(formats: readonly OutputFormat[], fallback: OutputFormat): Option {
  return new Option("--format <format>", "output format").choices(formats).default(fallback);
}
