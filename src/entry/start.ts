import { loadConfig, type SettingOverrides } from "../config.js";
import { silentLogger } from "../logger.js";
import type { Analyser } from "../ports/analyser.js";
import { type Running, run } from "./runtime.js";

export interface StartOptions {
  dataDir: string;
  settings?: SettingOverrides;
  /** A test double; the configured analyser otherwise. */
  analyser?: Analyser;
  port?: number;
  /** Run the analysis worker in the same process (default true). */
  worker?: boolean;
}

/** Starts a whole Photocat (HTTP + worker) on 127.0.0.1, for tests and embedding. */
export async function startPhotocat(
  options: StartOptions,
): Promise<{ url: string; running: Running; close(): Promise<void> }> {
  const config = loadConfig(
    {},
    {
      PHOTOCAT_PORT: String(options.port ?? 0),
      PHOTOCAT_HOST: "127.0.0.1",
      ...options.settings,
      PHOTOCAT_DATA_DIR: options.dataDir,
    },
  );
  const running = await run(config, {
    http: true,
    worker: options.worker ?? true,
    analyser: options.analyser,
    logger: silentLogger(),
    pollMs: 200,
    baseBackoffMs: 200,
  });
  return { url: running.url!, running, close: () => running.close() };
}
