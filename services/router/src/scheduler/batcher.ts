// @module The batching loop, sole owner of batch state: prefill new batches, decode, filter; a batch fails as a unit.
import type { CachedBatch, Generation, Request } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { RouterMetrics } from '../metrics.ts';
import type { ShardApi } from '../shard-client/sharded-client.ts';
import type { ValidRequest } from '../validation/valid-request.ts';
import type { BlockAllocation, BlockAllocator } from './block-allocator.ts';
import { Queue, type Schedulable, type Scheduled } from './queue.ts';

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
}

interface Entry extends Schedulable {
  readonly request: ValidRequest;
  readonly sink: GenerationSink;
}

interface Running {
  entry: Entry;
  allocation: BlockAllocation;
}

export class Batcher {
  readonly #shards: ShardApi;
  readonly #allocator: BlockAllocator;
  readonly #limits: BatcherLimits;
  readonly #metrics: RouterMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #queue = new Queue<Entry>();
  readonly #running = new Map<number, Running>();
  #nextRequestId = 1;
  #nextBatchId = 1;
  #wake: (() => void) | null = null;
  #closed = false;
  readonly #loop: Promise<void>;

  constructor(opts: BatcherOptions) {
    this.#shards = opts.shards;
    this.#allocator = opts.allocator;
    this.#limits = opts.limits;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#loop = this.#run();
  }

  get queueSize(): number {
    return this.#queue.length;
  }

  get runningSize(): number {
    return this.#running.size;
  }

  /** Queues a validated request; its sink receives every outcome. */
  submit(request: ValidRequest, sink: GenerationSink): void {
    if (this.#closed) {
      sink.onError('the router is shutting down', 'unavailable');
      return;
    }
    const entry: Entry = {
      id: this.#nextRequestId++,
      inputIds: request.inputIds,
      totalTokens: request.totalTokens,
      request,
      sink,
      get cancelled() {
        return sink.cancelled;
      },
    };
    this.#queue.append(entry);
    this.#metrics?.queueSize.set(this.#queue.length);
    this.#notify();
  }

  /** Stops the loop after the current step; every request not finished gets an 'unavailable' error. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#notify();
    await this.#loop;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#serveOnce();
      } catch (err) {
        // A bug, not a shard failure (those are handled per call): fail what is running, keep serving.
        await this.#failBatch([...this.#running.keys()], [], err);
        await this.#shards.clearCache().catch(() => undefined);
      }
    }
    this.#shutdown();
  }

  /** Waits for work, prefills a first batch, then runs it (joining new batches) until it empties. */
  async #serveOnce(): Promise<void> {
    const batch = this.#nextBatch(null, this.#limits.maxBatchTotalTokens, this.#limits.maxBatchSize);
    if (batch === null) {
      if (this.#queue.length > 0) {
        // Nothing runs and every block is free, yet the head does not fit: it never will.
        this.#queue.shift()?.sink.onError('the request does not fit in the KV cache or the prefill budget');
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      return;
    }
    let cached = await this.#prefill(batch);
    let waitingTokens = 1;
    while (cached !== null && !this.#closed) {
      // Drop requests cancelled since the last step before spending a step on them.
      cached = await this.#filter(cached);
      if (cached === null) break;
      const batches = [cached];
      // TGI's rule: a new batch joins only if it is large enough relative to the running one,
      // unless the queue has waited max_waiting_tokens steps.
      const minSize =
        waitingTokens >= this.#limits.maxWaitingTokens ? null : Math.floor(cached.size * this.#limits.waitingServedRatio);
      const maxSize = this.#limits.maxBatchSize === null ? null : this.#limits.maxBatchSize - cached.size;
      const budget = this.#limits.maxBatchTotalTokens - this.#reservedTokens();
      const next = this.#queue.length > 0 && (maxSize === null || maxSize > 0) ? this.#nextBatch(minSize, budget, maxSize) : null;
      if (next !== null) {
        const added = await this.#prefill(next);
        waitingTokens = 1;
        if (added !== null) batches.push(added);
      }
      cached = await this.#decode(batches);
      waitingTokens++;
    }
  }

