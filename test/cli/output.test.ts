import { describe, expect, it } from "vitest";
import { truncateWords } from "../../src/cli/output.js";

describe("truncateWords (list's summary column)", () => {
  it("keeps text that fits", () => {
    expect(truncateWords("A cat.", 10)).toBe("A cat.");
    expect(truncateWords("exactly ten", 11)).toBe("exactly ten");
  });

  it("cuts at the last word boundary and marks the cut with an ellipsis", () => {
    const cut = truncateWords("A tabby cat asleep on a sunny windowsill", 20);
    expect(cut).toBe("A tabby cat asleep…");
    expect(cut.length).toBeLessThanOrEqual(20);
    // punctuation left dangling before the cut goes
    expect(truncateWords("Boats, nets, gulls and a pier", 14)).toBe("Boats, nets…");
  });

  it("cuts inside a single very long word rather than showing nothing", () => {
    const cut = truncateWords("Supercalifragilisticexpialidocious", 10);
    expect(cut).toBe("Supercali…");
    expect(cut).toHaveLength(10);
  });
});
