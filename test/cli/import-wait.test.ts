import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeServer, startFakeServer } from "../analysers/shared/fixtures.js";
import { solidImage } from "../support/fake-analyser.js";
import { photocat } from "./support.js";

describe("photocat import --wait when analyses fail", () => {
  let dir: string;
  let server: FakeServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-wait-"));
    // An OpenAI-compatible server that refuses every request (not worth retrying).
    server = await startFakeServer(() => ({
      status: 400,
      body: { error: { message: "model does not accept images", type: "invalid_request_error" } },
    }));
    await mkdir(path.join(dir, "photos"));
    await writeFile(path.join(dir, "photos", "a.jpg"), await solidImage({ r: 200, g: 10, b: 10 }, 1));
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names each failed photo of this import with its reason, and exits 3", async () => {
    const result = await photocat(["import", path.join(dir, "photos"), "--wait"], {
      PHOTOCAT_DATA_DIR: path.join(dir, "data"),
      PHOTOCAT_ANALYSER: "openai",
      PHOTOCAT_MODEL: "test-model",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${server.url}/v1`,
    });
    expect(result.stderr).toContain("added 1, duplicates 0, rejected 0");
    expect(result.stderr).toMatch(/^failed a\.jpg \([0-9a-f-]{36}\): .*model does not accept images/m);
    expect(result.stderr).toContain("analysed: 0 done, 1 failed");
    expect(result.code).toBe(3);
  }, 120_000);
});
