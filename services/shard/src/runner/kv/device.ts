// @module Device-resident KV: the pools stay on the accelerator and the step graph writes its new rows into them in place.
import * as ort from 'onnxruntime-node';
import { STEP_IO } from '../../graph/step-io.ts';
import type { Device } from '../execution-provider.ts';
import { type KvGeometry, PoolShape } from '../kv-cache.ts';
import { deviceKvWrites, type StepInputs } from '../step-inputs.ts';
import { DeviceKvCache } from './device-pools.ts';
import type { GraphRun, KvStore, StepFeeds } from './kv-store.ts';

export class DeviceKvStore implements KvStore {
  readonly kind = 'device';
  readonly checkAfterAllocate = true;
  /** Allocating GPU pools is asynchronous (a session run): allocate() starts it, the next step awaits it. */
  #pools: Promise<DeviceKvCache> | null = null;
  /** 0 … blockSize − 1, from which the graph derives every past slot. */
  readonly #blockOffsets: ort.Tensor;

  constructor(
    readonly geometry: KvGeometry,
    readonly device: Device,
    readonly deviceId: number,
  ) {
    const bs = geometry.blockSize;
    this.#blockOffsets = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: bs }, (_, i) => BigInt(i)),
      [bs],
    );
  }

  allocate(numBlocks: number): PoolShape {
    this.#disposePrevious();
    this.#pools = DeviceKvCache.create(this.geometry, numBlocks, this.device, this.deviceId);
    this.#pools.catch(() => {}); // reported by the step that awaits it
    return new PoolShape(this.geometry, numBlocks);
  }

  async ready(): Promise<DeviceKvCache | null> {
    return this.#pools ? await this.#pools : null;
  }

  async run(step: StepInputs, feeds: StepFeeds, run: GraphRun, outputs: readonly string[]) {
    const kv = await this.ready();
    if (kv === null) throw new Error('device KV pools used before allocate()');
    const d = deviceKvWrites(step);
    const own: StepFeeds = {
      ...feeds,
      [STEP_IO.blockOffsets]: this.#blockOffsets,
      [STEP_IO.writeRows]: new ort.Tensor('int64', d.writeRows, [d.writeRows.length]),
      [STEP_IO.writeSlots]: new ort.Tensor('int64', d.writeSlots, [d.writeSlots.length, 1]),
    };
    // Outputs left null come back to the host; the pools are bound to themselves (written in place).
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const name of outputs) fetches[name] = null;
    for (let l = 0; l < this.geometry.numLayers; l++) {
      own[STEP_IO.kCache(l)] = fetches[STEP_IO.kCacheOut(l)] = kv.k[l]!;
      own[STEP_IO.vCache(l)] = fetches[STEP_IO.vCacheOut(l)] = kv.v[l]!;
    }
    return run(own, fetches);
  }

  async release(): Promise<void> {
    const pools = this.#pools;
    this.#pools = null;
    if (pools) await (await pools.catch(() => null))?.dispose();
  }

  /** Frees the previous pools in the background (a re-warmup replaces them). */
  #disposePrevious(): void {
    const previous = this.#pools;
    this.#pools = null;
    if (previous)
      void previous
        .then(
          (old) => old.dispose(),
          () => {},
        )
        .catch(() => {});
  }
}
