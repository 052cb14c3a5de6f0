import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ConfigurationError, errorMessage, isPhotocatError } from "../domain/errors.js";
import { PROJECT_ROOT, run } from "../entry/runtime.js";
import { createLogger } from "../logger.js";
import { installProcessGuards } from "../process-guards.js";
import { analyseCommand } from "./commands/analyse.js";
import { catalogueCommands } from "./commands/catalogue.js";
import { importCommand } from "./commands/import.js";
import { EXIT } from "./output.js";
import { addSettingFlags, configFromFlags } from "./settings-flags.js";

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
      runUntilSignal(() =>
        run(configFromFlags(options), { http: false, worker: true, watch: options.watch ?? null }),
      ),
    );
  addSettingFlags(worker);

  importCommand(program);
  analyseCommand(program);
  catalogueCommands(program);
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
    if (error instanceof ConfigurationError) {
      console.error(`photocat: ${error.message}`);
      return EXIT.usage;
    }
    console.error(`photocat: ${isPhotocatError(error) ? error.message : errorMessage(error)}`);
    if (process.env.PHOTOCAT_LOG_LEVEL === "debug" && error instanceof Error) console.error(error.stack);
    return EXIT.failure;
  }
}

const isEntry = process.argv[1] && /(cli[/\\]main\.[jt]s|photocat(\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  installProcessGuards(createLogger(process.env.PHOTOCAT_LOG_LEVEL || "info"));
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
