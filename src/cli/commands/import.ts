import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { type Container, createContainer } from "../../container.js";
import { ConfigurationError, errorMessage, isPhotocatError } from "../../domain/errors.js";
import { requeueOrphans, startWorker } from "../../services/analyse.js";
import { analyseInBatches } from "../../services/batch-analysis.js";
import { ingestFile } from "../../services/ingest.js";
import { expandPaths, forEachLimited } from "../files.js";
import { EXIT } from "../output.js";
import { addSettingFlags, configFromFlags } from "../settings-flags.js";

interface ImportOptions extends Record<string, unknown> {
  json?: boolean;
  wait?: boolean;
  batch?: boolean;
  jobs?: string;
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
    .option("-j, --jobs <n>", "files processed at once", String(Math.min(4, availableParallelism())))
    .action(async (paths: string[], options: ImportOptions) => {
      process.exitCode = await runImport(paths, options);
    });
  addSettingFlags(command);
}

async function runImport(paths: string[], options: ImportOptions): Promise<number> {
  const config = configFromFlags(options);
  if (options.batch && config.analyser !== "anthropic") {
    throw new ConfigurationError("--batch needs the anthropic analyser (PHOTOCAT_ANALYSER=anthropic)");
  }
  const container = await createContainer(config);
  const jobs = Math.max(1, Number(options.jobs) || 1);
  const showBar = !options.json && process.stderr.isTTY;
  const bar = showBar
    ? new SingleBar({ format: "importing [{bar}] {value}/{total} files | {eta_formatted} left" })
    : null;
  const counts = { added: 0, duplicates: 0, rejected: 0 };
  const added: string[] = [];
  const limits = { ...container.ingestLimits, analyse: !options.batch };
  const rejections: { file: string; reason: string }[] = [];
  try {
    const files: string[] = [];
    for await (const file of expandPaths(paths)) files.push(file);
    bar?.start(files.length, 0);
    await forEachLimited(files, jobs, async (file) => {
      try {
        await stat(file).catch(() => {
          throw new Error("no such file or folder");
        });
        const result = await ingestFile(container.ingestDeps, limits, { path: file, originalName: file });
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
        bar?.increment();
      }
    });
    bar?.stop();
    if (!options.json) {
      for (const r of rejections) console.error(`rejected ${r.file}: ${r.reason}`);
      console.error(`added ${counts.added}, duplicates ${counts.duplicates}, rejected ${counts.rejected}`);
    }
    if (options.batch) {
      await runBatch(container, added, Boolean(options.json));
    } else if (options.wait && counts.added > 0) {
      const analyser = await container.analyser();
      const deps = { ...container.ingestDeps, analyser };
      await requeueOrphans(deps);
      const worker = startWorker(deps, {
        concurrency: config.concurrency,
        taxonomy: config.taxonomy,
        language: config.language,
        shareContext: config.shareContext,
        pollMs: 200,
      });
      if (!options.json) console.error("analysing...");
      await worker.drain();
      await worker.stop();
      const stats = await container.catalog.stats();
      if (!options.json)
        console.error(`analysed: ${stats.byStatus.done} done, ${stats.byStatus.failed} failed`);
    }
  } finally {
    bar?.stop();
    await container.close();
  }
  return counts.rejected > 0 ? EXIT.partial : EXIT.ok;
}

async function runBatch(container: Container, imageIds: string[], quiet: boolean): Promise<void> {
  const { config } = container;
  const { createAnthropicBatches } = await import("../../analysers/anthropic/batch.js");
  const api = createAnthropicBatches(config);
  const bar =
    !quiet && process.stderr.isTTY
      ? new SingleBar({ format: "batch {batch} [{bar}] {value}/{total}" })
      : null;
  let current = "";
  const summary = await analyseInBatches(
    container.ingestDeps,
    api,
    { offline: false },
    {
      taxonomy: config.taxonomy,
      language: config.language,
      shareContext: config.shareContext,
      stateDir: path.join(config.dataDir, "batches"),
      onProgress: (batchId, done, total) => {
        if (!bar) return;
        if (batchId !== current) {
          bar.stop();
          bar.start(total, done, { batch: batchId.slice(-8) });
          current = batchId;
        }
        bar.update(done);
      },
    },
    imageIds,
  );
  bar?.stop();
  if (!quiet) {
    console.error(
      `batches: ${summary.batches}, analysed ${summary.analysed}, queued for a normal analysis ${summary.requeued}`,
    );
  }
}
