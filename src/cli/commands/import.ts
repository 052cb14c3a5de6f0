import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { createContainer } from "../../container.js";
import { errorMessage, isPhotocatError } from "../../domain/errors.js";
import { requeueOrphans, startWorker } from "../../services/analyse.js";
import { ingestFile } from "../../services/ingest.js";
import { expandPaths, forEachLimited } from "../files.js";
import { EXIT } from "../output.js";
import { addSettingFlags, configFromFlags } from "../settings-flags.js";

interface ImportOptions extends Record<string, unknown> {
  json?: boolean;
  wait?: boolean;
  jobs?: string;
}

export function importCommand(program: Command): void {
  const command = program
    .command("import")
    .description("add photos from files or folders (recursive) to the catalogue")
    .argument("<paths...>", "files or folders")
    .option("--wait", "analyse the imported photos in this process before exiting")
    .option("--json", "print one JSON line per file instead of a progress bar")
    .option("-j, --jobs <n>", "files processed at once", String(Math.min(4, availableParallelism())))
    .action(async (paths: string[], options: ImportOptions) => {
      process.exitCode = await runImport(paths, options);
    });
  addSettingFlags(command);
}

async function runImport(paths: string[], options: ImportOptions): Promise<number> {
  const config = configFromFlags(options);
  const container = await createContainer(config);
  const jobs = Math.max(1, Number(options.jobs) || 1);
  const showBar = !options.json && process.stderr.isTTY;
  const bar = showBar
    ? new SingleBar({ format: "importing [{bar}] {value}/{total} files | {eta_formatted} left" })
    : null;
  const counts = { added: 0, duplicates: 0, rejected: 0 };
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
        const result = await ingestFile(container.ingestDeps, container.ingestLimits, {
          path: file,
          originalName: file,
        });
        if (result.duplicate) counts.duplicates++;
        else counts.added++;
        if (options.json) {
          console.log(JSON.stringify({ file, id: result.image.id, duplicate: result.duplicate }));
        }
      } catch (error) {
        counts.rejected++;
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
    if (options.wait && counts.added > 0) {
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
