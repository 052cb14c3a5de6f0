import { describe, expect, it } from "vitest";
import { forEachLimited } from "../../src/cli/files.js";

describe("forEachLimited", () => {
  it("runs every item of an async source with at most `limit` at once", async () => {
    async function* items() {
      for (let i = 0; i < 20; i++) yield i;
    }
    let active = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimited(items(), 3, async (i) => {
      most = Math.max(most, ++active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
      done.push(i);
    });
    expect(most).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });
});
