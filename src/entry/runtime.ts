import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { type Config, isExposed } from "../config.js";
import { type Container, createContainer } from "../container.js";
import { ConfigurationError } from "../domain/errors.js";
import { readPackageVersion } from "../http/app.js";
import { sweepStaleUploads } from "../http/upload.js";
import type { Logger } from "../logger.js";
import type { Analyser } from "../ports/analyser.js";
import { sweepOrphanFiles } from "../services/recovery.js";
import { type FolderWatcher, watchFolder } from "../services/watch-folder.js";
import type { Worker } from "../services/worker.js";
import { createContainerApp } from "./app.js";
import { startContainerWorker } from "./worker.js";

export const PROJECT_ROOT = path.resolve(
  fileURLToPath(new URL("../..", import.meta.url)).replace(/\/dist\/?$/, ""),
);
export const WEB_ROOT = path.join(PROJECT_ROOT, "web", "dist");

/** Stored files without a record younger than this may be an upload another process is finishing. */
export const ORPHAN_FILE_AGE_MS = 60 * 60_000;

/** How often a server or worker deletes for good the photos trashed more than 30 days ago. */
export const TRASH_PURGE_EVERY_MS = 60 * 60_000;

export interface RunOptions {
  http: boolean;
  worker: boolean;
  watch?: string | null;
  analyser?: Analyser;
  logger?: Logger;
  /** Worker tuning for tests. */
  pollMs?: number;
  baseBackoffMs?: number;
  leaseMs?: number;
  trashPurgeMs?: number;
}

export interface Running {
  container: Container;
  url: string | null;
  worker: Worker | null;
  watcher: FolderWatcher | null;
  close(): Promise<void>;
}

/** Starts what a process runs: the HTTP server, the analysis worker and the folder watcher, in any mix. */
export async function run(config: Config, options: RunOptions): Promise<Running> {
  if (options.http && isExposed(config.host) && !config.password && config.apiTokens.length === 0) {
    throw new ConfigurationError(
      `refusing to listen on ${config.host} without a password: set PHOTOCAT_PASSWORD or PHOTOCAT_API_TOKENS, ` +
        "or keep the default host 127.0.0.1",
    );
  }
  const container = await createContainer(config, { logger: options.logger, analyser: options.analyser });
  const { logger } = container;
  // Files a killed process stored without their record; in the background, as it lists the whole store.
  const sweep = sweepOrphanFiles(container, { olderThanMs: ORPHAN_FILE_AGE_MS }).catch((error: unknown) =>
    logger.warn({ err: error }, "could not sweep unreferenced stored files"),
  );
  const purge = startTrashPurge(container, options.trashPurgeMs ?? TRASH_PURGE_EVERY_MS);
  let server: ReturnType<typeof serve> | null = null;
  let worker: Worker | null = null;
  let watcher: FolderWatcher | null = null;
  let url: string | null = null;
  let warming: Promise<void> = Promise.resolve();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await watcher?.close();
    if (server) {
      const s = server as ReturnType<typeof serve>;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        // Server-sent event streams never end by themselves.
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
    await worker?.stop();
    await purge.stop();
    await sweep;
    await warming;
    await container.close();
  };

  try {
    // Listen first: a process that cannot serve must not go on analysing (and spending) in the background.
    if (options.http) {
      url = await listen();
      warming = warmSimilar(container);
    }
    if (options.worker) {
      worker = await startContainerWorker(container, {
        pollMs: options.pollMs,
        baseBackoffMs: options.baseBackoffMs,
        leaseMs: options.leaseMs,
      });
    }
    if (options.watch) watcher = watchFolder(container.ingestDeps, container.ingestLimits, options.watch);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { container, url, worker, watcher, close };

  async function listen(): Promise<string> {
    const swept = await sweepStaleUploads(path.join(config.dataDir, "tmp"));
    if (swept > 0) logger.info({ swept }, "removed upload files left by an earlier crash");
    const app = createContainerApp(container, {
      webRoot: WEB_ROOT,
      version: await readPackageVersion(PROJECT_ROOT),
    });
    const started = await new Promise<{ port: number }>((resolve, reject) => {
      const s = serve(
        {
          fetch: app.fetch,
          hostname: config.host,
          port: config.port,
          // Node ends any request after 5 minutes by default, which fails a large upload over a slow
          // link with 408; uploads are bounded by their own idle timeout instead (http/upload.ts).
          serverOptions: { requestTimeout: 0, headersTimeout: 60_000 },
        },
        (info) => resolve(info),
      );
      server = s;
      s.once("error", (error: NodeJS.ErrnoException) => {
        server = null;
        s.close();
        reject(listenFailure(error, config.host, config.port));
      });
    });
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    const address = `http://${host}:${started.port}`;
    logger.info({ url: address }, "serving");
    return address;
  }
}

/**
 * The similar-photo index, loaded in the background while the server already answers: otherwise the first
 * "more like this" waits for it (seconds for 100,000 photos).
 */
async function warmSimilar(container: Container): Promise<void> {
  const started = performance.now();
  try {
    const photos = await container.gallery.warmSimilar();
    if (photos > 0) {
      const ms = Math.round(performance.now() - started);
      container.logger.info({ photos, ms }, "similar-photo index loaded");
    }
  } catch (error) {
    container.logger.warn({ err: error }, "could not load the similar-photo index (it loads on first use)");
  }
}

/**
 * Deletes for good, at start and then every `everyMs`, what has been in the trash for 30 days: files go
 * only then. Every process may run it: a photo two of them delete is deleted once.
 */
function startTrashPurge(container: Container, everyMs: number): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const purge = () => {
    running = running.then(async () => {
      try {
        const deleted = await container.gallery.purgeExpiredTrash();
        if (deleted > 0)
          container.logger.info({ deleted }, "deleted for good the photos trashed 30 days ago");
      } catch (error) {
        container.logger.warn({ err: error }, "could not purge the trash of photos trashed 30 days ago");
      }
    });
  };
  purge();
  const timer = setInterval(purge, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === "EADDRINUSE") {
    return new ConfigurationError(
      `cannot listen on ${host}:${port}: the port is in use (is Photocat already running?); ` +
        "choose another with --port or PHOTOCAT_PORT",
    );
  }
  if (error.code === "EADDRNOTAVAIL" || error.code === "EACCES") {
    return new ConfigurationError(`cannot listen on ${host}:${port}: ${error.code}; check --host and --port`);
  }
  return error;
}
