// @module Every router metric defined in one place, on a registry of its own (prom-client).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BlockAllocatorStats } from './scheduler/block-allocator.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Core metrics; names are documented in docs/ (prefix tessera_). */
export class RouterMetrics {
  readonly registry = new Registry();
  /** Finished HTTP requests by route and status. */
  readonly requests = new Counter({
    name: 'tessera_request_count',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'tessera_request_duration_seconds',
    help: 'Generation request duration, arrival to last token',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly queueDuration = new Histogram({
    name: 'tessera_request_queue_duration_seconds',
    help: 'Time from arrival to the first Prefill',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly timeToFirstToken = new Histogram({
    name: 'tessera_time_to_first_token_seconds',
    help: 'Time from arrival to the first generated token',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly timePerOutputToken = new Histogram({
    name: 'tessera_time_per_output_token_seconds',
    help: 'Inference time divided by generated tokens, per request',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inputTokens = new Counter({ name: 'tessera_input_tokens_total', help: 'Prompt tokens of finished requests', registers: [this.registry] });
  readonly generatedTokens = new Counter({ name: 'tessera_generated_tokens_total', help: 'Generated tokens of finished requests', registers: [this.registry] });
  readonly finished = new Counter({
    name: 'tessera_request_finished_total',
    help: 'Requests by outcome (length, eos_token, stop_sequence, generation, cancelled, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'tessera_requests_in_flight', help: 'Requests admitted and not yet ended', registers: [this.registry] });
  readonly queueSize = new Gauge({ name: 'tessera_queue_size', help: 'Requests waiting for a Prefill', registers: [this.registry] });
  readonly batchSize = new Gauge({ name: 'tessera_batch_size', help: 'Requests in the running batch', registers: [this.registry] });
  readonly stepDuration = new Histogram({
    name: 'tessera_batch_step_duration_seconds',
    help: 'Shard step round trip (prefill or decode)',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly kvBlocks = new Gauge({
    name: 'tessera_kv_blocks',
    help: 'KV cache blocks by state (free, used, cached)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly prefillTokens = new Gauge({
    name: 'tessera_prefill_tokens',
    help: 'Prompt tokens computed vs skipped thanks to the prefix cache, since start',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? false) collectDefaultMetrics({ register: this.registry, prefix: 'tessera_router_' });
  }

  observeKvCache(s: BlockAllocatorStats): void {
    this.kvBlocks.set({ state: 'free' }, s.freeBlocks);
    this.kvBlocks.set({ state: 'used' }, s.usedBlocks);
    this.kvBlocks.set({ state: 'cached' }, s.cachedBlocks);
    this.prefillTokens.set({ kind: 'computed' }, s.prefillTokensComputed);
    this.prefillTokens.set({ kind: 'skipped' }, s.prefillTokensSkipped);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
