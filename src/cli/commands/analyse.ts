import type { Command } from "commander";
import { createAnalyser } from "../../analysers/registry.js";
import { errorMessage, isPhotocatError } from "../../domain/errors.js";
import { createLogger } from "../../logger.js";
import { describeFile } from "../../services/describe-files.js";
import { expandPaths, forEachLimited } from "../files.js";
import { EXIT } from "../output.js";
import { ANALYSIS_SETTINGS, addSettingFlags, configFromFlags } from "../settings-flags.js";

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
  addSettingFlags(command, [...ANALYSIS_SETTINGS, "PHOTOCAT_MAX_PIXELS", "PHOTOCAT_LOG_LEVEL"]).action(
    async (files: string[], options: AnalyseOptions) => {
      process.exitCode = await runAnalyse(files, options);
    },
  );
}

async function runAnalyse(inputs: string[], options: AnalyseOptions): Promise<number> {
  // Only warnings by default: the descriptions are the output.
  const config = configFromFlags(options, { PHOTOCAT_LOG_LEVEL: "warn" });
  const logger = createLogger(config.logLevel);
  const analyser = await createAnalyser(config, { logger });
  let failures = 0;
  try {
    await analyser.warmUp?.();
    await forEachLimited(expandPaths(inputs), config.concurrency, async (file) => {
      const started = performance.now();
      try {
        const a = await describeFile(analyser, config, file);
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
