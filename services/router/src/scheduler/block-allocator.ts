// @module KV block accounting: a free list, ref counts and prefix reuse of full prompt blocks (no storage).
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.ts';

export interface BlockAllocatorOptions {
  /** Blocks in each shard's KV pool (from Warmup). */
  numBlocks: number;
  /** Tokens per block (from Warmup). */
  blockSize: number;
  /** Reuse full prompt blocks whose (prefix, tokens) were computed before. Default true. */
  prefixCaching?: boolean;
}

/** Blocks that cover a request's prompt + max_new_tokens. Release exactly once, in `finally`. */
export interface BlockAllocation {
  readonly blocks: readonly number[];
  /** Leading prompt tokens whose KV is already in `blocks` (always < prompt length). */
  readonly cacheLen: number;
  /** Leading blocks already returned by releaseBefore (0 when none). */
  readonly releasedBefore: number;
  /**
   * Call after a successful Prefill: the new full prompt blocks become reusable by later prompts
   * (except those already released early: an unhashed released block may hold another request's rows).
   */
  markComputed(): void;
  /**
   * Returns blocks [0, n) early (every layer slides and they fell out of the window); later calls
   * and release() return only what is left. Hashed ones stay cached: their content is intact until evicted.
   */
  releaseBefore(n: number): void;
  /** Returns the blocks; idempotent. Hashed blocks stay cached (LRU-evictable) once unused. */
  release(): void;
}

export interface BlockAllocatorStats {
  totalBlocks: number;
  freeBlocks: number;
  /** Blocks referenced by at least one live allocation. */
  usedBlocks: number;
  /** Unreferenced blocks kept for prefix reuse (evicted LRU when needed). */
  cachedBlocks: number;
  /** Prefill lookups (computed allocations) and those that reused at least one block. */
  prefixQueries: number;
  prefixHits: number;
  prefillTokensComputed: number;
  prefillTokensSkipped: number;
}

export class BlockAllocator {
  readonly blockSize: number;
  readonly numBlocks: number;
  readonly #prefixCaching: boolean;
  readonly #free: number[] = [];
  readonly #refs: Int32Array;
  /** Hash of a block's content (chained over its prefix), for blocks holding a computed prompt block. */
  readonly #hashOf = new Map<number, string>();
  readonly #blockOf = new Map<string, number>();
  /** Hashed blocks with no reference, oldest first (Map keeps insertion order). */
  readonly #evictable = new Map<number, true>();
  #queries = 0;
  #hits = 0;
  #computed = 0;
  #skipped = 0;

