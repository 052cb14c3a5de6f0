import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TAXONOMY } from "../../src/domain/taxonomy.js";
import { describeFile } from "../../src/services/describe-files.js";
import { failure } from "../analysers/shared/fixtures.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";

const settings = { taxonomy: DEFAULT_TAXONOMY, language: "en", shareContext: false, maxPixels: 100_000_000 };

describe("describeFile (photocat analyse)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-describe-"));
    await writeFile(path.join(dir, "red.png"), await solidImage({ r: 220, g: 10, b: 10 }, 1, "png"));
    await writeFile(path.join(dir, "notes.jpg"), "a text file with a photo's name");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("types the file by its content and hands its bytes to the analyser", async () => {
    const analyser = fakeAnalyser();
    const analysis = await describeFile(analyser, settings, path.join(dir, "red.png"));
    expect(analysis.category).toBe("food");
    expect(analyser.calls).toHaveLength(1);
    expect(analyser.calls[0]).toMatchObject({ mediaType: "image/png", language: "en" });
    // A remote model gets no capture context unless the user allows it.
    expect(analyser.calls[0]!.context).toBeUndefined();
  });

  it("refuses what is not an image, whatever its name, and images over the pixel limit", async () => {
    const analyser = fakeAnalyser();
    expect((await failure(describeFile(analyser, settings, path.join(dir, "notes.jpg")))).code).toBe(
      "unsupported_media_type",
    );
    const small = { ...settings, maxPixels: 100 };
    expect((await failure(describeFile(analyser, small, path.join(dir, "red.png")))).code).toBe(
      "image_too_large",
    );
    expect(analyser.calls).toHaveLength(0);
  });
});
