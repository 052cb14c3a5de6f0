import cliProgress, { MultiBar, type SingleBar, type TimeFormatter } from "cli-progress";
import { createLogger, type Logger } from "../logger.js";

/** The time left as cli-progress writes it, but "--" before there is a rate (it printed its "INF" as "NFs"). */
export const timeLeft: TimeFormatter = (seconds, options, round) =>
  Number.isFinite(seconds) ? cliProgress.Format.TimeFormat(seconds, options, round) : "--";

export interface Bar {
  increment(payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
}

/**
 * Progress bars on a terminal, and the one door for everything else written to stderr meanwhile: log
 * lines and messages go above the bar (never into it, never over the summary printed after it).
 * Without a terminal there is no bar and lines go straight to stderr.
 */
export class Progress {
  #bars: MultiBar | null = null;
  readonly enabled: boolean;

  constructor(enabled = Boolean(process.stderr.isTTY)) {
    this.enabled = enabled;
  }

  /** Starts a bar (stopping any earlier one); a bar that draws nothing when disabled. */
  start(format: string, total: number, payload: Record<string, unknown> = {}): Bar {
    this.stop();
    if (!this.enabled) return { increment: () => {}, update: () => {} };
    this.#bars = new MultiBar({
      format,
      barsize: 30, // the whole line fits 80 columns
      hideCursor: true,
      clearOnComplete: false,
      // Keeps the terminal wrapping long log lines (cli-progress turns wrapping off by default, which
      // cuts them at the screen's edge); the bar itself is cut to the width instead.
      linewrap: true,
      formatTime: timeLeft,
    });
    const bar: SingleBar = this.#bars.create(total, 0, payload);
    process.once("SIGINT", this.#interrupted);
    process.once("SIGTERM", this.#interrupted);
    return {
      increment: (p) => bar.increment(1, p),
      update: (value, p) => bar.update(value, p),
    };
  }

  /** Writes one line to stderr, above the bar when one is shown. */
  print(line: string): void {
    const text = line.endsWith("\n") ? line : `${line}\n`;
    if (this.#bars) this.#bars.log(text);
    else process.stderr.write(text);
  }

  /** Draws the bar's final state, with any lines still waiting above it. */
  stop(): void {
    if (!this.#bars) return;
    this.#bars.update(); // flushes waiting log lines; stop() alone would drop them
    this.#bars.stop();
    this.#bars = null;
    process.off("SIGINT", this.#interrupted);
    process.off("SIGTERM", this.#interrupted);
  }

  /** Ctrl+C: give the cursor back, then let the signal end the process as it would have. */
  readonly #interrupted = (signal: NodeJS.Signals) => {
    this.stop();
    process.kill(process.pid, signal);
  };

  /** A logger whose lines go through print(). */
  logger(level: string): Logger {
    return createLogger(level, "photocat", { write: (line) => this.print(line) });
  }
}
