// @module The batching loop, sole owner of batch state: prefill (in chunks) new batches, decode, filter; a batch fails as a unit.
import type { CachedBatch, Generation, Request } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { RouterMetrics } from '../metrics.ts';
import type { DecodeStream } from '../shard-client/shard-client.ts';
import type { ShardApi } from '../shard-client/sharded-client.ts';
import type { ValidRequest } from '../validation/valid-request.ts';
import type { BatcherOptions, BatcherStats, GenerationSink } from './batcher-contract.ts';
import type { BlockAllocator } from './block-allocator.ts';
import type { Schedulable } from './queue.ts';
import { Scheduler, type PrefillWork } from './scheduler.ts';

export type { BatcherLimits, BatcherOptions, BatcherStats, GenerationSink } from './batcher-contract.ts';

interface Entry extends Schedulable {
  readonly request: ValidRequest;
  readonly sink: GenerationSink;
}

export class Batcher {
  readonly #shards: ShardApi;
  readonly #allocator: BlockAllocator;
  readonly #metrics: RouterMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #onShardFailure: ((err: unknown) => void) | undefined;
  readonly #scheduler: Scheduler<Entry>;
  #nextRequestId = 1;
  #nextBatchId = 1;
  #wake: (() => void) | null = null;
  /** The continuous decode in progress, if any: stopped when anything but decoding needs the shards. */
  #stream: DecodeStream | null = null;
  readonly #continuousDecode: boolean;
  #closed = false;
  /** Why the shards cannot serve now (suspend()), else null. */
  #suspended: string | null = null;
  readonly #loop: Promise<void>;

  constructor(opts: BatcherOptions) {
    this.#shards = opts.shards;
    this.#allocator = opts.allocator;
    this.#scheduler = new Scheduler<Entry>(opts.allocator, opts.limits, opts.slidingWindow ?? 0);
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#onShardFailure = opts.onShardFailure;
    this.#continuousDecode = opts.continuousDecode ?? true;
    this.#loop = this.#run();
  }

  get queueSize(): number {
    return this.#scheduler.queueSize;
  }

  get runningSize(): number {
    return this.#scheduler.runningSize;
  }

  stats(): BatcherStats {
    const s = this.#scheduler;
    return {
      queueSize: s.queueSize,
      batchSize: s.runningSize - s.prefillingSize,
      prefillingSize: s.prefillingSize,
      kv: this.#allocator.stats(),
    };
  }

  /** Queues a validated request; its sink receives every outcome. */
  submit(request: ValidRequest, sink: GenerationSink): void {
    if (this.#closed || this.#suspended !== null) {
      sink.onError(this.#suspended ?? 'the router is shutting down', 'unavailable');
      return;
    }
    const entry: Entry = {
      id: this.#nextRequestId++,
      inputIds: request.inputIds,
      totalTokens: request.totalTokens,
      // Prompt logprobs need every prompt row computed, chunked or not.
      reusePrefix: !request.promptLogprobs,
      request,
      sink,
      get cancelled() {
        return sink.cancelled;
      },
    };
    this.#scheduler.enqueue(entry);
    this.#metrics?.queueSize.set(this.#scheduler.queueSize);
    this.#notify();
  }

  /** Stops the loop after the current step; every request not finished gets an 'unavailable' error. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#notify();
    await this.#loop;
  }

  /**
   * The shards lost their state or stopped answering (shard-client/shard-lifecycle.ts): every request
   * running on them ends with a 'generation' error, queued ones with 'unavailable', and new ones are
   * refused until resume(). The loop drops its batches at its next step.
   */
  suspend(reason: string): void {
    this.#suspended = reason;
    for (const e of this.#scheduler.drainQueue()) e.sink.onError(reason, 'unavailable');
    this.#metrics?.queueSize.set(0);
    for (const id of this.#scheduler.runningIds()) this.#scheduler.running(id)?.entry.sink.onError(`generation failed: ${reason}`);
    this.#notify();
  }

  /** The shards are ready again (re-warmed): accept and schedule requests. */
  resume(): void {
    this.#suspended = null;
    this.#notify();
  }

  #notify(): void {
    // A new request, a suspension or shutdown: the shards must stop stepping on their own.
    this.#stream?.control({ dropRequestIds: [], stop: true });
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
        await this.#failBatch(this.#scheduler.runningIds(), [], err);
        await this.#shards.clearCache().catch(() => undefined);
      }
    }
    this.#shutdown();
  }

