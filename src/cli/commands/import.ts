import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { type BatchApi, createAnalyser, createBatchApi } from "../../analysers/registry.js";
import { type Container, createContainer } from "../../container.js";
import { ConfigurationError, errorMessage, isPhotocatError } from "../../domain/errors.js";
import { startContainerWorker } from "../../entry/worker.js";
import { analyseInBatches } from "../../services/batch-analysis.js";
import { ingestFile } from "../../services/ingest.js";
import { findSidecars, isSidecarName } from "../../services/sidecars.js";
import { positiveInteger } from "../arguments.js";
import { expandPaths, forEachLimited } from "../files.js";
import { EXIT } from "../output.js";
import { type Bar, Progress } from "../progress.js";
import {
  ANALYSIS_SETTINGS,
  addSettingFlags,
  CATALOGUE_SETTINGS,
  configFromFlags,
  EMBEDDING_SETTINGS,
  INGEST_SETTINGS,
} from "../settings-flags.js";

interface ImportOptions extends Record<string, unknown> {
  json?: boolean;
  wait?: boolean;
  batch?: boolean;
  jobs: number;
}

export function importCommand(program: Command): void {
  const command = program
    .command("import")
    .description("add photos from files or folders (recursive) to the catalogue")
    .argument("<paths...>", "files or folders")
    .option("--wait", "analyse the imported photos in this process before exiting")
    .option(
      "--batch",
      "analyse through Claude's Message Batches API (anthropic only: half price, within 24 h; resumable)",
    )
    .option("--json", "print one JSON line per file instead of a progress bar")
    .option("-j, --jobs <n>", "files processed at once", positiveInteger, Math.min(4, availableParallelism()))
    .action(async (paths: string[], options: ImportOptions) => {
      process.exitCode = await runImport(paths, options);
    });
  addSettingFlags(command, [
    ...CATALOGUE_SETTINGS,
    ...INGEST_SETTINGS,
    ...ANALYSIS_SETTINGS,
    ...EMBEDDING_SETTINGS,
  ]);
}

async function runImport(paths: string[], options: ImportOptions): Promise<number> {
  const progress = new Progress(!options.json && Boolean(process.stderr.isTTY));
  // While a bar is shown, the bar is the report: only warnings and errors are logged (above it).
  const config = configFromFlags(options, progress.enabled ? { PHOTOCAT_LOG_LEVEL: "warn" } : {});
  if (options.batch && config.analyser !== "anthropic") {
    throw new ConfigurationError("--batch needs the anthropic analyser (PHOTOCAT_ANALYSER=anthropic)");
  }
  const logger = progress.logger(config.logLevel);
  // Analysers (and their keys) are checked before the data folder is created.
  const batches = options.batch ? await createBatchApi(config) : null;
  const analyser = options.wait && !options.batch ? await createAnalyser(config, { logger }) : undefined;
  const container = await createContainer(config, { logger, analyser });
  const counts = { added: 0, duplicates: 0, rejected: 0 };
  const added: string[] = [];
  const limits = { ...container.ingestLimits, analyse: !options.batch };
  const rejections: { file: string; reason: string }[] = [];
  let failedAnalyses = 0;
  try {
    const files: string[] = [];
    // Sidecars (name.xmp, Takeout's name.ext.json) are read with their photo, not imported on their own.
    for await (const file of expandPaths(paths)) if (!isSidecarName(file)) files.push(file);
    const listings = new Map<string, Promise<string[]>>();
    const bar = progress.start(
      "importing [{bar}] {value}/{total} files | {eta_formatted} left",
      files.length,
    );
    await forEachLimited(files, options.jobs, async (file) => {
      try {
        await stat(file).catch(() => {
          throw new Error("no such file or folder");
        });
        const result = await ingestFile(container.ingestDeps, limits, {
          path: file,
          originalName: file,
          sidecars: await findSidecars(file, listings),
        });
        if (result.duplicate) counts.duplicates++;
        else {
          counts.added++;
          added.push(result.image.id);
        }
        if (options.json) {
          console.log(JSON.stringify({ file, id: result.image.id, duplicate: result.duplicate }));
        }
      } catch (error) {
        counts.rejected++;
        // "busy" ends in "try again shortly": the photo is fine, running the import again will take it.
        const reason = isPhotocatError(error) ? error.message : errorMessage(error);
        rejections.push({ file, reason });
        if (options.json) {
          const code = isPhotocatError(error) ? error.code : "internal";
          console.log(JSON.stringify({ file, error: { code, message: reason } }));
        }
      } finally {
        bar.increment();
      }
    });
    progress.stop();
    if (!options.json) {
      for (const r of rejections) progress.print(`rejected ${r.file}: ${r.reason}`);
      progress.print(`added ${counts.added}, duplicates ${counts.duplicates}, rejected ${counts.rejected}`);
    }
    if (batches) {
      await runBatch(container, batches, added, progress, Boolean(options.json));
    } else if (options.wait && added.length > 0) {
      failedAnalyses = await analyseThisImport(container, added, progress, Boolean(options.json));
    }
  } finally {
    progress.stop();
    await container.close();
  }
  return counts.rejected > 0 || failedAnalyses > 0 ? EXIT.partial : EXIT.ok;
}

