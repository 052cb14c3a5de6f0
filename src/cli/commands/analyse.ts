import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { createAnalyser } from "../../analysers/registry.js";
import { errorMessage, isPhotocatError } from "../../domain/errors.js";
import { createLogger } from "../../logger.js";
import { assertWithinPixelLimit, readImageHeader } from "../../media/decode.js";
import { detectMediaType } from "../../media/detect.js";
import { readPhotoMetadata } from "../../media/exif.js";
import { reverseGeocode } from "../../media/geocode.js";
import { contextFor } from "../../services/analyse.js";
import { expandPaths, forEachLimited } from "../files.js";
import { EXIT } from "../output.js";
import { addSettingFlags, configFromFlags } from "../settings-flags.js";

interface AnalyseOptions extends Record<string, unknown> {
  json?: boolean;
}

export function analyseCommand(program: Command): void {
  const command = program
    .command("analyse")
    .alias("analyze")
    .description("describe photos without storing them (one JSON line per file with --json)")
    .argument("<files...>", "image files or folders")
    .option("--json", "print one JSON object per line")
    .option("--provider <name>", "analyser to use (same as --analyser)");
  addSettingFlags(command).action(async (files: string[], options: AnalyseOptions) => {
    process.exitCode = await runAnalyse(files, options);
  });
}

async function runAnalyse(inputs: string[], options: AnalyseOptions): Promise<number> {
  const config = configFromFlags(options);
  const logger = createLogger(process.env.PHOTOCAT_LOG_LEVEL ?? "warn");
  const analyser = await createAnalyser(config, { logger });
  let failures = 0;
  try {
    await analyser.warmUp?.();
    await forEachLimited(expandPaths(inputs), config.concurrency, async (file) => {
      const started = performance.now();
      try {
        // Nothing is stored, so no thumbnails: the file is read once, typed by content, decoded by the analyser.
        const bytes = await readFile(file);
        const mediaType = await detectMediaType(bytes);
        const header = await readImageHeader(bytes, mediaType);
        if (header) assertWithinPixelLimit(header.width, header.height, config.maxPixels);
        const metadata = await readPhotoMetadata(bytes);
        const place = metadata.gps
          ? await reverseGeocode(metadata.gps.latitude, metadata.gps.longitude)
          : null;
        const a = await analyser.analyse({
          bytes,
          mediaType,
          taxonomy: config.taxonomy,
          language: config.language,
          context: contextFor({ metadata, place }, analyser, config.shareContext),
        });
        const line = {
          file,
          category: a.category,
          summary: a.summary,
          tags: a.tags,
          alt_text: a.altText,
          text: a.text,
          confidence: a.confidence,
          provider: a.provenance.provider,
          model: a.provenance.model,
          input_tokens: a.provenance.inputTokens,
          output_tokens: a.provenance.outputTokens,
          cost_usd: a.provenance.costUsd,
          ms: Math.round(performance.now() - started),
        };
        if (options.json) console.log(JSON.stringify(line));
        else console.log(`${file}\n  ${a.category}: ${a.summary}\n  tags: ${a.tags.join(", ")}`);
      } catch (error) {
        failures++;
        const message = errorMessage(error);
        const code = isPhotocatError(error) ? error.code : "internal";
        if (options.json) console.log(JSON.stringify({ file, error: { code, message } }));
        else console.error(`${file}: ${message}`);
      }
    });
  } finally {
    await analyser.close?.();
  }
  return failures > 0 ? EXIT.partial : EXIT.ok;
}
