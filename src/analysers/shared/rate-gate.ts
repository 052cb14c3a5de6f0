import { sleep } from "./retry.js";

/**
 * Paces calls to one provider across every concurrent analysis in this process: at most
 * `requestsPerMinute` calls, evenly spaced, and a shared pause when the server says "retry after".
 */
export class RateGate {
  private nextSlot = 0;
  private pausedUntil = 0;

  constructor(
    readonly requestsPerMinute: number | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when this call may go; each call takes one slot. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    let start = Math.max(now, this.pausedUntil);
    if (this.requestsPerMinute) {
      start = Math.max(start, this.nextSlot);
      this.nextSlot = start + 60_000 / this.requestsPerMinute;
    }
    await sleep(start - now, signal);
    // A rate limit reported while we waited applies to us too.
    const pause = this.pausedUntil - this.now();
    if (pause > 0) await sleep(pause, signal);
  }

  /** Holds every caller back until the given time (a 429 with retry-after). */
  pauseUntil(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }
}

const gates = new Map<string, RateGate>();

/** The gate shared by all analysers of this process that talk to the same provider endpoint. */
export function rateGateFor(key: string, requestsPerMinute: number | null): RateGate {
  const existing = gates.get(key);
  if (existing && existing.requestsPerMinute === requestsPerMinute) return existing;
  const gate = new RateGate(requestsPerMinute);
  gates.set(key, gate);
  return gate;
}
