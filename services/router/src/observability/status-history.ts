// @module The status page's data: a live snapshot plus one sample per second over the last minutes.
import type { RouterMetrics } from '../metrics.ts';
import type { BlockAllocatorStats } from '../scheduler/block-allocator.ts';
import type { RouterPhase } from './health.ts';

/** One point of the status page's plots. */
export interface StatusSample {
  /** Unix milliseconds. */
  t: number;
  queue: number;
  running: number;
  /** Fraction of KV blocks held by running requests. */
  kvUsage: number;
  /** Tokens streamed to clients per second over the sample's interval. */
  tokensPerSecond: number;
  /** Mean time to first token of the requests whose first token came in the interval; null if none. */
  ttftMs: number | null;
}

/** The serving side, once warmed up (the batcher and its block allocator). */
export interface StatusSources {
  queueSize(): number;
  runningSize(): number;
  kv(): BlockAllocatorStats;
  /** Static facts shown on the page (model id, dtype, limits …). */
  model: Record<string, string | number | null>;
}

export interface StatusSnapshot {
  phase: RouterPhase;
  uptimeSeconds: number;
  model: Record<string, string | number | null> | null;
  now: (Omit<StatusSample, 't'> & { kv: BlockAllocatorStats; tokensTotal: number }) | null;
  history: StatusSample[];
}

export class StatusHistory {
  readonly #metrics: RouterMetrics;
  readonly #phase: () => RouterPhase;
  readonly #capacity: number;
  readonly #samples: StatusSample[] = [];
  readonly #startedAt = Date.now();
  #sources: StatusSources | null = null;
  #timer: NodeJS.Timeout | null = null;
  #last = { t: performance.now(), tokens: 0, firstTokens: 0, ttftSum: 0 };

  /** Keeps `seconds` one-second samples (default 5 minutes). */
  constructor(metrics: RouterMetrics, phase: () => RouterPhase, seconds = 300) {
    this.#metrics = metrics;
    this.#phase = phase;
    this.#capacity = seconds;
  }

  /** Starts sampling once the batcher exists. */
  start(sources: StatusSources, intervalMs = 1000): void {
    this.#sources = sources;
    this.#last = this.#counters();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Takes one sample now (the timer calls it every second). */
  sample(): StatusSample | null {
    const s = this.#sources;
    if (s === null) return null;
    const c = this.#counters();
    const seconds = Math.max((c.t - this.#last.t) / 1000, 1e-3);
    const firstTokens = c.firstTokens - this.#last.firstTokens;
    const kv = s.kv();
    const sample: StatusSample = {
      t: Date.now(),
      queue: s.queueSize(),
      running: s.runningSize(),
      kvUsage: kv.totalBlocks > 0 ? kv.usedBlocks / kv.totalBlocks : 0,
      tokensPerSecond: (c.tokens - this.#last.tokens) / seconds,
      ttftMs: firstTokens > 0 ? ((c.ttftSum - this.#last.ttftSum) / firstTokens) * 1000 : null,
    };
    this.#last = c;
    this.#samples.push(sample);
    if (this.#samples.length > this.#capacity) this.#samples.splice(0, this.#samples.length - this.#capacity);
    return sample;
  }

  snapshot(): StatusSnapshot {
    const s = this.#sources;
    const latest = this.#samples.at(-1);
    const kv = s?.kv();
    return {
      phase: this.#phase(),
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
      model: s?.model ?? null,
      now:
        s === null || kv === undefined
          ? null
          : {
              queue: s.queueSize(),
              running: s.runningSize(),
              kvUsage: kv.totalBlocks > 0 ? kv.usedBlocks / kv.totalBlocks : 0,
              kv,
              tokensPerSecond: latest?.tokensPerSecond ?? 0,
              ttftMs: latest?.ttftMs ?? null,
              tokensTotal: this.#metrics.live.tokens,
            },
      history: [...this.#samples],
    };
  }

  #counters() {
    const live = this.#metrics.live;
    return { t: performance.now(), tokens: live.tokens, firstTokens: live.firstTokens, ttftSum: live.ttftSecondsSum };
  }
}
