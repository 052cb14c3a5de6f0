import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_ARGS, photocat, seedCatalogue } from "./support.js";

const LONG_SUMMARY =
  "A weathered fishing boat rests on the pebbles of a quiet harbour at dawn while gulls circle above the " +
  "nets, the lighthouse and the old stone pier that shelters the little town from the winter storms.";

describe("photocat usage: exit codes, messages, help, ids and tables", () => {
  let dir: string;
  let env: Record<string, string>;
  let ids: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-usage-"));
    env = { PHOTOCAT_DATA_DIR: path.join(dir, "data") };
    ids = await seedCatalogue(env.PHOTOCAT_DATA_DIR!, [
      { id: "abcd1111-0000-4000-8000-000000000001", summary: LONG_SUMMARY, category: "travel" },
      { id: "abcd2222-0000-4000-8000-000000000002" },
      { id: "0f0f0f0f-0000-4000-8000-000000000003", summary: "A short one." },
    ]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [["list", "--format", "xml"], /--format.*'xml' is invalid.*table, json, csv/s],
    [["list", "--status", "finished"], /--status.*'finished' is invalid.*queued, running, done, failed/s],
    [["list", "-n", "0"], /--limit.*'0' is invalid.*whole number of at least 1/s],
    [["list", "--from", "yesterday"], /--from.*'yesterday' is invalid.*2024-05-01/s],
    [["search", "boat", "--to", "soon"], /--to.*'soon' is invalid/s],
    [["export", "--format", "table"], /--format.*'table' is invalid.*json, csv/s],
    [["import", "x.jpg", "-j", "many"], /--jobs.*'many' is invalid/s],
  ])("%j exits 2 naming the flag and what it takes", async (args, message) => {
    const result = await photocat(args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("help and errors agree on the formats of each command", async () => {
    for (const command of [["list"], ["search", "x"], ["show", ids[0]!], ["export"], ["stats"]]) {
      const help = await photocat([command[0]!, "--help"]);
      const inHelp = /--format <format>[^(]*\(choices: ([^)]*?),\s*default/s.exec(help.stdout)?.[1];
      expect(inHelp, command[0]).toBeDefined();
      const helpFormats = inHelp!.replace(/\s+/g, " ").replace(/"/g, "").split(", ");
      const error = await photocat([...command, "--format", "nope"], env);
      expect(error.code).toBe(2);
      const inError = /Allowed choices are ([^.]*)\./.exec(error.stderr)?.[1];
      expect(inError?.split(", "), command[0]).toEqual(helpFormats);
    }
    const exportHelp = await photocat(["export", "--help"]);
    expect(exportHelp.stdout).toMatch(/choices: "json", "csv"/);
  }, 180_000);

  it("names the flag the user typed, or the environment variable the value came from", async () => {
    const fromFlag = await photocat(["serve", "--port", "http"], env, 20_000);
    expect(fromFlag.code).toBe(2);
    expect(fromFlag.stderr).toContain("--port must be a number");
    expect(fromFlag.stderr).not.toContain("PHOTOCAT_PORT");
    const fromEnv = await photocat(["serve"], { ...env, PHOTOCAT_PORT: "http" }, 20_000);
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain("PHOTOCAT_PORT must be a number");
    const provider = await photocat(["analyse", "x.jpg", "--provider", "gpt"], env);
    expect(provider.code).toBe(2);
    expect(provider.stderr).toMatch(/^photocat: --provider must be one of local, anthropic/m);
  }, 120_000);

  it("lists in each command's help only the settings it uses", async () => {
    const help = async (...args: string[]) => (await photocat([...args, "--help"])).stdout;
    const list = await help("list");
    expect(list).toContain("--data-dir");
    expect(list).toContain("PHOTOCAT_DATABASE_URL");
    for (const unused of ["--port", "--host", "--password", "--analyser", "--rpm", "--max-upload-mb"]) {
      expect(list).not.toContain(unused);
    }
    const analyse = await help("analyse");
    expect(analyse).toContain("--analyser");
    expect(analyse).toContain("--max-pixels");
    for (const unused of ["--port", "--data-dir", "--cors-origins", "--embeddings"]) {
      expect(analyse).not.toContain(unused);
    }
    const importHelp = await help("import");
    expect(importHelp).toContain("--data-dir");
    expect(importHelp).toContain("--analyser");
    expect(importHelp).toContain("--embedding-model");
    expect(importHelp).not.toContain("--port");
    const serve = await help("serve");
    for (const used of ["--port", "--password", "--analyser", "--data-dir"]) expect(serve).toContain(used);
  }, 120_000);

  it("show takes a unique id prefix; an ambiguous one exits 2, an unknown one exits 1", async () => {
    const unique = await photocat(["show", "0f0f"], env);
    expect(unique.code).toBe(0);
    expect(unique.stdout).toMatch(/^id\s+0f0f0f0f-0000-4000-8000-000000000003$/m);
    const upper = await photocat(["show", "ABCD1", "--format", "json"], env);
    expect(upper.code).toBe(0);
    expect(JSON.parse(upper.stdout)).toMatchObject({ id: ids[0] });

    const ambiguous = await photocat(["show", "abcd"], env);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain("the id prefix abcd is ambiguous");
    expect(ambiguous.stderr).toContain(ids[0]);
    expect(ambiguous.stderr).toContain(ids[1]);

    // delete resolves every id first: one ambiguous prefix deletes nothing.
    const deleteAmbiguous = await photocat(["delete", "0f0f", "abcd"], env);
    expect(deleteAmbiguous.code).toBe(2);
    expect((await photocat(["show", "0f0f"], env)).code).toBe(0);

    const unknown = await photocat(["show", "eeee"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no photo has an id starting with eeee");
    const tooShort = await photocat(["show", "ab"], env);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toContain("first 4 or more characters");
  }, 240_000);

  it("list prints a header row and cuts long summaries at a word boundary with an ellipsis", async () => {
    const result = await photocat(["list"], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CATEGORY\s+SUMMARY$/);
    expect(lines).toHaveLength(4);
    const row = lines.find((l) => l.startsWith("abcd1111"));
    expect(row).toBeDefined();
    expect(row!.length).toBeLessThanOrEqual(100);
    expect(row).toContain("travel");
    const shown = /travel\s+(.*)…$/.exec(row!)?.[1];
    expect(shown, row).toBeDefined();
    expect(LONG_SUMMARY.startsWith(shown!)).toBe(true);
    expect(shown!.length).toBeGreaterThan(40);
    // The cut falls between words: the next character of the summary is a space (or punctuation).
    expect(LONG_SUMMARY[shown!.length]).toMatch(/[\s,]/);
    expect(lines.find((l) => l.startsWith("0f0f0f0f"))).toMatch(/A short one\.$/);
  });

  it("export into a pipe that closes early (| head -c 100) exits quietly with 0", async () => {
    const big = path.join(dir, "big");
    // About 2 MB of JSON lines: far more than a pipe holds, so writes go on after head has left.
    await seedCatalogue(
      big,
      Array.from({ length: 2500 }, () => ({ summary: LONG_SUMMARY })),
    );
    const command = `set -o pipefail; node ${NODE_ARGS.join(" ")} export | head -c 100 > /dev/null`;
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", command], {
        env: { ...process.env, PHOTOCAT_DATA_DIR: big, PHOTOCAT_LOG_LEVEL: "error" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
      });
      child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);

  it.each([
    ["import --wait", ["import", "photo.jpg", "--wait"]],
    ["import --batch", ["import", "photo.jpg", "--batch"]],
    ["serve", ["serve", "--port", "0"]],
    ["worker", ["worker"]],
  ])("%s with a missing API key fails with exit 2 before creating the data folder", async (_, args) => {
    const dataDir = path.join(dir, `never-${args[0]}-${args.length}`);
    const result = await photocat(
      args,
      { PHOTOCAT_DATA_DIR: dataDir, PHOTOCAT_ANALYSER: "anthropic", ANTHROPIC_API_KEY: "" },
      20_000,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("ANTHROPIC_API_KEY");
    expect(existsSync(dataDir)).toBe(false);
  });
});
