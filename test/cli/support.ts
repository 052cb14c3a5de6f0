import { spawn } from "node:child_process";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { createContainer } from "../../src/container.js";
import { silentLogger } from "../../src/logger.js";
import { validAnswer } from "../analysers/shared/fixtures.js";
import { analysis, newImage } from "../contracts/fixtures.js";

export const CLI = path.resolve("src/cli/main.ts");
/** How the tests start the CLI: from the sources, as `photocat` would run the compiled files. */
export const NODE_ARGS = ["--import", "tsx", CLI];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `photocat args...` with logs quiet unless `env` says otherwise; killed after `timeoutMs`. */
export function photocat(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      env: { ...process.env, PHOTOCAT_LOG_LEVEL: "error", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Fills a catalogue in `dataDir` with described photos (no files: enough for list, show and export). */
export async function seedCatalogue(
  dataDir: string,
  photos: {
    id?: string;
    summary?: string;
    category?: string;
    takenAt?: string;
    place?: string;
    gps?: { latitude: number; longitude: number };
  }[],
): Promise<string[]> {
  const container = await createContainer(loadConfig({}, { PHOTOCAT_DATA_DIR: dataDir }), {
    logger: silentLogger(),
  });
  const ids: string[] = [];
  try {
    for (const [i, photo] of photos.entries()) {
      const base = newImage();
      const { image } = await container.catalog.insertImage({
        ...base,
        ...(photo.id ? { id: photo.id } : {}),
        place: photo.place ?? null,
        metadata: { ...base.metadata, takenAt: photo.takenAt ?? null, gps: photo.gps ?? null },
      });
      await container.catalog.saveAnalysis(
        image.id,
        analysis({
          ...(photo.summary ? { summary: photo.summary } : {}),
          ...(photo.category ? { category: photo.category } : {}),
        }),
        `seed-${i}`,
      );
      ids.push(image.id);
    }
  } finally {
    await container.close();
  }
  return ids;
}

/** An OpenAI-compatible server's answer (as vLLM or LM Studio give) describing every photo the same way. */
export function chatCompletion(answer: Parameters<typeof validAnswer>[0]) {
  return {
    body: {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1764000000,
      model: "test-model",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: JSON.stringify(validAnswer(answer)) },
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050 },
    },
  };
}
