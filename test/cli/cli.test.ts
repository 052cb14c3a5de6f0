import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeServer, startFakeServer } from "../analysers/shared/fixtures.js";
import { solidImage } from "../support/fake-analyser.js";
import { chatCompletion, photocat } from "./support.js";

describe("photocat command line", () => {
  let dir: string;
  let server: FakeServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-"));
    server = await startFakeServer(() => chatCompletion({ category: "vehicles", summary: "A red bicycle." }));
    env = {
      PHOTOCAT_DATA_DIR: path.join(dir, "data"),
      PHOTOCAT_ANALYSER: "openai",
      PHOTOCAT_MODEL: "test-model",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${server.url}/v1`,
    };
    const photos = path.join(dir, "photos", "2024");
    await mkdir(photos, { recursive: true });
    await writeFile(path.join(photos, "a.jpg"), await solidImage({ r: 200, g: 10, b: 10 }, 1));
    await writeFile(path.join(photos, "b.png"), await solidImage({ r: 10, g: 200, b: 10 }, 2, "png"));
    await writeFile(path.join(dir, "photos", "notes.txt"), "not a photo");
    await writeFile(path.join(dir, "photos", ".hidden.jpg"), "skipped");
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("prints help for every command and exits 0", async () => {
    const help = await photocat(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "serve",
      "worker",
      "import",
      "analyse",
      "list",
      "search",
      "show",
      "export",
      "reanalyse",
    ]) {
      expect(help.stdout).toContain(command);
    }
    const importHelp = await photocat(["import", "--help"]);
    expect(importHelp.code).toBe(0);
    expect(importHelp.stdout).toContain("--data-dir");
    expect(importHelp.stdout).toContain("PHOTOCAT_DATA_DIR");
  });

  it("exits 2 on bad usage and bad settings, naming the problem", async () => {
    expect((await photocat(["no-such-command"])).code).toBe(2);
    const bad = await photocat(["list"], { ...env, PHOTOCAT_MAX_RETRIES: "many" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("PHOTOCAT_MAX_RETRIES");
    const missingKey = await photocat(["analyse", "x.jpg"], {
      ...env,
      OPENAI_API_KEY: "",
      OPENAI_BASE_URL: "",
    });
    expect(missingKey.code).toBe(2);
    expect(missingKey.stderr).toContain("OPENAI_API_KEY");
  });

  it("imports folders recursively, reports rejects, and exits 3 when some files were rejected", async () => {
    const result = await photocat(["import", path.join(dir, "photos"), "--wait"], env);
    expect(result.stderr).toContain("added 2, duplicates 0, rejected 1");
    expect(result.stderr).toMatch(/rejected .*notes\.txt: .*not supported/);
    expect(result.stderr).toContain("analysed: 2 done, 0 failed");
    expect(result.code).toBe(3);

    const again = await photocat(["import", path.join(dir, "photos", "2024"), "--json"], env);
    expect(again.code).toBe(0);
    const lines = again.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { duplicate: boolean });
    expect(lines.map((l) => l.duplicate)).toEqual([true, true]);
  });

  it("lists, searches, shows and exports the catalogue", async () => {
    const list = await photocat(["list", "--format", "json"], env);
    expect(list.code).toBe(0);
    const images = list.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(images).toHaveLength(2);
    expect(images[0]).toMatchObject({ status: "done", category: "vehicles", summary: "A red bicycle." });
    expect(images[0]!.analysis).toMatchObject({
      provider: "openai",
      model: "test-model",
      input_tokens: 1000,
    });

    const search = await photocat(["search", "bicycle", "--format", "json"], env);
    expect(search.stdout.trim().split("\n")).toHaveLength(2);
    const none = await photocat(["search", "zebra"], env);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain("no photos match");

    const show = await photocat(["show", String(images[0]!.id)], env);
    expect(show.stdout).toMatch(/category\s+vehicles/);
    const missing = await photocat(["show", "00000000-0000-4000-8000-000000000000"], env);
    expect(missing.code).toBe(1);

    const csvFile = path.join(dir, "export.csv");
    const exported = await photocat(["export", "--format", "csv", "-o", csvFile], env);
    expect(exported.code).toBe(0);
    const csv = (await readFile(csvFile, "utf8")).trim().split("\n");
    expect(csv[0]).toMatch(/^id,status,category,summary/);
    expect(csv).toHaveLength(3);

    const stats = await photocat(["stats", "--format", "json"], env);
    expect(JSON.parse(stats.stdout)).toMatchObject({ images: 2, inputTokens: 2000 });
  }, 120_000); // eight runs of the CLI: slow on a busy machine

  it("queues photos again and says how many", async () => {
    const result = await photocat(["reanalyse", "--all"], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("queued 2 photos");
    expect((await photocat(["reanalyse"], env)).code).toBe(2);
  });

  it("analyses files without storing them, one JSON line per file", async () => {
    const result = await photocat(
      ["analyse", "--json", path.join(dir, "photos", "2024", "a.jpg"), path.join(dir, "photos", "notes.txt")],
      { ...env, PHOTOCAT_DATA_DIR: path.join(dir, "unused") },
    );
    expect(result.code).toBe(3);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byFile = Object.fromEntries(lines.map((l) => [path.basename(String(l.file)), l]));
    expect(byFile["a.jpg"]).toMatchObject({
      category: "vehicles",
      summary: "A red bicycle.",
      provider: "openai",
      model: "test-model",
      ms: expect.any(Number),
    });
    expect(byFile["notes.txt"]).toMatchObject({ error: { code: "unsupported_media_type" } });
  });
});
