import { describe, expect, it } from "vitest";
import { ChangeFollower, type ChangeStamp } from "../../src/domain/change-follower.js";

/** A change log ordered by (changedMs, imageId), read as a catalogue would. */
function log(changes: ChangeStamp[]) {
  const reads: (ChangeStamp | null)[] = [];
  const readPage = (since: ChangeStamp | null, limit: number) => {
    reads.push(since);
    return changes
      .filter(
        (c) =>
          !since ||
          c.changedMs > since.changedMs ||
          (c.changedMs === since.changedMs && c.imageId > since.imageId),
      )
      .sort((a, b) => a.changedMs - b.changedMs || a.imageId.localeCompare(b.imageId))
      .slice(0, limit);
  };
  return { changes, reads, readPage };
}

describe("following changes for an in-memory copy", () => {
  it("reads everything in pages first, then only what changed since, again from a lag before the last seen", async () => {
    const source = log(
      Array.from({ length: 5 }, (_, i) => ({ changedMs: 1_000 * (i + 1), imageId: `p${i}` })),
    );
    const seen: string[] = [];
    let reorganised = 0;
    const follower = new ChangeFollower(source.readPage, (c) => seen.push(c.imageId), {
      lagMs: 1_500,
      pageSize: 2,
      afterRead: () => reorganised++,
    });
    await follower.refresh();
    expect(seen).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(source.reads).toEqual([
      null,
      { changedMs: 2_000, imageId: "p1" },
      { changedMs: 4_000, imageId: "p3" },
    ]);
    expect(reorganised).toBe(1);

    // A write stamped before the last seen commits late: the lag reads it.
    source.changes.push({ changedMs: 4_500, imageId: "late" }, { changedMs: 6_000, imageId: "p5" });
    seen.length = 0;
    const before = source.reads.length;
    await follower.refresh();
    expect(source.reads[before]).toEqual({ changedMs: 3_500, imageId: "" });
    expect(seen).toEqual(["p3", "late", "p4", "p5"]);
    expect(reorganised).toBe(2);
  });

  it("runs one refresh at a time: callers meanwhile share it", async () => {
    const source = log([{ changedMs: 1, imageId: "a" }]);
    let reads = 0;
    const follower = new ChangeFollower(
      async (since: ChangeStamp | null, limit: number) => {
        reads++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return source.readPage(since, limit);
      },
      () => {},
      { lagMs: 0, pageSize: 10 },
    );
    await Promise.all([follower.refresh(), follower.refresh(), follower.refresh()]);
    expect(reads).toBe(1);
    await follower.refresh();
    expect(reads).toBe(2);
  });
});