  /**
   * Waits for work, then loops until nothing runs: each iteration sends at most one Prefill (the next
   * chunks of partly prefilled prompts first, then new requests, within --max-batch-prefill-tokens)
   * and one Decode of the running batch, so running streams keep flowing while a long prompt is admitted.
   */
  async #serveOnce(): Promise<void> {
    if (this.#suspended !== null) {
      this.#abandonRunning();
      await new Promise<void>((resolve) => (this.#wake = resolve));
      return;
    }
    let cached: CachedBatch | null = null;
    do {
      if (this.#suspended !== null) return; // the next #serveOnce drops what runs

      // Drop requests cancelled since the last step before spending a step on them.
      cached = await this.#filter(cached);
      if (this.#scheduler.dropCancelledPrefilling().length > 0) this.#observeKv();
      const batches = cached === null ? [] : [cached];
      const work = this.#scheduler.schedule(cached?.size ?? 0);
      this.#metrics?.queueSize.set(this.#scheduler.queueSize);
      if (work.length === 0 && batches.length === 0) {
        if (this.#scheduler.runningSize > 0) return; // cannot happen: every scheduled request is decoding or prefilling
        const unfittable = this.#scheduler.takeUnfittable();
        if (unfittable !== undefined) {
          unfittable.sink.onError('the request does not fit in the KV cache');
          this.#metrics?.queueSize.set(this.#scheduler.queueSize);
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        return;
      }
      if (work.length > 0) {
        const added = await this.#prefill(work);
        if (added !== null) batches.push(added);
      }
      if (work.length === 0 && this.#scheduler.onlyDecoding && this.#continuousDecode && this.#shards.decodeStream !== undefined) {
        cached = await this.#decodeContinuously(batches);
      } else {
        cached = await this.#decode(batches);
        if (batches.length > 0) this.#scheduler.decoded();
      }
    } while ((cached !== null || this.#scheduler.prefillingSize > 0) && !this.#closed);
  }

  #toRequest({ running: { entry, allocation }, cacheLen, chunkLen }: PrefillWork<Entry>): Request {
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
      prefillLogprobs: r.promptLogprobs,
      topNTokens: r.topNTokens,
      blocks: [...allocation.blocks],
      cacheLen,
      // 0 = the whole rest of the prompt (also what a shard without chunking support computes).
      chunkLen: cacheLen + chunkLen < entry.inputIds.length ? chunkLen : 0,
    };
  }

  async #prefill(work: PrefillWork<Entry>[]): Promise<CachedBatch | null> {
    const id = this.#nextBatchId++;
    for (const w of work) if (w.isNew) w.running.entry.sink.onScheduled();
    const requests = work.map((w) => this.#toRequest(w));
    const ids = requests.map((r) => r.id);
    const started = performance.now();
    try {
      const res = await this.#shards.prefill({
        id,
        requests,
        size: requests.length,
        maxTokens: work.reduce((n, w) => n + w.running.entry.totalTokens, 0),
      });
      this.#metrics?.observeStep('prefill', (performance.now() - started) / 1000, requests.length, res.timings);
      const complete = this.#scheduler.prefilled(work);
      // Prompt logprobs of incomplete prompts' chunks (nothing was sampled for them).
      for (const g of res.generations)
        if (!complete.has(g.requestId) && g.prefillTokens != null) this.#scheduler.running(g.requestId)?.entry.sink.onGeneration(g);
      return await this.#afterStep(
        [...complete],
        res.generations.filter((g) => complete.has(g.requestId)),
        res.batch,
      );
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
      this.#metrics?.observeStep('decode', (performance.now() - started) / 1000, ids.length, res.timings);
      if (this.#scheduler.advanced(ids) > 0) this.#observeKv();
      return await this.#afterStep(ids, res.generations, res.batch);
    } catch (err) {
      await this.#failBatch(
        ids,
        batches.map((b) => b.id),
        err,
      );
      return null;
    }
  }

  /**
   * Continuous decode: the shards step the batch on their own and stream each step back, so the
   * round trip leaves the per-token path; this routes each step as it arrives while the next one
   * computes. Requests that finish here (stop strings) or are cancelled are dropped by a control; a
   * step the shard already ran for them is ignored (their sink has ended). Anything else that needs
   * the shards (a new request, suspend, close) stops the stream via #notify; the survivors stay
   * cached on the shards and are returned as the batch, as after a Decode.
   */
  async #decodeContinuously(batches: CachedBatch[]): Promise<CachedBatch | null> {
    if (batches.length === 0) return null;
    let stepIds = batches.flatMap((b) => b.requestIds);
    const all = new Set(stepIds);
    let last: CachedBatch | null = null;
    const stream = this.#shards.decodeStream!(batches);
    this.#stream = stream;
    if (this.#closed || this.#suspended !== null || !this.#scheduler.onlyDecoding) stream.control({ dropRequestIds: [], stop: true });
    let started = performance.now();
    try {
      for await (const step of stream.steps) {
        const now = performance.now();
        this.#metrics?.observeStep('decode', (now - started) / 1000, stepIds.length, step.timings);
        started = now;
        this.#scheduler.decoded();
        last = step.batch;
        if (this.#suspended !== null) continue; // suspend() ended every request already
        if (this.#scheduler.advanced(stepIds) > 0) this.#observeKv();
        this.#route(stepIds, step.generations, step.batch);
        stepIds = step.batch?.requestIds ?? [];
        const keep = this.#scheduler.keep(stepIds);
        if (keep.length < stepIds.length) {
          this.#observeKv();
          const kept = new Set(keep);
          stream.control({ dropRequestIds: stepIds.filter((id) => !kept.has(id)), stop: false });
          stepIds = keep;
        }
      }
    } catch (err) {
      await this.#failBatch([...all], [batches[0]!.id], err);
      return null;
    } finally {
      this.#stream = null;
      stream.close();
    }
    return this.#filter(last);
  }

  /** Routes generations to their requests, ends lost ones, then filters the finished out. */
  async #afterStep(stepIds: number[], generations: Generation[], batch: CachedBatch | null): Promise<CachedBatch | null> {
    this.#route(stepIds, generations, batch);
    return this.#filter(batch);
  }

  /** Hands each generation to its request and ends those the step finished or the shard lost. */
  #route(stepIds: number[], generations: Generation[], batch: CachedBatch | null): void {
    for (const g of generations) {
      const r = this.#scheduler.running(g.requestId);
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
    for (const r of this.#scheduler.lost(stepIds, batch?.requestIds ?? [])) {
      r.entry.sink.onError('the shard dropped the request from its batch');
      this.#finish(r.entry.id);
    }
    this.#metrics?.batchSize.set(this.#scheduler.runningSize);
  }

  /** Keeps only requests still running and not cancelled: FilterBatch, or ClearCache when none is left. */
  async #filter(batch: CachedBatch | null): Promise<CachedBatch | null> {
    if (batch === null) return null;
    const keep = this.#scheduler.keep(batch.requestIds);
    if (keep.length < batch.requestIds.length) this.#observeKv();
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
    this.#onShardFailure?.(err);
    for (const id of requestIds) {
      this.#scheduler.running(id)?.entry.sink.onError(`generation failed: ${message}`);
      this.#finish(id);
    }
    for (const b of batchIds) await this.#shards.clearCache(b).catch(() => undefined);
    this.#metrics?.batchSize.set(this.#scheduler.runningSize);
  }

  /** Suspended: the shards' batches are gone; release what the requests held (their sinks already ended). */
  #abandonRunning(): void {
    this.#scheduler.finishAll();
    this.#observeKv();
    this.#metrics?.batchSize.set(0);
  }

  #finish(id: number): void {
    if (this.#scheduler.finish(id) !== undefined) this.#observeKv();
  }

  #observeKv(): void {
    this.#metrics?.observeKvCache(this.#allocator.stats());
  }

  #shutdown(): void {
    for (const e of this.#scheduler.drainQueue()) e.sink.onError('the router is shutting down', 'unavailable');
    for (const r of this.#scheduler.finishAll()) r.entry.sink.onError('the router is shutting down', 'unavailable');
    this.#observeKv();
    this.#shards.clearCache().catch(() => undefined);
  }
}
