// @module The waiting queue: FIFO entries and nextBatch(budgets), TGI v3 style (blocks reserved up front).
import type { BlockAllocation } from './block-allocator.ts';

/** What the queue needs to know about a waiting request. */
export interface Schedulable {
  readonly id: number;
  readonly inputIds: readonly number[];
  /** Prompt + max_new_tokens: the KV rows reserved for this request. */
  readonly totalTokens: number;
  /** True once the client went away; such entries are dropped, never scheduled. */
  readonly cancelled: boolean;
  /** False when the whole prompt must be computed (prompt logprobs): no prefix-cache reuse. */
  readonly reusePrefix?: boolean;
}

/** The part of BlockAllocator the queue uses. */
export interface Allocator {
  allocate(promptIds: readonly number[], totalTokens: number, reusePrefix?: boolean): BlockAllocation | null;
}

export interface BatchBudget {
  /** Fewer admitted entries than this → nothing is taken (allocations undone). Null: no minimum. */
  minSize: number | null;
  /** Most entries to take. Null: unlimited. */
  maxSize: number | null;
  /** Most prompt tokens computed by the Prefill (prefix-cache hits are free). */
  prefillTokenBudget: number;
  /**
   * Chunked prefill: an entry whose prompt exceeds what is left of prefillTokenBudget is still taken
   * (as the last one) when at least this many tokens are left, and only its first chunk is computed.
   * The first entry is always chunked when it does not fit. Undefined: no chunking.
   */
  minChunkTokens?: number;
  /** Most tokens (prompt + max_new_tokens) the new batch may reserve. */
  tokenBudget: number;
}

export interface Scheduled<E> {
  entry: E;
  allocation: BlockAllocation;
  /** Prompt tokens this Prefill computes from allocation.cacheLen on: all the rest, or a first chunk. */
  prefillLen: number;
}

export class Queue<E extends Schedulable> {
  #entries: E[] = [];

  get length(): number {
    return this.#entries.length;
  }

  append(entry: E): void {
    this.#entries.push(entry);
  }

  /** Removes and returns cancelled entries (so the caller can close their streams). */
  dropCancelled(): E[] {
    const dropped = this.#entries.filter((e) => e.cancelled);
    if (dropped.length > 0) this.#entries = this.#entries.filter((e) => !e.cancelled);
    return dropped;
  }

  /** Removes and returns the head entry. */
  shift(): E | undefined {
    return this.#entries.shift();
  }

  /** Removes and returns every entry (shutdown). */
  drain(): E[] {
    const all = this.#entries;
    this.#entries = [];
    return all;
  }

  /**
   * Takes entries from the front while they fit the budgets and the allocator. Stops at the first
   * entry that does not fit (FIFO: no overtaking, so a large request is never starved). Returns
   * null when nothing was taken or fewer than `minSize` fit.
   */
  nextBatch(budget: BatchBudget, allocator: Allocator): Scheduled<E>[] | null {
    this.dropCancelled();
    const taken: Scheduled<E>[] = [];
    let prefillTokens = 0;
    let totalTokens = 0;
    for (const entry of this.#entries) {
      if (budget.maxSize !== null && taken.length >= budget.maxSize) break;
      if (totalTokens + entry.totalTokens > budget.tokenBudget) break;
      const allocation = allocator.allocate(entry.inputIds, entry.totalTokens, entry.reusePrefix !== false);
      if (allocation === null) break;
      const computed = entry.inputIds.length - allocation.cacheLen;
      const left = budget.prefillTokenBudget - prefillTokens;
      if (computed > left) {
        const chunkable = budget.minChunkTokens !== undefined && left > 0 && (taken.length === 0 || left >= budget.minChunkTokens);
        if (!chunkable) {
          allocation.release();
          break;
        }
        // The rest of this prompt is prefilled by later Prefill calls; nothing can follow it in this one.
        totalTokens += entry.totalTokens;
        taken.push({ entry, allocation, prefillLen: left });
        break;
      }
      prefillTokens += computed;
      totalTokens += entry.totalTokens;
      taken.push({ entry, allocation, prefillLen: computed });
    }
    if (taken.length === 0 || (budget.minSize !== null && taken.length < budget.minSize)) {
      for (const t of taken) t.allocation.release();
      return null;
    }
    this.#entries = this.#entries.slice(taken.length);
    return taken;
  }
}
