// @module The scheduling policy as pure bookkeeping: what the next Prefill computes (continued chunks, new requests under TGI's join rule and the budgets), what is finished, cancelled or can never fit. No I/O.
import type { BatcherLimits } from './batcher-contract.ts';
import type { BlockAllocation } from './block-allocator.ts';
import { Queue, type Allocator, type Schedulable } from './queue.ts';

/** A scheduled request: decoding, or still prefilling. */
export interface Running<E> {
  readonly entry: E;
  readonly allocation: BlockAllocation;
  /** Leading prompt tokens whose K/V are in the blocks (prefix hit + prefilled chunks). */
  computed: number;
  /** Decode steps run since the prompt was complete: the KV holds computed + decodeSteps rows. */
  decodeSteps: number;
}

/** One request of a Prefill call: compute prompt tokens [cacheLen, cacheLen + chunkLen). */
export interface PrefillWork<E> {
  readonly running: Running<E>;
  readonly cacheLen: number;
  readonly chunkLen: number;
  /** First time in a Prefill (not a continued chunk). */
  readonly isNew: boolean;
}

/** The allocator as the scheduler sees it: allocate (through the queue) and the block size (smallest chunk). */
export interface SchedulerAllocator extends Allocator {
  readonly blockSize: number;
}

export class Scheduler<E extends Schedulable> {
  readonly #allocator: SchedulerAllocator;
  readonly #limits: BatcherLimits;
  readonly #queue = new Queue<E>();
  readonly #running = new Map<number, Running<E>>();
  /** Scheduled requests whose prompt is not fully computed yet, oldest first (their next chunk goes first). */
  #prefilling: Running<E>[] = [];
  /** Steps the queue has waited while a batch ran (TGI's waiting_tokens); 1 when nothing runs. */
  #waitingSteps = 1;
  /** > 0: every layer attends within this many tokens, so blocks behind the window are released early. */
  readonly #slidingWindow: number;

  constructor(allocator: SchedulerAllocator, limits: BatcherLimits, slidingWindow = 0) {
    this.#allocator = allocator;
    this.#limits = limits;
    this.#slidingWindow = slidingWindow;
  }

  get queueSize(): number {
    return this.#queue.length;
  }

  /** Every scheduled request: decoding or prefilling. */
  get runningSize(): number {
    return this.#running.size;
  }

  get prefillingSize(): number {
    return this.#prefilling.length;
  }

  enqueue(entry: E): void {
    this.#queue.append(entry);
  }

  running(id: number): Running<E> | undefined {
    return this.#running.get(id);
  }

