import { type Logger, pino } from "pino";

export type { Logger };

/** JSON logs to stderr (stdout stays free for CLI output such as `--json` lines). */
export function createLogger(level = "info", name = "photocat"): Logger {
  return pino({ name, level }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything: the default in tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