  #nextBatch(minSize: number | null, tokenBudget: number, maxSize: number | null): Scheduled<Entry>[] | null {
    const batch = this.#queue.nextBatch(
      { minSize, maxSize, prefillTokenBudget: this.#limits.maxBatchPrefillTokens, tokenBudget },
      this.#allocator,
    );
    this.#metrics?.queueSize.set(this.#queue.length);
    return batch;
  }

  #reservedTokens(): number {
    let sum = 0;
    for (const r of this.#running.values()) sum += r.entry.totalTokens;
    return sum;
  }

  #toRequest({ entry, allocation }: Scheduled<Entry>): Request {
    const r = entry.request;
    return {
      id: entry.id,
      inputIds: [...r.inputIds],
      parameters: r.parameters,
      stoppingParameters: {
        maxNewTokens: r.stopping.maxNewTokens,
        stopTokenIds: [...r.stopping.stopTokenIds],
        minNewTokens: r.stopping.minNewTokens,
      },
      prefillLogprobs: false,
      topNTokens: r.topNTokens,
      blocks: [...allocation.blocks],
      cacheLen: allocation.cacheLen,
    };
  }

  async #prefill(scheduled: Scheduled<Entry>[]): Promise<CachedBatch | null> {
    const id = this.#nextBatchId++;
    for (const s of scheduled) {
      this.#running.set(s.entry.id, s);
      s.entry.sink.onScheduled();
    }
    const requests = scheduled.map((s) => this.#toRequest(s));
    const ids = requests.map((r) => r.id);
    const started = performance.now();
    try {
      const res = await this.#shards.prefill({
        id,
        requests,
        size: requests.length,
        maxTokens: scheduled.reduce((n, s) => n + s.entry.totalTokens, 0),
      });
      this.#metrics?.stepDuration.observe({ method: 'prefill' }, (performance.now() - started) / 1000);
      for (const s of scheduled) s.allocation.markComputed();
      return await this.#afterStep(ids, res.generations, res.batch);
    } catch (err) {
      await this.#failBatch(ids, [id], err);
      return null;
    }
  }

  async #decode(batches: CachedBatch[]): Promise<CachedBatch | null> {
    if (batches.length === 0) return null;
    const ids = batches.flatMap((b) => b.requestIds);
    const started = performance.now();
    try {
      const res = await this.#shards.decode(batches);
      this.#metrics?.stepDuration.observe({ method: 'decode' }, (performance.now() - started) / 1000);
      return await this.#afterStep(ids, res.generations, res.batch);
    } catch (err) {
      await this.#failBatch(ids, batches.map((b) => b.id), err);
      return null;
    }
  }

  /** Routes generations to their requests, ends lost ones, then filters the finished out. */
  async #afterStep(stepIds: number[], generations: Generation[], batch: CachedBatch | null): Promise<CachedBatch | null> {
    for (const g of generations) {
      const r = this.#running.get(g.requestId);
      if (r === undefined) continue;
      let finished: boolean;
      try {
        finished = r.entry.sink.onGeneration(g);
      } catch (err) {
        r.entry.sink.onError(`could not process the generated token: ${(err as Error).message}`);
        finished = true;
      }
      if (finished) this.#finish(g.requestId);
    }
    const alive = new Set(batch?.requestIds ?? []);
    for (const id of stepIds) {
      const r = this.#running.get(id);
      if (r !== undefined && !alive.has(id)) {
        r.entry.sink.onError('the shard dropped the request from its batch');
        this.#finish(id);
      }
    }
    this.#metrics?.batchSize.set(this.#running.size);
    return this.#filter(batch);
  }

  /** Keeps only requests still running and not cancelled: FilterBatch, or ClearCache when none is left. */
  async #filter(batch: CachedBatch | null): Promise<CachedBatch | null> {
    if (batch === null) return null;
    for (const id of batch.requestIds) if (this.#running.get(id)?.entry.sink.cancelled) this.#finish(id);
    const keep = batch.requestIds.filter((id) => this.#running.has(id));
    if (keep.length === batch.requestIds.length) return batch;
    try {
      if (keep.length === 0) {
        await this.#shards.clearCache(batch.id);
        return null;
      }
      return await this.#shards.filterBatch(batch.id, keep);
    } catch (err) {
      await this.#failBatch(keep, [batch.id], err);
      return null;
    }
  }

  /** A shard call failed: every request of the affected batches gets an error; the batches are cleared. */
  async #failBatch(requestIds: number[], batchIds: number[], err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.#logger?.error({ err: message, batchIds, requests: requestIds.length }, 'batch failed');
    for (const id of requestIds) {
      this.#running.get(id)?.entry.sink.onError(`generation failed: ${message}`);
      this.#finish(id);
    }
    for (const b of batchIds) await this.#shards.clearCache(b).catch(() => undefined);
    this.#metrics?.batchSize.set(this.#running.size);
  }

  #finish(id: number): void {
    const r = this.#running.get(id);
    if (r === undefined) return;
    this.#running.delete(id);
    r.allocation.release();
    this.#metrics?.observeKvCache(this.#allocator.stats());
  }

  #shutdown(): void {
    for (const e of this.#queue.drain()) e.sink.onError('the router is shutting down', 'unavailable');
    for (const id of [...this.#running.keys()]) {
      this.#running.get(id)!.entry.sink.onError('the router is shutting down', 'unavailable');
      this.#finish(id);
    }
    this.#shards.clearCache().catch(() => undefined);
  }
}
