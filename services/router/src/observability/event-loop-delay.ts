// @module Event-loop delay over a rolling window (perf_hooks.monitorEventLoopDelay), for the tessera_event_loop_delay_seconds metric.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface DelayStats {
  p50: number;
  p99: number;
  max: number;
}

const NONE: DelayStats = { p50: 0, p99: 0, max: 0 };

/**
 * Samples the loop every `resolutionMs` (a timer that fires late by the time the loop was blocked).
 * Figures cover the current window plus the one before (windowMs to 2 × windowMs), so a stall is
 * still visible to a scrape that comes right after a window turned over.
 */
export class EventLoopDelay {
  readonly #histogram: IntervalHistogram;
  readonly #timer: NodeJS.Timeout;
  #previous: DelayStats = NONE;

  constructor({ resolutionMs = 10, windowMs = 30_000 }: { resolutionMs?: number; windowMs?: number } = {}) {
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#histogram.enable();
    this.#timer = setInterval(() => {
      this.#previous = this.#current();
      this.#histogram.reset();
    }, windowMs);
    this.#timer.unref();
  }

  /** Seconds; the larger of the current and the previous window for each figure. */
  stats(): DelayStats {
    const now = this.#current();
    const prev = this.#previous;
    return { p50: Math.max(now.p50, prev.p50), p99: Math.max(now.p99, prev.p99), max: Math.max(now.max, prev.max) };
  }

  /** Forgets what was measured so far (start-up loads files synchronously; that is not serving). */
  reset(): void {
    this.#previous = NONE;
    this.#histogram.reset();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }

  #current(): DelayStats {
    const h = this.#histogram;
    if (h.count === 0) return NONE;
    // Nanoseconds → seconds.
    return { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
  }
}
