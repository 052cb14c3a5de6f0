import { existsSync } from "node:fs";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sweepStaleUploads } from "../../src/http/upload.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("upload leftovers", () => {
  it("removes only old upload files that a killed process left behind", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-sweep-"));
    const old = path.join(dir, "a.upload");
    const fresh = path.join(dir, "b.upload");
    const other = path.join(dir, "keep.txt");
    for (const f of [old, fresh, other]) await writeFile(f, "x");
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    await utimes(other, twoHoursAgo, twoHoursAgo);
    expect(await sweepStaleUploads(dir)).toBe(1);
    expect([existsSync(old), existsSync(fresh), existsSync(other)]).toEqual([false, true, true]);
    expect(await sweepStaleUploads(path.join(dir, "missing"))).toBe(0);
  });
});
