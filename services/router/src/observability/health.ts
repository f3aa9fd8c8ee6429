// @module Readiness (/health) and shard health: the router's phase plus a probe of every shard, fed to metrics.
import type { RouterMetrics } from '../metrics.ts';

export type RouterPhase = 'warming up' | 'ready' | 'shutting down';

export type HealthResult = { ok: true } | { ok: false; reason: string };

/** What the monitor probes: the ShardedClient (or a fake in tests). */
export interface ShardProbe {
  readonly uris: string[];
  /** Per shard, rank order: null when it answered, else why not. */
  healthEach(): Promise<(string | null)[]>;
}

/** How often shard health is probed in the background, so tessera_shard_up stays current. */
const BACKGROUND_PROBE_MS = 5_000;

export class HealthMonitor {
  #phase: RouterPhase = 'warming up';
  #shards: ShardProbe | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #metrics: RouterMetrics | undefined;

  constructor(metrics?: RouterMetrics) {
    this.#metrics = metrics;
    metrics?.ready.set(0);
  }

  get phase(): RouterPhase {
    return this.#phase;
  }

  /** Warm-up is over: from now on readiness depends on the shards answering. */
  markReady(shards: ShardProbe): void {
    this.#shards = shards;
    this.#phase = 'ready';
    this.#timer = setInterval(() => void this.check(), BACKGROUND_PROBE_MS);
    this.#timer.unref();
    void this.check();
  }

  /** Shutdown began: readiness fails from now on, so load balancers stop sending traffic. */
  markShuttingDown(): void {
    this.#phase = 'shutting down';
    this.#metrics?.ready.set(0);
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** 200-worthy only when warmed up, not shutting down, and every shard answers its Health RPC. */
  async check(): Promise<HealthResult> {
    if (this.#phase !== 'ready' || this.#shards === null) return { ok: false, reason: this.#phase };
    const shards = this.#shards;
    const errors = await shards.healthEach();
    const failed: string[] = [];
    errors.forEach((err, rank) => {
      const uri = shards.uris[rank] ?? `rank ${rank}`;
      this.#metrics?.shardUp.set({ shard: uri }, err === null ? 1 : 0);
      if (err !== null) failed.push(`shard ${rank} (${uri}) is not answering: ${err}`);
    });
    // The phase may have changed while the probe ran.
    const phase = this.#phase as RouterPhase;
    if (phase !== 'ready') return { ok: false, reason: phase };
    this.#metrics?.ready.set(failed.length === 0 ? 1 : 0);
    return failed.length === 0 ? { ok: true } : { ok: false, reason: failed.join('; ') };
  }
}
