// @module Every router metric defined in one place, on a registry of its own (prom-client).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Timings } from '@tessera/protocol';
import type { BlockAllocatorStats } from './scheduler/block-allocator.ts';
import type { DelayStats } from './observability/event-loop-delay.ts';
import { TgiMetrics, type FinishedRequest } from './tgi-metrics.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384];

/** Core metrics (tessera_*), TGI's (tgi_*) and Node's process metrics; names are documented in docs/metrics.md. */
export class RouterMetrics {
  readonly registry = new Registry();
  #kvStats: (() => BlockAllocatorStats) | null = null;
  /** Finished HTTP requests by route and status (was tessera_request_count, a counter without _total). */
  readonly requests = new Counter({
    name: 'tessera_http_requests_total',
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
  /**
   * Requests refused at the HTTP edge before any route ran (or streams cut there), by reason:
   * unauthorized, payload_too_large, unsupported_media_type, bad_body (undecodable, too deep, too
   * long arrays), slow_reader (SSE client stopped reading), max_connections (socket dropped).
   */
  readonly rejected = new Counter({
    name: 'tessera_requests_rejected_total',
    help: 'Requests refused at the HTTP edge, by reason',
    labelNames: ['reason'] as const,
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
  /** Speculative decoding (--speculate): draft tokens the shards verified and those the model accepted; their ratio is the acceptance rate. */
  readonly speculativeProposed = new Counter({
    name: 'tessera_speculative_proposed_tokens_total',
    help: 'Draft tokens proposed (prompt lookup) and verified by decode steps',
    registers: [this.registry],
  });
  readonly speculativeAccepted = new Counter({
    name: 'tessera_speculative_accepted_tokens_total',
    help: 'Draft tokens the model accepted (each saves one decode step)',
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
    // Refreshed before every scrape too (otherwise only when a request finishes).
    collect: () => {
      if (this.#kvStats !== null) this.observeKvCache(this.#kvStats());
    },
  });
  /** A counter read from the allocator's running totals at each scrape (was the gauge tessera_prefill_tokens). */
  readonly prefillTokens = new Counter({
    name: 'tessera_prefill_tokens_total',
    help: 'Prompt tokens computed vs skipped thanks to the prefix cache',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: () => {
      if (this.#kvStats === null) return;
      const s = this.#kvStats();
      this.prefillTokens.reset();
      this.prefillTokens.inc({ kind: 'computed' }, s.prefillTokensComputed);
      this.prefillTokens.inc({ kind: 'skipped' }, s.prefillTokensSkipped);
    },
  });

  readonly interTokenLatency = new Histogram({
    name: 'tessera_inter_token_latency_seconds',
    help: 'Time between two consecutive generated tokens of one request',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly shardForward = new Histogram({
    name: 'tessera_shard_forward_duration_seconds',
    help: 'Model forward time inside the shard (rank 0), per step',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly shardSample = new Histogram({
    name: 'tessera_shard_sample_duration_seconds',
    help: 'Sampling time inside the shard (rank 0), per step',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly grammarMask = new Histogram({
    name: 'tessera_shard_grammar_mask_duration_seconds',
    help: 'Constrained decoding: time rank 0 spent computing grammar masks in a step (beside the forward), per step with a constrained request',
    labelNames: ['method'] as const,
    // Masks take tens to hundreds of microseconds: finer buckets than the steps'.
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
    registers: [this.registry],
  });
  readonly shardStep = new Histogram({
    name: 'tessera_shard_step_duration_seconds',
    help: "The shard engine's whole time for one step (rank 0): forward, sampling and bookkeeping, without transport",
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly stepBatchSize = new Histogram({
    name: 'tessera_batch_step_size',
    help: 'Requests in one shard step (prefill or decode)',
    labelNames: ['method'] as const,
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  readonly stepTokens = new Histogram({
    name: 'tessera_batch_step_computed_tokens',
    help: 'Tokens the model computed in one shard step (prefill suffixes or one per decoded request)',
    labelNames: ['method'] as const,
    buckets: TOKEN_BUCKETS,
    registers: [this.registry],
  });
  readonly shardUp = new Gauge({
    name: 'tessera_shard_up',
    help: '1 when the shard answered its last health check, else 0',
    labelNames: ['shard'] as const,
    registers: [this.registry],
  });
  readonly shardRecoveries = new Counter({
    name: 'tessera_shard_recoveries_total',
    help: 'Times a shard stopped answering, restarted or lost its warm-up and the router began recovering (re-warmup)',
    registers: [this.registry],
  });
  readonly ready = new Gauge({ name: 'tessera_ready', help: '1 when warmed up, every shard healthy and not shutting down', registers: [this.registry] });
  /** Plain running totals for the status page (prom-client values are only readable asynchronously). */
  readonly live = { tokens: 0, firstTokens: 0, ttftSecondsSum: 0 };

  /** TGI's families (tgi_*), always on: docs/metrics.md. */
  readonly tgi = new TgiMetrics(this.registry, {
    queueSize: async () => (await this.queueSize.get()).values[0]?.value ?? 0,
    batchSize: async () => (await this.batchSize.get()).values[0]?.value ?? 0,
  });

  constructor(opts: { defaultMetrics?: boolean; model?: string } = {}) {
    if (opts.model !== undefined) this.registry.setDefaultLabels({ model: opts.model });
    // Unprefixed (process_cpu_seconds_total, nodejs_heap_size_used_bytes): what stock Node.js dashboards query.
    if (opts.defaultMetrics ?? false) collectDefaultMetrics({ register: this.registry });
  }

  /** A request ended with generated output: the tessera_* and tgi_* request families. */
  observeFinished(r: FinishedRequest & { finishReason: string }): void {
    this.finished.inc({ outcome: r.finishReason });
    this.inputTokens.inc(r.inputTokens);
    this.generatedTokens.inc(r.generatedTokens);
    this.requestDuration.observe(r.totalSeconds);
    this.queueDuration.observe(r.queueSeconds);
    this.timePerOutputToken.observe(r.perTokenSeconds);
    this.tgi.finished(r);
  }

  /** A request ended with an error (`errorType`: validation, overloaded, generation, cancelled, …). */
  observeFailed(errorType: string): void {
    this.finished.inc({ outcome: errorType });
    this.tgi.failed(errorType);
  }

  /** A request's first token arrived `seconds` after the request did. */
  observeFirstToken(seconds: number): void {
    this.timeToFirstToken.observe(seconds);
    this.live.firstTokens++;
    this.live.ttftSecondsSum += seconds;
    this.live.tokens++;
  }

  /** `count` more tokens of one request arrived `gapSeconds` after its previous ones. */
  observeNextTokens(count: number, gapSeconds: number): void {
    for (let i = 0; i < count; i++) this.interTokenLatency.observe(gapSeconds / count);
    this.live.tokens += count;
  }

  /** One shard step finished: the round trip, the shard's own timings and the step's size. */
  observeStep(method: 'prefill' | 'decode', roundTripSeconds: number, requests: number, timings: Timings | null | undefined): void {
    this.stepDuration.observe({ method }, roundTripSeconds);
    this.stepBatchSize.observe({ method }, requests);
    this.tgi.step(method, roundTripSeconds, timings ? timings.forwardNs / 1e9 : null, requests);
    if (timings === null || timings === undefined) return;
    this.shardForward.observe({ method }, timings.forwardNs / 1e9);
    this.shardSample.observe({ method }, timings.sampleNs / 1e9);
    this.shardStep.observe({ method }, timings.totalNs / 1e9);
    this.stepTokens.observe({ method }, timings.computedTokens);
    if ((timings.grammarMaskNs ?? 0) > 0) this.grammarMask.observe({ method }, timings.grammarMaskNs! / 1e9);
    if (timings.draftTokens > 0) {
      this.speculativeProposed.inc(timings.draftTokens);
      this.speculativeAccepted.inc(timings.acceptedDraftTokens);
    }
  }

  /** Event-loop delay quantiles (p50, p99, max) over the monitor's rolling window, read at each scrape. */
  attachEventLoop(monitor: { stats(): DelayStats }): void {
    new Gauge({
      name: 'tessera_event_loop_delay_seconds',
      help: "How late the router's event loop ran a timer (p50, p99, max over the last 30-60 s): time every request waited on CPU work",
      labelNames: ['quantile'] as const,
      registers: [this.registry],
      collect() {
        const s = monitor.stats();
        this.set({ quantile: '0.5' }, s.p50);
        this.set({ quantile: '0.99' }, s.p99);
        this.set({ quantile: 'max' }, s.max);
      },
    });
  }

  /** KV capacity and prefix-cache figures are read from the allocator at each scrape. */
  attachAllocator(allocator: { stats(): BlockAllocatorStats; blockSize: number }): void {
    const stats = () => allocator.stats();
    new Gauge({
      name: 'tessera_kv_cache_capacity_tokens',
      help: 'KV cache capacity in tokens (blocks x block size)',
      registers: [this.registry],
      collect() {
        this.set(stats().totalBlocks * allocator.blockSize);
      },
    });
    new Gauge({
      name: 'tessera_kv_cache_usage_ratio',
      help: 'Fraction of KV blocks held by running requests (0..1)',
      registers: [this.registry],
      collect() {
        const s = stats();
        this.set(s.totalBlocks > 0 ? s.usedBlocks / s.totalBlocks : 0);
      },
    });
    new Counter({
      name: 'tessera_prefix_cache_queries_total',
      help: 'Prefill block lookups in the prefix cache',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(stats().prefixQueries);
      },
    });
    new Counter({
      name: 'tessera_prefix_cache_hits_total',
      help: 'Prefill lookups that reused at least one cached block',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(stats().prefixHits);
      },
    });
    this.tgi.attachBatchTokens(() => stats().usedBlocks * allocator.blockSize, this.registry);
    this.#kvStats = stats;
  }

  observeKvCache(s: BlockAllocatorStats): void {
    this.kvBlocks.set({ state: 'free' }, s.freeBlocks);
    this.kvBlocks.set({ state: 'used' }, s.usedBlocks);
    this.kvBlocks.set({ state: 'cached' }, s.cachedBlocks);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
