// @module The per-layer paged K/V pools in host memory (zero-initialised) and their sizing from a byte budget.
import os from 'node:os';
import type { ComputeType } from '../graph/step-io.ts';

const GIB = 1024 ** 3;

export interface KvGeometry {
  numLayers: number;
  blockSize: number;
  numKvHeads: number;
  headDim: number;
  /** Element type of the pools (default float32). */
  dtype?: ComputeType;
}

/** float16 pools hold raw f16 bit patterns. */
export type PoolArray = Float32Array | Uint16Array;

export function bytesPerElement(dtype: ComputeType | undefined): number {
  return dtype === 'float16' ? 2 : 4;
}

/** K and V bytes of one block across all layers. */
export function bytesPerBlock(g: KvGeometry): number {
  return 2 * g.numLayers * g.blockSize * g.numKvHeads * g.headDim * bytesPerElement(g.dtype);
}

/** What the engine and the router see of the pools, wherever they live. */
export interface KvPools {
  readonly geometry: KvGeometry;
  readonly numBlocks: number;
  readonly capacityTokens: number;
  readonly bytes: number;
  slotOf(blocks: ArrayLike<number>, pos: number): number;
}

/** Capacity, size and slot arithmetic of `numBlocks` blocks, wherever (or before) the pools exist. */
export class PoolShape implements KvPools {
  constructor(
    readonly geometry: KvGeometry,
    readonly numBlocks: number,
  ) {}

  get capacityTokens(): number {
    return this.numBlocks * this.geometry.blockSize;
  }

  get bytes(): number {
    return this.numBlocks * bytesPerBlock(this.geometry);
  }

  /** Pool slot of token position `pos` of a sequence that owns `blocks`. */
  slotOf(blocks: ArrayLike<number>, pos: number): number {
    return poolSlot(this.geometry, this.numBlocks, blocks, pos);
  }
}

/** Pool slot (block · blockSize + offset) of token position `pos` of a sequence that owns `blocks`. */
export function poolSlot(g: KvGeometry, numBlocks: number, blocks: ArrayLike<number>, pos: number): number {
  const bs = g.blockSize;
  const block = blocks[Math.floor(pos / bs)];
  if (block === undefined) throw new Error(`position ${pos} is beyond the ${blocks.length} KV blocks reserved`);
  if (block < 0 || block >= numBlocks) throw new Error(`KV block ${block} is outside the pool (0..${numBlocks - 1})`);
  return block * bs + (pos % bs);
}

/** Default budget: 25 % of free memory, at most 2 GiB. */
export function defaultKvBudgetBytes(): number {
  return Math.min(Math.floor(os.freemem() * 0.25), 2 * GIB);
}

/** A fraction (0, 1] of the memory free now (`--kv-cache-memory 0.3`), evaluated at Warmup after the weights are loaded. */
export function fractionOfFreeMemoryBytes(fraction: number): number {
  return Math.floor(os.freemem() * fraction);
}

/** Blocks that fit the budget, but never fewer than one max_total_tokens request needs. */
export function planNumBlocks(g: KvGeometry, budgetBytes: number, maxTotalTokens: number): number {
  const fit = Math.floor(budgetBytes / bytesPerBlock(g));
  const needed = Math.ceil(Math.max(1, maxTotalTokens) / g.blockSize);
  return Math.max(fit, needed);
}

/**
 * Pools of `numKvHeads × numBlocks × blockSize × headDim` per layer (head-major, so the graph gathers a
 * sequence's past as [kvH, B, P, D] without a transpose); slot = block · blockSize + offset.
 */
export class KvCache extends PoolShape {
  readonly k: PoolArray[];
  readonly v: PoolArray[];
  /** Floats per token row (numKvHeads · headDim). */
  readonly rowSize: number;
  /** Floats of one head's pool (numBlocks · blockSize · headDim). */
  readonly #headStride: number;

  constructor(geometry: KvGeometry, numBlocks: number) {
    super(geometry, numBlocks);
    this.rowSize = geometry.numKvHeads * geometry.headDim;
    this.#headStride = numBlocks * geometry.blockSize * geometry.headDim;
    const floats = geometry.numKvHeads * this.#headStride;
    // Zero-filled: padded/masked reads of never-written rows stay finite (0 · NaN would poison softmax).
    const alloc = () => (geometry.dtype === 'float16' ? new Uint16Array(floats) : new Float32Array(floats));
    this.k = Array.from({ length: geometry.numLayers }, alloc);
    this.v = Array.from({ length: geometry.numLayers }, alloc);
  }

  /** Copies token row i of newK/newV ([kvH, rows, D]) into pool slot slots[i]; slots < 0 are padding, skipped. */
  writeRows(layer: number, slots: ArrayLike<number>, newK: PoolArray, newV: PoolArray): void {
    const d = this.geometry.headDim;
    const rows = slots.length;
    const k = this.k[layer]!;
    const v = this.v[layer]!;
    for (let h = 0; h < this.geometry.numKvHeads; h++) {
      for (let i = 0; i < rows; i++) {
        const slot = slots[i]!;
        if (slot < 0) continue;
        const src = (h * rows + i) * d;
        const dst = h * this.#headStride + slot * d;
        k.set(newK.subarray(src, src + d), dst);
        v.set(newV.subarray(src, src + d), dst);
      }
    }
  }
}
