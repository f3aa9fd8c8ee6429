// @module Host-resident KV: the pools are fed zero-copy each step and the graph's new K/V rows are copied into them.
import * as ort from 'onnxruntime-node';
import { STEP_IO } from '../../graph/step-io.ts';
import { KvCache, type KvGeometry, type PoolArray } from '../kv-cache.ts';
import type { StepInputs } from '../step-inputs.ts';
import type { GraphRun, KvStore, StepFeeds } from './kv-store.ts';

export class HostKvStore implements KvStore {
  readonly kind: KvStore['kind'] = 'host';
  readonly checkAfterAllocate = false;
  #pools: KvCache | null = null;
  /** The whole pools as tensors, made once per allocation (zero-copy views of the arrays). */
  #feeds: StepFeeds = {};

  constructor(readonly geometry: KvGeometry) {}

  /** The pools, or null before allocate(). */
  get pools(): KvCache | null {
    return this.#pools;
  }

  allocate(numBlocks: number): KvCache {
    const kv = new KvCache(this.geometry, numBlocks);
    const { numLayers, numKvHeads, blockSize, headDim, dtype = 'float32' } = this.geometry;
    const dims = [numKvHeads, numBlocks, blockSize, headDim];
    this.#feeds = {};
    for (let l = 0; l < numLayers; l++) {
      this.#feeds[STEP_IO.kCache(l)] = new ort.Tensor(dtype, kv.k[l]!, dims);
      this.#feeds[STEP_IO.vCache(l)] = new ort.Tensor(dtype, kv.v[l]!, dims);
    }
    this.#pools = kv;
    return kv;
  }

  async ready(): Promise<KvCache | null> {
    return this.#pools;
  }

  async run(step: StepInputs, feeds: StepFeeds, run: GraphRun, outputs: readonly string[]) {
    const kv = this.#pools;
    if (kv === null) throw new Error('host KV pools used before allocate()');
    const fetches: Record<string, null> = {};
    for (const name of outputs) fetches[name] = null;
    for (let l = 0; l < this.geometry.numLayers; l++) fetches[STEP_IO.newK(l)] = fetches[STEP_IO.newV(l)] = null;
    const out = await run({ ...feeds, ...this.poolFeeds(kv, step) }, fetches);
    for (let l = 0; l < this.geometry.numLayers; l++) {
      kv.writeRows(l, step.slots, out[STEP_IO.newK(l)]!.data as PoolArray, out[STEP_IO.newV(l)]!.data as PoolArray);
    }
    return out;
  }

  /** The pool inputs of one step (they may replace the block table too). */
  protected poolFeeds(_kv: KvCache, _step: StepInputs): StepFeeds {
    return this.#feeds;
  }

  async release(): Promise<void> {
    this.#pools = null;
    this.#feeds = {};
  }
}
