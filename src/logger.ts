import { type Logger, pino } from "pino";

export type { Logger };

/**
 * Logs to stderr (stdout stays free for CLI output such as `--json` lines): readable lines when a person
 * watches a terminal, JSON otherwise (services, containers, log collectors).
 */
export function createLogger(level = "info", name = "photocat"): Logger {
  if (process.stderr.isTTY) {
    return pino({
      name,
      level,
      transport: {
        target: "pino-pretty",
        options: { destination: 2, translateTime: "HH:MM:ss", ignore: "pid,hostname,name", singleLine: true },
      },
    });
  }
  return pino({ name, level }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything: the default in tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
