// @module The batching loop, sole owner of batch state: prefill (in chunks) new batches, decode, filter; a batch fails as a unit.
import type { CachedBatch, Generation, Request } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { RouterMetrics } from '../metrics.ts';
import type { ShardApi } from '../shard-client/sharded-client.ts';
import type { ValidRequest } from '../validation/valid-request.ts';
import type { BatcherLimits, BatcherOptions, BatcherStats, GenerationSink } from './batcher-contract.ts';
import type { BlockAllocation, BlockAllocator } from './block-allocator.ts';
import { Queue, type Schedulable } from './queue.ts';

export type { BatcherLimits, BatcherOptions, BatcherStats, GenerationSink } from './batcher-contract.ts';

interface Entry extends Schedulable {
  readonly request: ValidRequest;
  readonly sink: GenerationSink;
}

interface Running {
  entry: Entry;
  allocation: BlockAllocation;
  /** Leading prompt tokens whose K/V are in the blocks (prefix hit + prefilled chunks). */
  computed: number;
}

/** One request of a Prefill call: compute prompt tokens [cacheLen, cacheLen + chunkLen). */
interface PrefillWork {
  running: Running;
  cacheLen: number;
  chunkLen: number;
  /** First time in a Prefill (not a continued chunk). */
  isNew: boolean;
}

export class Batcher {
  readonly #shards: ShardApi;
  readonly #allocator: BlockAllocator;
  readonly #limits: BatcherLimits;
  readonly #metrics: RouterMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #onShardFailure: ((err: unknown) => void) | undefined;
  readonly #queue = new Queue<Entry>();
  /** Every scheduled request: decoding, or still prefilling. */
  readonly #running = new Map<number, Running>();
  /** Scheduled requests whose prompt is not fully computed yet, oldest first (their next chunk goes first). */
  #prefilling: Running[] = [];
  #nextRequestId = 1;
  #nextBatchId = 1;
  #wake: (() => void) | null = null;
  #closed = false;
  /** Why the shards cannot serve now (suspend()), else null. */
  #suspended: string | null = null;
  readonly #loop: Promise<void>;

  constructor(opts: BatcherOptions) {
    this.#shards = opts.shards;
    this.#allocator = opts.allocator;
    this.#limits = opts.limits;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#onShardFailure = opts.onShardFailure;
    this.#loop = this.#run();
  }

  get queueSize(): number {
    return this.#queue.length;
  }

  get runningSize(): number {
    return this.#running.size;
  }