  runningIds(): number[] {
    return [...this.#running.keys()];
  }

  /**
   * The next Prefill: continued chunks first (FIFO), then new requests if TGI's joining rule allows,
   * within --max-batch-prefill-tokens. New requests are running from here on (their blocks are held).
   * `decodingSize` is the size of the batch that decodes next.
   */
  schedule(decodingSize: number): PrefillWork<E>[] {
    if (this.#running.size === 0) this.#waitingSteps = 1;
    const work: PrefillWork<E>[] = [];
    let left = this.#limits.maxBatchPrefillTokens;
    while (left > 0 && this.#prefilling.length > 0) {
      const r = this.#prefilling.shift()!;
      const chunkLen = Math.min(r.entry.inputIds.length - r.computed, left);
      work.push({ running: r, cacheLen: r.computed, chunkLen, isNew: false });
      left -= chunkLen;
    }
    if (left <= 0 || this.#queue.length === 0) return work;
    const scheduledSize = decodingSize + work.length + this.#prefilling.length;
    // TGI's rule: a new batch joins a running one only if it is large enough relative to it,
    // unless the queue has waited max_waiting_tokens steps.
    const minSize =
      decodingSize === 0 || this.#waitingSteps >= this.#limits.maxWaitingTokens ? null : Math.floor(decodingSize * this.#limits.waitingServedRatio);
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
    for (const { entry, allocation, prefillLen } of batch ?? []) {
      const running: Running<E> = { entry, allocation, computed: allocation.cacheLen, decodeSteps: 0 };
      this.#running.set(entry.id, running);
      work.push({ running, cacheLen: allocation.cacheLen, chunkLen: prefillLen, isNew: true });
      this.#waitingSteps = 1;
    }
    return work;
  }

  /**
   * The Prefill of `work` succeeded. Requests whose prompt is still incomplete go back to the front of
   * the prefilling list, in order; the complete ones' prompt blocks become reusable. Returns the ids
   * of the complete ones (they decode from now on).
   */
  prefilled(work: readonly PrefillWork<E>[]): Set<number> {
    const partial: Running<E>[] = [];
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
    return complete;
  }

  /**
   * Nothing waits for a Prefill (the queue is empty and no prompt is partly computed): the running
   * batch may decode continuously until a request arrives.
   */
  get onlyDecoding(): boolean {
    return this.#queue.length === 0 && this.#prefilling.length === 0;
  }

  /** A Decode ran: the queue has waited one more step. */
  decoded(): void {
    this.#waitingSteps++;
  }

  /**
   * A decode step ran for `ids` (those finished meanwhile are skipped): each holds one more KV row.
   * When every layer slides, the next step's query at row p sees keys p − window + 1 … p only, so
   * blocks wholly before that are never read again (the shard points their table entries elsewhere)
   * and go back to the allocator. Counting steps can only lag the shard (it may run ahead in a
   * continuous decode), never lead it, so no block is released while still in a window.
   * Returns how many blocks were released.
   */
  advanced(ids: readonly number[]): number {
    let freed = 0;
    for (const id of ids) {
      const r = this.#running.get(id);
      if (r === undefined || r.computed < r.entry.inputIds.length) continue;
      r.decodeSteps += 1;
      if (this.#slidingWindow <= 0) continue;
      const nextRow = r.computed + r.decodeSteps;
      const outOfWindow = Math.floor((nextRow - this.#slidingWindow + 1) / this.#allocator.blockSize);
      const before = r.allocation.releasedBefore;
      if (outOfWindow > before) {
        r.allocation.releaseBefore(outOfWindow);
        freed += r.allocation.releasedBefore - before;
      }
    }
    return freed;
  }

  /** Partly prefilled requests whose client went away hold blocks but nothing on the shard: finishes and returns them. */
  dropCancelledPrefilling(): Running<E>[] {
    return this.#prefilling.filter((r) => r.entry.cancelled).flatMap((r) => this.finish(r.entry.id) ?? []);
  }

  /** Finishes the cancelled requests of a batch; returns the ids that stay in it. */
  keep(batchIds: readonly number[]): number[] {
    for (const id of batchIds) if (this.#running.get(id)?.entry.cancelled) this.finish(id);
    return batchIds.filter((id) => this.#running.has(id));
  }

  /** Requests of a step that are still running but missing from the batch the shard returned. */
  lost(stepIds: readonly number[], batchIds: readonly number[]): Running<E>[] {
    const alive = new Set(batchIds);
    return stepIds.filter((id) => !alive.has(id)).flatMap((id) => this.#running.get(id) ?? []);
  }

  /**
   * Nothing runs, so every block is free, yet the queue's head was not scheduled: it never will be.
   * Removes and returns it (or undefined when something runs or the queue is empty).
   */
  takeUnfittable(): E | undefined {
    return this.#running.size === 0 ? this.#queue.shift() : undefined;
  }

  /** Releases a request's blocks and forgets it; returns it (undefined when not running). */
  finish(id: number): Running<E> | undefined {
    const r = this.#running.get(id);
    if (r === undefined) return undefined;
    this.#running.delete(id);
    if (r.computed < r.entry.inputIds.length) this.#prefilling = this.#prefilling.filter((p) => p !== r);
    r.allocation.release();
    return r;
  }

  /** Finishes every running request (their batches are gone); returns them. */
  finishAll(): Running<E>[] {
    return this.runningIds().flatMap((id) => this.finish(id) ?? []);
  }

  /** Removes and returns every queued entry (shutdown, suspension). */
  drainQueue(): E[] {
    return this.#queue.drain();
  }

  /** KV rows the running requests still hold: rows released behind a sliding window count no more. */
  #reservedTokens(): number {
    let sum = 0;
    for (const r of this.#running.values()) sum += r.entry.totalTokens - r.allocation.releasedBefore * this.#allocator.blockSize;
    return sum;
  }
}
