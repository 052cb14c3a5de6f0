import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { type Config, debugRequested } from "../config.js";
import { ConfigurationError, errorMessage, isPhotocatError } from "../domain/errors.js";
import { PROJECT_ROOT, type RunOptions, run } from "../entry/runtime.js";
import { createLogger } from "../logger.js";
import { installProcessGuards } from "../process-guards.js";
import { analyseCommand } from "./commands/analyse.js";
import { catalogueCommands } from "./commands/catalogue.js";
import { importCommand } from "./commands/import.js";
import { organiseCommands } from "./commands/organise.js";
import { EXIT } from "./output.js";
import {
  ANALYSIS_SETTINGS,
  addSettingFlags,
  CATALOGUE_SETTINGS,
  configFromFlags,
  EMBEDDING_SETTINGS,
  INGEST_SETTINGS,
} from "./settings-flags.js";

function version(): string {
  try {
    return (JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "dev";
  }
}

/** Runs until SIGINT/SIGTERM, then stops cleanly (jobs in hand finish or return to the queue). */
async function runUntilSignal(start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  const running = await start();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const forced = setTimeout(() => process.exit(EXIT.failure), 30_000);
  forced.unref();
  await running.close();
}

/**
 * The analyser is created before anything touches the data folder, so a missing key (anthropic without
 * ANTHROPIC_API_KEY) fails without leaving an empty ./data behind.
 */
async function analysisOptions(config: Config, worker: boolean): Promise<Partial<RunOptions>> {
  if (!worker) return {};
  const logger = createLogger(config.logLevel);
  const { createAnalyser } = await import("../analysers/registry.js");
  return { logger, analyser: await createAnalyser(config, { logger }) };
}

export function buildProgram(): Command {
  const program = new Command("photocat")
    .description("Self-hostable AI photo catalogue: import, describe, categorise and find photos.")
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  program.addHelpText(
    "after",
    "\nEvery setting is an environment variable (PHOTOCAT_*) or the matching flag; see `photocat serve --help`.\n" +
      "Exit codes: 0 success, 1 failure, 2 bad usage or settings, 3 some files were rejected or failed.",
  );

  const serve = program
    .command("serve")
    .description("serve the web gallery and API, with the analysis worker in the same process")
    .option("--watch <dir>", "ingest files dropped in this folder (moved to processed/ or rejected/)")
    .option("--no-worker", "do not analyse in this process (run `photocat worker` elsewhere)")
    .action((options: Record<string, unknown> & { watch?: string; worker: boolean }) =>
      runUntilSignal(async () => {
        const config = configFromFlags(options);
        const running = await run(config, {
          http: true,
          worker: options.worker,
          watch: options.watch ?? null,
          ...(await analysisOptions(config, options.worker)),
        });
        console.error(
          `Photocat is running at ${running.url} (data in ${config.dataDir}). Press Ctrl+C to stop.`,
        );
        return running;
      }),
    );
  addSettingFlags(serve);

  const worker = program
    .command("worker")
    .description("analyse queued photos (many workers may share one PostgreSQL catalogue)")
    .option("--watch <dir>", "also ingest files dropped in this folder")
    .action((options: Record<string, unknown> & { watch?: string }) =>
      runUntilSignal(async () => {
        const config = configFromFlags(options);
        return run(config, {
          http: false,
          worker: true,
          watch: options.watch ?? null,
          ...(await analysisOptions(config, true)),
        });
      }),
    );
  addSettingFlags(worker, [
    ...CATALOGUE_SETTINGS,
    ...INGEST_SETTINGS,
    ...ANALYSIS_SETTINGS,
    ...EMBEDDING_SETTINGS,
  ]);

  importCommand(program);
  analyseCommand(program);
  catalogueCommands(program);
  organiseCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isClosedPipe(error)) return EXIT.ok;
    // Bad settings and bad requests (an ambiguous id prefix...) are usage errors.
    if (error instanceof ConfigurationError || (isPhotocatError(error) && error.code === "invalid_request")) {
      console.error(`photocat: ${error.message}`);
      return EXIT.usage;
    }
    console.error(`photocat: ${isPhotocatError(error) ? error.message : errorMessage(error)}`);
    if (debugRequested() && error instanceof Error) console.error(error.stack);
    return EXIT.failure;
  }
}

/** The reader of our output went away (`photocat export | head`): nothing more to say to anyone. */
function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "EPIPE";
}

const isEntry = process.argv[1] && /(cli[/\\]main\.[jt]s|photocat(\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  installProcessGuards(createLogger("info"));
  process.stdout.on("error", (error) => {
    if (isClosedPipe(error)) process.exit(EXIT.ok);
    throw error;
  });
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