/**
 * Runs a worker in this process until every photo of this import is analysed (or failed), with a bar
 * counting only them; other photos waiting in the queue may be analysed on the way but are not reported.
 * Returns how many of this import's photos failed.
 */
async function analyseThisImport(
  container: Container,
  ids: readonly string[],
  progress: Progress,
  quiet: boolean,
): Promise<number> {
  const ours = new Set(ids);
  const finished = new Map<string, "done" | "failed">();
  const bar = progress.start(
    "analysing [{bar}] {value}/{total} photos | {failed} failed | {eta_formatted} left",
    ours.size,
    { failed: 0 },
  );
  let allFinished = () => {};
  const ourWork = new Promise<void>((resolve) => {
    allFinished = resolve;
  });
  const unsubscribe = container.events.subscribe((event) => {
    if (event.type !== "image" || !ours.has(event.image.id)) return;
    const { status } = event.image;
    if (status === "done" || status === "failed") finished.set(event.image.id, status);
    const failed = [...finished.values()].filter((s) => s === "failed").length;
    bar.update(finished.size, { failed });
    if (finished.size === ours.size) allFinished();
  });
  const worker = await startContainerWorker(container, { kinds: ["analyse"], pollMs: 200 });
  // The queue draining also ends the wait, should a photo of ours have lost its job.
  await Promise.race([ourWork, worker.drain()]);
  await worker.stop();
  unsubscribe();
  progress.stop();

  // The counts come from the catalogue, not from the events seen on the way.
  const tally = { done: 0, failed: 0, waiting: 0 };
  for (const id of ids) {
    const image = await container.gallery.get(id).catch(() => null); // deleted meanwhile
    if (image?.status === "done") tally.done++;
    else if (image?.status === "failed") {
      tally.failed++;
      if (!quiet) progress.print(`failed ${image.originalName} (${id}): ${image.error ?? "unknown error"}`);
    } else if (image) tally.waiting++;
  }
  if (!quiet) {
    const waiting = tally.waiting > 0 ? `, ${tally.waiting} still queued` : "";
    progress.print(`analysed: ${tally.done} done, ${tally.failed} failed${waiting}`);
  }
  return tally.failed;
}

async function runBatch(
  container: Container,
  api: BatchApi,
  imageIds: string[],
  progress: Progress,
  quiet: boolean,
): Promise<void> {
  const { config } = container;
  let bar: Bar | null = null;
  let current = "";
  const summary = await analyseInBatches(
    container.ingestDeps,
    api,
    { offline: false },
    {
      taxonomy: config.taxonomy,
      language: config.language,
      shareContext: config.shareContext,
      onProgress: (batchId, done, total) => {
        if (quiet) return;
        if (!bar || batchId !== current) {
          bar = progress.start("batch {batch} [{bar}] {value}/{total}", total, { batch: batchId.slice(-8) });
          current = batchId;
        }
        bar.update(done);
      },
    },
    imageIds,
  );
  progress.stop();
  if (!quiet) {
    progress.print(
      `batches: ${summary.batches}, analysed ${summary.analysed}, queued for a normal analysis ${summary.requeued}`,
    );
  }
}
