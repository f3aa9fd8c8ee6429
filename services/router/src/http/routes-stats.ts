// @module GET /stats: the batching loop and KV cache counters as flat JSON (Tessera-specific, for operators and tests).
import { Router, type Request, type Response } from 'express';
import type { BatcherStats } from '../scheduler/batcher.ts';

/** The body of GET /stats; every field is documented in docs/api.md ("GET /stats"). */
export interface StatsBody {
  queue_size: number;
  batch_size: number;
  prefilling_size: number;
  kv_blocks_total: number;
  kv_blocks_free: number;
  kv_blocks_used: number;
  kv_blocks_cached: number;
  kv_block_size: number;
  prefix_cache_queries: number;
  prefix_cache_hits: number;
  prefill_tokens_computed: number;
  prefill_tokens_reused: number;
}

export function toStatsBody(s: BatcherStats, blockSize: number): StatsBody {
  return {
    queue_size: s.queueSize,
    batch_size: s.batchSize,
    prefilling_size: s.prefillingSize,
    kv_blocks_total: s.kv.totalBlocks,
    kv_blocks_free: s.kv.freeBlocks,
    kv_blocks_used: s.kv.usedBlocks,
    kv_blocks_cached: s.kv.cachedBlocks,
    kv_block_size: blockSize,
    prefix_cache_queries: s.kv.prefixQueries,
    prefix_cache_hits: s.kv.prefixHits,
    prefill_tokens_computed: s.kv.prefillTokensComputed,
    prefill_tokens_reused: s.kv.prefillTokensSkipped,
  };
}

export interface StatsRouteDeps {
  stats: () => StatsBody;
}

export function statsRoutes(deps: StatsRouteDeps): Router {
  const router = Router();
  router.get('/stats', (_req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    res.json(deps.stats());
  });
  return router;
}
