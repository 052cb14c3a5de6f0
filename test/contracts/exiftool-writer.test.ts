import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createExiftoolWriter } from "../../src/adapters/metadata/exiftool.js";
import { runMetadataWriterContract } from "./metadata-writer.contract.js";

const hasPerl = (() => {
  try {
    execFileSync("perl", ["-e", "1"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasPerl) console.warn("[skip] the ExifTool writer's contract: perl is not installed");

if (hasPerl) runMetadataWriterContract("exiftool", () => createExiftoolWriter());

describe("the ExifTool writer where it cannot run", () => {
  it("answers writer_unavailable, without crashing, when perl or ExifTool is missing", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "photocat-nowriter-"));
    const file = path.join(dir, "a.jpg");
    await writeFile(file, "not read");
    try {
      for (const options of [
        { perl: path.join(dir, "no-perl") },
        { exiftoolPath: path.join(dir, "no-exiftool") },
      ]) {
        const writer = createExiftoolWriter(options);
        const description = {
          title: null,
          description: "x",
          keywords: [],
          hierarchicalSubjects: [],
          altText: null,
          visibleText: null,
        };
        await expect(writer.embed(file, "image/jpeg", description)).rejects.toMatchObject({
          code: "writer_unavailable",
          status: 503,
        });
        await writer.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
