// @module Readiness (/health) and shard health: the router's phase plus a probe of every shard, fed to metrics and the shard lifecycle.
import type { RouterMetrics } from '../metrics.ts';
import type { ShardHealth } from '../shard-client/sharded-client.ts';

export type RouterPhase = 'warming up' | 'ready' | 'recovering' | 'shutting down';

export type HealthResult = { ok: true } | { ok: false; reason: string };

/** What the monitor probes: the ShardedClient (or a fake in tests). */
export interface ShardProbe {
  readonly uris: string[];
  /** Per shard, rank order: its instance and warm-up state, or why it did not answer. */
  healthEach(): Promise<ShardHealth[]>;
}

/** Judges probes against the warmed-up instances and recovers (shard-client/shard-lifecycle.ts). */
export interface ShardJudge {
  /** Why the shards cannot serve now, else null. */
  readonly problem: string | null;
  judge(health: readonly ShardHealth[]): string | null;
}

/**
 * How often shard health is probed in the background: a shard restarted while no request runs is
 * noticed (and re-warmed) within this, and tessera_shard_up stays current.
 */
const BACKGROUND_PROBE_MS = 1_000;

export class HealthMonitor {
  #phase: RouterPhase = 'warming up';
  #shards: ShardProbe | null = null;
  #judge: ShardJudge | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #metrics: RouterMetrics | undefined;

  constructor(metrics?: RouterMetrics) {
    this.#metrics = metrics;
    metrics?.ready.set(0);
  }

  get phase(): RouterPhase {
    if (this.#phase === 'ready' && this.#judge?.problem) return 'recovering';
    return this.#phase;
  }

  /** Warm-up is over: from now on readiness depends on the shards answering (and, with a judge, being the warmed-up ones). */
  markReady(shards: ShardProbe, judge?: ShardJudge): void {
    this.#shards = shards;
    this.#judge = judge ?? null;
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

  /** 200-worthy only when warmed up, not shutting down, and every shard answers as the instance that was warmed up. */
  async check(): Promise<HealthResult> {
    if (this.#phase !== 'ready' || this.#shards === null) return { ok: false, reason: this.#phase };
    const shards = this.#shards;
    const health = await shards.healthEach();
    const failed: string[] = [];
    health.forEach((h, rank) => {
      const uri = shards.uris[rank] ?? `rank ${rank}`;
      this.#metrics?.shardUp.set({ shard: uri }, h.ok ? 1 : 0);
      if (!h.ok) failed.push(`shard ${rank} (${uri}) is not answering: ${h.error}`);
    });
    // The phase may have changed while the probe ran.
    const phase = this.#phase as RouterPhase;
    if (phase !== 'ready') return { ok: false, reason: phase };
    const problem = this.#judge !== null ? this.#judge.judge(health) : failed.length > 0 ? failed.join('; ') : null;
    this.#metrics?.ready.set(problem === null ? 1 : 0);
    return problem === null ? { ok: true } : { ok: false, reason: problem };
  }
}
