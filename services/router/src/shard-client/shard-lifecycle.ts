// @module Shard lifecycle: notice a shard that stopped answering, restarted or lost its warm-up; suspend the batcher, re-warm, resume.
import type { Logger } from 'pino';
import type { InfoResponse, WarmupRequest, WarmupResponse } from '@tessera/protocol';
import type { RouterMetrics } from '../metrics.ts';
import type { ShardHealth } from './sharded-client.ts';

/** What the lifecycle needs from the shards (the ShardedClient, or a fake in tests). */
export interface LifecycleShards {
  readonly uris: string[];
  healthEach(): Promise<ShardHealth[]>;
  infoAll(): Promise<InfoResponse[]>;
  warmup(req: WarmupRequest): Promise<WarmupResponse>;
  clearCache(): Promise<void>;
}

/** The batcher's two verbs for an outage (scheduler/batcher.ts). */
export interface Suspendable {
  suspend(reason: string): void;
  resume(): void;
}

export interface ShardLifecycleOptions {
  shards: LifecycleShards;
  batcher: Suspendable;
  /** The start-up Warmup, with the block count it gave: a re-warmup asks for exactly that pool. */
  warmup: WarmupRequest & { numBlocks: number };
  /** Instance ids the start-up warmup was done on, rank order. */
  instanceIds: readonly string[];
  /** Runs once the shards are ready again, before requests are accepted (the allocator forgets its prefixes). */
  onRecovered?: () => void;
  metrics?: RouterMetrics;
  logger?: Logger;
  /** Pause between recovery attempts. Default 500 ms. */
  retryMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Policy (docs/observability.md, "Shard restarts"): when a shard reports a new instance id (it
 * restarted) or no KV cache, or a shard call failed and a shard then does not answer, requests running
 * on the shards end with an error at once
 * (their KV is gone; streamed tokens cannot be taken back), queued and new requests get 503, and
 * /health is 503. Every `retryMs` the lifecycle probes again; once every shard answers, it re-runs
 * Warmup on all ranks (tensor-parallel ranks warm up together) with the same block count, checks the
 * ranks, and resumes the batcher.
 */
export class ShardLifecycle {
  readonly #opts: ShardLifecycleOptions;
  readonly #retryMs: number;
  #expected: string[];
  #recovering: string | null = null;
  #probing = false;
  #closed = false;
  #recovery: Promise<void> | null = null;

  constructor(opts: ShardLifecycleOptions) {
    this.#opts = opts;
    this.#retryMs = opts.retryMs ?? 500;
    this.#expected = [...opts.instanceIds];
  }

  /** Why the shards cannot serve now (a recovery is under way), else null. */
  get problem(): string | null {
    return this.#recovering;
  }

  /**
   * Judges one probe of every shard: null when each answered with the instance that was warmed up,
   * else why not. A shard that lost its state (restarted, not warmed up) starts a recovery; one that
   * merely does not answer does so only after a shard call failed too (`afterFailure`): a missed
   * probe alone must not end streams whose batches may still be alive on the shard.
   */
  judge(health: readonly ShardHealth[], afterFailure = false): string | null {
    if (this.#recovering !== null || this.#closed) return this.#recovering;
    const { problem, lost } = this.#problemOf(health);
    if (problem !== null && (lost || afterFailure)) this.#startRecovery(problem);
    return problem;
  }

  /** A shard call failed: probe now rather than at the next periodic check. */
  checkNow(): void {
    if (this.#recovering !== null || this.#closed || this.#probing) return;
    this.#probing = true;
    void this.#opts.shards
      .healthEach()
      .then((h) => this.judge(h, true))
      .finally(() => (this.#probing = false));
  }

  /** Stops recovering (router shutdown); resolves when a recovery in progress has given up. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#recovery;
  }

  /** What is wrong, and whether some shard lost its KV and batches (restarted or not warmed up). */
  #problemOf(health: readonly ShardHealth[]): { problem: string | null; lost: boolean } {
    const uris = this.#opts.shards.uris;
    let lost = false;
    const problems = health.flatMap((h, rank) => {
      const who = `shard ${rank} (${uris[rank] ?? '?'})`;
      if (!h.ok) return [`${who} is not answering: ${h.error}`];
      lost ||= h.instanceId !== this.#expected[rank] || !h.warmedUp;
      if (h.instanceId !== this.#expected[rank]) return [`${who} restarted`];
      if (!h.warmedUp) return [`${who} has no KV cache (not warmed up)`];
      return [];
    });
    return { problem: problems.length > 0 ? problems.join('; ') : null, lost };
  }

  #startRecovery(reason: string): void {
    this.#recovering = reason;
    this.#opts.metrics?.ready.set(0);
    this.#opts.metrics?.shardRecoveries.inc();
    this.#opts.logger?.warn({ reason }, 'shard failure: failing running requests, refusing new ones until the shards are ready again');
    this.#opts.batcher.suspend(`the shards are recovering (${reason})`);
    this.#recovery = this.#recover(performance.now());
  }

  async #recover(started: number): Promise<void> {
    let attempts = 0;
    while (!this.#closed) {
      await sleep(this.#retryMs);
      if (this.#closed) return;
      attempts++;
      try {
        this.#expected = await this.#rewarm();
      } catch (err) {
        this.#recovering = (err as Error).message;
        if (attempts % 20 === 1) this.#opts.logger?.warn({ reason: this.#recovering, attempts }, 'shards not ready yet');
        continue;
      }
      this.#opts.onRecovered?.();
      this.#recovering = null;
      this.#opts.batcher.resume();
      this.#opts.metrics?.ready.set(1);
      this.#opts.logger?.info({ ms: Math.round(performance.now() - started), attempts }, 'shards ready again: serving');
      return;
    }
  }

  /** One attempt: every shard answers, ranks in place, Warmup where a shard lost it; returns the instance ids. */
  async #rewarm(): Promise<string[]> {
    const { shards, warmup } = this.#opts;
    const health = await shards.healthEach();
    const down = health.flatMap((h, rank) => (h.ok ? [] : [`shard ${rank} (${shards.uris[rank]}) is not answering: ${h.error}`]));
    if (down.length > 0) throw new Error(down.join('; '));
    const infos = await shards.infoAll();
    infos.forEach((info, i) => {
      if (info.rank !== i || info.worldSize !== infos.length) {
        throw new Error(`shard ${shards.uris[i]} came back as rank ${info.rank} of ${info.worldSize}; expected rank ${i} of ${infos.length}`);
      }
    });
    const ids = health.map((h) => (h.ok ? h.instanceId : ''));
    if (health.some((h, i) => !h.ok || !h.warmedUp || h.instanceId !== this.#expected[i])) {
      // Every rank: a tensor-parallel warmup is a collective step; a rank that kept its KV reallocates it.
      const res = await shards.warmup(warmup);
      if (res.numBlocks < warmup.numBlocks)
        throw new Error(`re-warmup gave ${res.numBlocks} KV blocks, fewer than the ${warmup.numBlocks} the router accounts for`);
    } else {
      await shards.clearCache();
    }
    const after = await shards.healthEach();
    if (after.some((h, i) => !h.ok || !h.warmedUp || h.instanceId !== ids[i])) throw new Error('a shard restarted again during the re-warmup');
    return ids;
  }
}
