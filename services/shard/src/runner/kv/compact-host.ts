// @module Host-resident KV on an accelerator: each step is fed only the blocks it reads, copied into small pools of their own.
import * as ort from 'onnxruntime-node';
import { STEP_IO } from '../../graph/step-io.ts';
import type { KvCache, PoolArray } from '../kv-cache.ts';
import type { StepInputs } from '../step-inputs.ts';
import { HostKvStore } from './host.ts';
import type { KvStore, StepFeeds } from './kv-store.ts';

export class CompactHostKvStore extends HostKvStore {
  override readonly kind: KvStore['kind'] = 'compact-host';

  protected override poolFeeds(kv: KvCache, step: StepInputs): StepFeeds {
    const c = compactPools(kv, step.blockTable);
    const { numLayers, numKvHeads, blockSize, headDim, dtype = 'float32' } = this.geometry;
    const dims = [numKvHeads, c.blocks, blockSize, headDim];
    const feeds: StepFeeds = { [STEP_IO.blockTable]: new ort.Tensor('int64', c.blockTable, [step.batch, step.tableBlocks]) };
    for (let l = 0; l < numLayers; l++) {
      feeds[STEP_IO.kCache(l)] = new ort.Tensor(dtype, c.k[l]!, dims);
      feeds[STEP_IO.vCache(l)] = new ort.Tensor(dtype, c.v[l]!, dims);
    }
    return feeds;
  }
}

/**
 * The blocks a step reads, copied out of the pools into small pools of their own, with the block
 * table renumbered to match. An accelerator's provider uploads every host input on every run, so
 * feeding the whole pools would move the entire KV budget per step; this moves only what the batch
 * attends to. (On the CPU the pools are fed zero-copy, and this is not used.)
 */
export function compactPools(kv: KvCache, blockTable: BigInt64Array): { k: PoolArray[]; v: PoolArray[]; blockTable: BigInt64Array; blocks: number } {
  const index = new Map<bigint, number>();
  const table = new BigInt64Array(blockTable.length);
  blockTable.forEach((block, i) => {
    let at = index.get(block);
    if (at === undefined) index.set(block, (at = index.size));
    table[i] = BigInt(at);
  });
  const { numKvHeads: kvH, blockSize, headDim } = kv.geometry;
  const blockFloats = blockSize * headDim;
  const used = index.size;
  const copy = (pool: PoolArray): PoolArray => {
    const out = pool instanceof Uint16Array ? new Uint16Array(kvH * used * blockFloats) : new Float32Array(kvH * used * blockFloats);
    for (let h = 0; h < kvH; h++) {
      for (const [block, at] of index) {
        const src = (h * kv.numBlocks + Number(block)) * blockFloats;
        out.set(pool.subarray(src, src + blockFloats), (h * used + at) * blockFloats);
      }
    }
    return out;
  };
  return { k: kv.k.map(copy), v: kv.v.map(copy), blockTable: table, blocks: used };
}
