import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { checkMetadataCorpus } from "../../scripts/check-metadata-corpus.js";
import { HAS_TESTDATA, TESTDATA_DIR } from "../support/testdata.js";

const hasPerl = (() => {
  try {
    execFileSync("perl", ["-v"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();
if (HAS_TESTDATA && !hasPerl) console.warn("[skip] metadata corpus writes: perl is not installed");

// The full sweep (585 files, about 30 s) is `npx tsx scripts/check-metadata-corpus.ts --write`.
describe.skipIf(!HAS_TESTDATA)("real files with EXIF, IPTC and XMP edge cases", () => {
  it("read (and, with perl, get written) without a crash: every tenth file", async () => {
    const result = await checkMetadataCorpus(TESTDATA_DIR, { write: hasPerl, every: 7 });
    expect(result.crashes).toEqual([]);
    expect(result.read).toBeGreaterThan(40);
    if (hasPerl) expect(result.written).toBeGreaterThan(20);
  }, 120_000);
});
