import { describe, expect, it } from "vitest";
import { timeLeft } from "../../src/cli/progress.js";

describe("the progress bar's time left", () => {
  const options = { autopaddingChar: " " };

  it("says -- before there is a rate, never cli-progress's INF cut to NF", () => {
    // cli-progress passes its "INF" string where the types say number.
    expect(timeLeft("INF" as unknown as number, options, 5)).toBe("--");
    expect(timeLeft(Number.POSITIVE_INFINITY, options, 5)).toBe("--");
  });

  it("writes a known time as seconds, minutes or hours", () => {
    expect(timeLeft(4, options, 5)).toBe(" 4s");
    expect(timeLeft(125, options, 5)).toBe(" 2m 5s");
    expect(timeLeft(7500, options, 5)).toBe(" 2h 5m");
  });
});