  constructor({ numBlocks, blockSize, prefixCaching = true }: BlockAllocatorOptions) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new InvalidArgumentError(`numBlocks must be a positive integer, got ${numBlocks}`);
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new InvalidArgumentError(`blockSize must be a positive integer, got ${blockSize}`);
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.#prefixCaching = prefixCaching;
    this.#refs = new Int32Array(numBlocks);
    // Pop from the end, so hand out low ids first.
    for (let b = numBlocks - 1; b >= 0; b--) this.#free.push(b);
  }

  /** Blocks needed for `tokens` KV rows. */
  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /**
   * Reserves blocks for `promptIds` plus generation up to `totalTokens` rows in all, reusing cached
   * prefix blocks unless `reusePrefix` is false (prompt logprobs need every prompt row computed).
   * Returns null (changing nothing) when they do not fit.
   */
  allocate(promptIds: readonly number[], totalTokens: number, reusePrefix = true): BlockAllocation | null {
    const needed = this.blocksFor(Math.max(totalTokens, promptIds.length));
    const hashes = this.#prefixCaching ? this.#promptBlockHashes(promptIds) : [];
    // Reuse only blocks that end before the last prompt token: that token is always recomputed (its
    // logits are needed) and it must be written into a block this request owns alone.
    const reusable = reusePrefix ? Math.min(hashes.length, Math.floor((promptIds.length - 1) / this.blockSize)) : 0;
    const hits: number[] = [];
    for (let i = 0; i < reusable; i++) {
      const b = this.#blockOf.get(hashes[i]!);
      if (b === undefined) break;
      hits.push(b);
    }
    const hitsEvictable = hits.filter((b) => this.#evictable.has(b)).length;
    const fresh = needed - hits.length;
    if (fresh > this.#free.length + this.#evictable.size - hitsEvictable) return null;
    for (const b of hits) {
      this.#evictable.delete(b);
      this.#refs[b]! += 1;
    }
    const blocks = [...hits];
    for (let i = 0; i < fresh; i++) {
      const b = this.#takeFreeBlock();
      this.#refs[b] = 1;
      blocks.push(b);
    }
    return this.#allocation(blocks, hits.length * this.blockSize, hashes, hits.length, promptIds.length);
  }

  stats(): BlockAllocatorStats {
    return {
      totalBlocks: this.numBlocks,
      freeBlocks: this.#free.length,
      usedBlocks: this.numBlocks - this.#free.length - this.#evictable.size,
      cachedBlocks: this.#evictable.size,
      prefixQueries: this.#queries,
      prefixHits: this.#hits,
      prefillTokensComputed: this.#computed,
      prefillTokensSkipped: this.#skipped,
    };
  }

  #allocation(blocks: number[], cacheLen: number, hashes: string[], hitCount: number, promptLen: number): BlockAllocation {
    let released = false;
    let computed = false;
    let releasedBefore = 0;
    return {
      blocks,
      cacheLen,
      get releasedBefore() {
        return releasedBefore;
      },
      markComputed: () => {
        if (released || computed) return;
        computed = true;
        this.#queries += 1;
        if (hitCount > 0) this.#hits += 1;
        this.#skipped += cacheLen;
        this.#computed += promptLen - cacheLen;
        // Register the prompt's new full blocks; if another request registered the same content
        // first, keep theirs and let ours go back to the free list on release.
        for (let i = Math.max(hitCount, releasedBefore); i < hashes.length; i++) {
          const h = hashes[i]!;
          if (this.#blockOf.has(h)) continue;
          this.#blockOf.set(h, blocks[i]!);
          this.#hashOf.set(blocks[i]!, h);
        }
      },
      releaseBefore: (n) => {
        if (released) return;
        const upTo = Math.min(n, blocks.length);
        for (let i = releasedBefore; i < upTo; i++) this.#unref(blocks[i]!);
        releasedBefore = Math.max(releasedBefore, upTo);
      },
      release: () => {
        if (released) return;
        released = true;
        for (let i = releasedBefore; i < blocks.length; i++) this.#unref(blocks[i]!);
      },
    };
  }

  /**
   * The shards lost their KV (a restart): no block holds a reusable prefix any more. Unreferenced
   * cached blocks become free; referenced ones lose their hash and are freed when released.
   */
  forgetCachedPrefixes(): void {
    for (const b of this.#evictable.keys()) this.#free.push(b);
    this.#evictable.clear();
    this.#hashOf.clear();
    this.#blockOf.clear();
  }

  #unref(b: number): void {
    this.#refs[b]! -= 1;
    if (this.#refs[b]! > 0) return;
    if (this.#hashOf.has(b)) this.#evictable.set(b, true);
    else this.#free.push(b);
  }

  #takeFreeBlock(): number {
    const b = this.#free.pop();
    if (b !== undefined) return b;
    const oldest = this.#evictable.keys().next();
    if (oldest.done) throw new Error('BlockAllocator: no block left (checked before taking; a bug)');
    const victim = oldest.value;
    this.#evictable.delete(victim);
    this.#blockOf.delete(this.#hashOf.get(victim)!);
    this.#hashOf.delete(victim);
    return victim;
  }

  /** Chained hashes of the prompt's full blocks: h_i = H(h_{i-1}, tokens of block i). */
  #promptBlockHashes(ids: readonly number[]): string[] {
    const out: string[] = [];
    let prev = '';
    for (let start = 0; start + this.blockSize <= ids.length; start += this.blockSize) {
      const block = Uint32Array.from(ids.slice(start, start + this.blockSize));
      prev = createHash('sha256').update(prev).update(new Uint8Array(block.buffer)).digest('base64');
      out.push(prev);
    }
    return out;
  }
}
