import { type Logger, pino } from "pino";
import { prettyFactory } from "pino-pretty";

export type { Logger };

const PRETTY = { translateTime: "HH:MM:ss", ignore: "pid,hostname,name", singleLine: true } as const;

export interface LoggerOptions {
  /**
   * Where each line goes instead of stderr, written synchronously in this thread (the CLI prints logs
   * above its progress bars instead of into them).
   */
  write?: (line: string) => void;
}

/**
 * Logs to stderr (stdout stays free for CLI output such as `--json` lines): readable lines when a person
 * watches a terminal, JSON otherwise (services, containers, log collectors).
 */
export function createLogger(level = "info", name = "photocat", options: LoggerOptions = {}): Logger {
  const { write } = options;
  if (write) {
    const format = process.stderr.isTTY
      ? prettyFactory({ ...PRETTY, colorize: true })
      : (line: string) => line;
    return pino({ name, level }, { write: (line: string) => write(format(line)) });
  }
  if (process.stderr.isTTY) {
    return pino({
      name,
      level,
      transport: { target: "pino-pretty", options: { destination: 2, ...PRETTY } },
    });
  }
  return pino({ name, level }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything: the default in tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