  stats(): BatcherStats {
    return {
      queueSize: this.#queue.length,
      batchSize: this.#running.size - this.#prefilling.length,
      prefillingSize: this.#prefilling.length,
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

  /**
   * The shards lost their state or stopped answering (shard-client/shard-lifecycle.ts): every request
   * running on them ends with a 'generation' error, queued ones with 'unavailable', and new ones are
   * refused until resume(). The loop drops its batches at its next step.
   */
  suspend(reason: string): void {
    this.#suspended = reason;
    for (const e of this.#queue.drain()) e.sink.onError(reason, 'unavailable');
    this.#metrics?.queueSize.set(0);
    for (const r of this.#running.values()) r.entry.sink.onError(`generation failed: ${reason}`);
    this.#notify();
  }

  /** The shards are ready again (re-warmed): accept and schedule requests. */
  resume(): void {
    this.#suspended = null;
    this.#notify();
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
    let waitingTokens = 1;
    do {
      if (this.#suspended !== null) return; // the next #serveOnce drops what runs

      // Drop requests cancelled since the last step before spending a step on them.
      cached = await this.#filter(cached);
      this.#dropCancelledPrefilling();
      const batches = cached === null ? [] : [cached];
      const work = this.#prefillWork(cached?.size ?? 0, waitingTokens);
      if (work.length === 0 && batches.length === 0) {
        if (this.#running.size > 0) return; // cannot happen: every scheduled request is decoding or prefilling
        if (this.#queue.length > 0) {
          // Nothing runs and every block is free, yet the head does not fit: it never will.
          this.#queue.shift()?.sink.onError('the request does not fit in the KV cache');
          this.#metrics?.queueSize.set(this.#queue.length);
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        return;
      }
      if (work.length > 0) {
        if (work.some((w) => w.isNew)) waitingTokens = 1;
        const added = await this.#prefill(work);
        if (added !== null) batches.push(added);
      }
      cached = await this.#decode(batches);
      if (batches.length > 0) waitingTokens++;
    } while ((cached !== null || this.#prefilling.length > 0) && !this.#closed);
  }

  /** The next Prefill: continued chunks first (FIFO), then new requests if TGI's joining rule allows. */
  #prefillWork(runningSize: number, waitingTokens: number): PrefillWork[] {
    const work: PrefillWork[] = [];
    let left = this.#limits.maxBatchPrefillTokens;
    while (left > 0 && this.#prefilling.length > 0) {
      const r = this.#prefilling.shift()!;
      const chunkLen = Math.min(r.entry.inputIds.length - r.computed, left);
      work.push({ running: r, cacheLen: r.computed, chunkLen, isNew: false });
      left -= chunkLen;
    }
    if (left <= 0 || this.#queue.length === 0) return work;
    const scheduledSize = runningSize + work.length + this.#prefilling.length;
    // TGI's rule: a new batch joins a running one only if it is large enough relative to it,
    // unless the queue has waited max_waiting_tokens steps.
    const minSize =
      runningSize === 0 || waitingTokens >= this.#limits.maxWaitingTokens ? null : Math.floor(runningSize * this.#limits.waitingServedRatio);
    const maxSize = this.#limits.maxBatchSize === null ? null : this.#limits.maxBatchSize - scheduledSize;
    if (maxSize !== null && maxSize <= 0) return work;
    const batch = this.#queue.nextBatch(
      {
        minSize,
        maxSize,
        prefillTokenBudget: left,
        tokenBudget: this.#limits.maxBatchTotalTokens - this.#reservedTokens(),
        minChunkTokens: this.#allocator.blockSize,
      },
      this.#allocator,
    );
    this.#metrics?.queueSize.set(this.#queue.length);
    for (const { entry, allocation, prefillLen } of batch ?? []) {
      const running: Running = { entry, allocation, computed: allocation.cacheLen };
      work.push({ running, cacheLen: allocation.cacheLen, chunkLen: prefillLen, isNew: true });
    }
    return work;
  }

  /** Partly prefilled requests whose client went away: they hold blocks but nothing on the shard. */
  #dropCancelledPrefilling(): void {
    if (!this.#prefilling.some((r) => r.entry.sink.cancelled)) return;
    for (const r of this.#prefilling) if (r.entry.sink.cancelled) this.#finish(r.entry.id);
    this.#prefilling = this.#prefilling.filter((r) => !r.entry.sink.cancelled);
  }

  #reservedTokens(): number {
    let sum = 0;
    for (const r of this.#running.values()) sum += r.entry.totalTokens;
    return sum;
  }

  #toRequest({ running: { entry, allocation }, cacheLen, chunkLen }: PrefillWork): Request {
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

  async #prefill(work: PrefillWork[]): Promise<CachedBatch | null> {
    const id = this.#nextBatchId++;
    for (const w of work) {
      if (!w.isNew) continue;
      this.#running.set(w.running.entry.id, w.running);
      w.running.entry.sink.onScheduled();
    }
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
      // Requests whose prompt is still incomplete go back to the front of the prefilling list, in order;
      // the shard sampled nothing for them and keeps nothing of them but the K/V in their blocks.
      const partial: Running[] = [];
      const complete = new Set<number>();
      for (const w of work) {
        const r = w.running;
        r.computed = w.cacheLen + w.chunkLen;
        if (r.computed < r.entry.inputIds.length) partial.push(r);
        else {
          r.allocation.markComputed();
          complete.add(r.entry.id);
        }
      }
      this.#prefilling = [...partial, ...this.#prefilling];
      // Prompt logprobs of incomplete prompts' chunks (nothing was sampled for them).
      for (const g of res.generations) if (!complete.has(g.requestId) && g.prefillTokens != null) this.#running.get(g.requestId)?.entry.sink.onGeneration(g);
      return await this.#afterStep([...complete], res.generations.filter((g) => complete.has(g.requestId)), res.batch);
    } catch (err) {
      this.#prefilling = this.#prefilling.filter((r) => !ids.includes(r.entry.id));
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
    this.#onShardFailure?.(err);
    for (const id of requestIds) {
      this.#running.get(id)?.entry.sink.onError(`generation failed: ${message}`);
      this.#finish(id);
    }
    for (const b of batchIds) await this.#shards.clearCache(b).catch(() => undefined);
    this.#metrics?.batchSize.set(this.#running.size);
  }

  /** Suspended: the shards' batches are gone; release what the requests held (their sinks already ended). */
  #abandonRunning(): void {
    for (const id of [...this.#running.keys()]) this.#finish(id);
    this.#prefilling = [];
    this.#metrics?.batchSize.set(0);
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
