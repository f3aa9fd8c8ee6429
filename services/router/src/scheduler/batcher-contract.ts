// @module The batcher's contract: what it takes (shards, limits, a sink per request) and what it reports.
import type { Logger } from 'pino';
import type { RouterMetrics } from '../metrics.ts';
import type { ShardApi } from '../shard-client/sharded-client.ts';
import type { BlockAllocator, BlockAllocatorStats } from './block-allocator.ts';
import type { Generation } from '@tessera/protocol';

/** The request's output side, as the batcher sees it (infer/request-state.ts implements it). */
export interface GenerationSink {
  /** True once the client went away; the request is dropped at the next step. */
  readonly cancelled: boolean;
  /** The request enters a Prefill. */
  onScheduled(): void;
  /** Handles one Generation; returns true when the request is finished (shard or router side). */
  onGeneration(g: Generation): boolean;
  /** Ends the request with an error event. */
  onError(message: string, errorType?: 'generation' | 'unavailable'): void;
}

export interface BatcherLimits {
  maxBatchPrefillTokens: number;
  maxBatchTotalTokens: number;
  maxBatchSize: number | null;
  waitingServedRatio: number;
  maxWaitingTokens: number;
}

export interface BatcherOptions {
  shards: ShardApi;
  allocator: BlockAllocator;
  limits: BatcherLimits;
  metrics?: RouterMetrics;
  logger?: Logger;
  /** Called when a shard call fails, so the shard lifecycle can check at once whether a shard died or restarted. */
  onShardFailure?: (err: unknown) => void;
  /** Let the shards step the running batch on their own while nothing waits (DecodeStream); default true. */
  continuousDecode?: boolean;
  /**
   * The shards' InfoResponse.sliding_window_all_layers: > 0 when every layer attends within that many
   * tokens, so each request's KV blocks behind the window are released after every decode step.
   * Default 0 (keep every block until the request ends).
   */
  slidingWindow?: number;
}

/** What the batching loop holds right now (for /stats and tests). */
export interface BatcherStats {
  /** Requests waiting for their first Prefill. */
  queueSize: number;
  /** Requests in the running (decoding) batch. */
  batchSize: number;
  /** Requests whose prompt is partly prefilled (chunked prefill in progress). */
  prefillingSize: number;
  kv: BlockAllocatorStats;
}
