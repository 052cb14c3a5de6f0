import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import xterm from "@xterm/headless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeLeft } from "../../src/cli/progress.js";
import { type FakeServer, startFakeServer } from "../analysers/shared/fixtures.js";
import { solidImage } from "../support/fake-analyser.js";
import { chatCompletion, NODE_ARGS, photocat } from "./support.js";

const COLUMNS = 100;
const hasScript = spawnSync("script", ["--version"]).status === 0;
if (!hasScript)
  console.warn("skipping the terminal tests: util-linux `script` (a pseudo-terminal) is missing");

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * Runs photocat in a pseudo-terminal (util-linux `script`) and renders what it drew with a headless
 * xterm, so the test reads the screen a person would see, after every cursor move and line clear.
 */
async function inTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; lines: string[] }> {
  const command = `stty cols ${COLUMNS} rows 40; exec node ${[...NODE_ARGS, ...args].map(quote).join(" ")}`;
  const { code, output } = await new Promise<{ code: number; output: Buffer }>((resolve) => {
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.on("close", (c) => resolve({ code: c ?? -1, output: Buffer.concat(chunks) }));
  });
  const term = new xterm.Terminal({ cols: COLUMNS, rows: 40, scrollback: 1000, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(output, resolve));
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? "");
  term.dispose();
  return { code, lines: lines.filter((l) => l.trim() !== "") };
}

describe.skipIf(!hasScript)("photocat import in a terminal", () => {
  let dir: string;
  let server: FakeServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-tty-"));
    server = await startFakeServer(() => chatCompletion({ summary: "A green square." }));
    env = {
      PHOTOCAT_DATA_DIR: path.join(dir, "data"),
      PHOTOCAT_ANALYSER: "openai",
      PHOTOCAT_MODEL: "test-model",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${server.url}/v1`,
      PHOTOCAT_LOG_LEVEL: "",
    };
    await mkdir(path.join(dir, "earlier"));
    await mkdir(path.join(dir, "now"));
    await writeFile(path.join(dir, "earlier", "old.jpg"), await solidImage({ r: 9, g: 9, b: 200 }, 1));
    for (const [i, name] of ["a.jpg", "b.jpg", "c.jpg"].entries()) {
      await writeFile(path.join(dir, "now", name), await solidImage({ r: 50 * i, g: 200, b: 10 }, 2 + i));
    }
    await writeFile(path.join(dir, "now", "notes.txt"), "not a photo");
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("draws a bar per phase, logs above the bars, and reports only this import's photos", async () => {
    // A photo queued by an earlier import, without --wait: the worker below may analyse it too.
    const earlier = await photocat(["import", path.join(dir, "earlier")], env);
    expect(earlier.code).toBe(0);

    // --log-level info so that log lines are written while the bars are drawn.
    const { code, lines } = await inTerminal(
      ["import", path.join(dir, "now"), "--wait", "--log-level", "info"],
      env,
    );
    const screen = lines.join("\n");
    expect(code, screen).toBe(3); // notes.txt was rejected

    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const importBar = at(/^importing \[=+\] 4\/4 files/);
    const imported = at(/^added 3, duplicates 0, rejected 1$/);
    const analyseBar = at(/^analysing \[=+\] 3\/3 photos \| 0 failed/);
    const analysed = at(/^analysed: 3 done, 0 failed$/);
    expect(
      [importBar, imported, analyseBar, analysed].every((i) => i >= 0),
      screen,
    ).toBe(true);
    // Each on its own line, in this order: nothing overwrote a summary.
    expect(importBar < imported && imported < analyseBar && analyseBar < analysed, screen).toBe(true);
    expect(lines.at(-1), screen).toBe(lines[analysed]);

    // Log lines stand alone (above the bars), never inside a bar's line.
    const logLines = lines.filter((l) => /INFO/.test(l));
    expect(
      logLines.filter((l) => l.includes("photo ingested")),
      screen,
    ).toHaveLength(3);
    expect(logLines.filter((l) => l.includes("photo analysed")).length, screen).toBeGreaterThanOrEqual(3);
    for (const line of logLines) expect(line, screen).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: /);
    expect(
      lines.filter((l) => /(importing|analysing) \[/.test(l)),
      screen,
    ).toHaveLength(2);
    expect(screen).toMatch(/rejected .*notes\.txt: .*not supported/);
  }, 120_000);
});

describe("the progress bar's time left", () => {
  const options = { autopaddingChar: " " };

  it("says -- before there is a rate, never cli-progress's INF cut to NF", () => {
    // cli-progress passes its "INF" string where the types say number.
    expect(timeLeft("INF" as unknown as number, options, 5)).toBe("--");
    expect(timeLeft(Number.POSITIVE_INFINITY, options, 5)).toBe("--");
  });

  it("writes a known time as seconds, minutes or hours", () => {
    expect(timeLeft(4, options, 5)).toBe(" 4s");
    expect(timeLeft(125, options, 5)).toBe(" 2m 5s");
    expect(timeLeft(7500, options, 5)).toBe(" 2h 5m");
  });
});
