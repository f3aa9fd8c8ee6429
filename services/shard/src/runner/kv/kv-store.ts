// @module Where the KV pools live and how a step feeds and updates them: one interface, its implementation chosen once per runner.
import type * as ort from 'onnxruntime-node';
import type { KvLayout } from '../../graph/step-io.ts';
import type { Device } from '../execution-provider.ts';
import type { KvGeometry, KvPools } from '../kv-cache.ts';
import type { StepOutputs } from '../segment-pipeline.ts';
import type { StepInputs } from '../step-inputs.ts';
import { CompactHostKvStore } from './compact-host.ts';
import { DeviceKvStore } from './device.ts';
import { HostKvStore } from './host.ts';

export type StepFeeds = Record<string, ort.Tensor>;

/** Runs the step graph (or its segments); `fetches` binds outputs to tensors of the caller's (null: return to the host). */
export type GraphRun = (feeds: StepFeeds, fetches?: Record<string, ort.Tensor | null>) => Promise<StepOutputs>;

export interface KvStore {
  /** Which implementation (logs and tests). */
  readonly kind: 'host' | 'compact-host' | 'device';
  /**
   * Warm-up runs one real step on the final pools: a device allocation (or a binding too large for
   * the provider) fails only when first used, and that must fail the start, not the first request.
   */
  readonly checkAfterAllocate: boolean;
  /** (Re)allocates `numBlocks` blocks, freeing the previous pools; every cached sequence is invalidated. */
  allocate(numBlocks: number): KvPools;
  /** The pools once ready, or null before the first allocate(); rejects when allocating them failed. */
  ready(): Promise<KvPools | null>;
  /**
   * Adds the pools to `feeds`, runs the step and stores the new K/V rows it computed into their
   * slots; of the graph's other outputs only `outputs` come back to the host.
   */
  run(step: StepInputs, feeds: StepFeeds, run: GraphRun, outputs: readonly string[]): Promise<StepOutputs>;
  release(): Promise<void>;
}

export interface KvStoreOptions {
  /** The graph's layout (read off its inputs). */
  layout: KvLayout;
  geometry: KvGeometry;
  device: Device;
  deviceId: number;
  /** Host layout: feed only the blocks a step reads (an accelerator uploads every host input each run). */
  compactHostPools: boolean;
}

export function createKvStore(o: KvStoreOptions): KvStore {
  if (o.layout === 'device') return new DeviceKvStore(o.geometry, o.device, o.deviceId);
  return o.compactHostPools ? new CompactHostKvStore(o.geometry) : new HostKvStore(o.geometry);
}
