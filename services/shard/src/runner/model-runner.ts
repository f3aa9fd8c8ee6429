// @module Runs the step graph: feeds the padded inputs, lets the KV store feed and update its pools, returns logits.
import * as ort from 'onnxruntime-node';
import type { ModelConfig } from '@tessera/model-files';
import type { ProcessGroup } from '../collective/group.ts';
import { ExecutionProviderError, NotWarmedUpError } from '../errors.ts';
import { everyLayerSlidingWindow } from '../graph/families/family-blocks.ts';
import { type ComputeType, type KvLayout, STEP_IO } from '../graph/step-io.ts';
import type { Batch } from './batch.ts';
import { describeProviderFailure, type Device, missingForDevice, sessionOptionsFor } from './execution-provider.ts';
import type { KvGeometry, KvPools } from './kv-cache.ts';
import { createKvStore, type GraphRun, type KvStore } from './kv/kv-store.ts';
import { topKServing } from './logit-selection.ts';
import { SegmentPipeline } from './segment-pipeline.ts';
import { prepareStep, type StepSequence } from './step-inputs.ts';
import type { StepResult, StepRunner } from './step-runner.ts';

export type { StepResult } from './step-runner.ts';

export interface RunnerOptions {
  blockSize: number;
  /** intra-op threads (default: ORT's choice = all cores). */
  threads?: number;
  /** Execution provider (default cpu). */
  device?: Device;
  deviceId?: number;
  /** Host KV: feed only the blocks a step reads (default: on accelerators, which upload every host input each run). */
  compactHostPools?: boolean;
  /** Tensor parallel (world size > 1): this rank's segment graphs, its KV heads and its process group. */
  parallel?: { segmentPaths: string[]; kvHeads: number; group: ProcessGroup };
  /** Merged over the session options chosen here (benches compare arena, spinning and thread affinity). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/** The outputs a step brings back besides the KV: whole logits rows, or each row's top-k (logit-selection.ts). */
const ROW_OUTPUTS = [STEP_IO.logits, STEP_IO.logitsLse];
const TOP_OUTPUTS = [STEP_IO.topLogits, STEP_IO.topIds, STEP_IO.logitsLse];

/** Tokens of the CPU warm-up step (see warmup). */
const CPU_WARMUP_TOKENS = 16;

export class ModelRunner implements StepRunner {
  readonly geometry: KvGeometry;
  /** Read from the graph: the KV pools' element type and where they live. */
  readonly dtype: ComputeType;
  readonly kvLayout: KvLayout;
  /** Where the pools live and how a step feeds them; chosen once, from the graph and the device. */
  readonly kv: KvStore;
  readonly #runGraph: GraphRun;
  /** > 0 when every layer slides: steps never gather the blocks behind the window (the router frees them). */
  readonly #everyLayerWindow: number;
  /** The graph selects each row's top-k (world size 1; logit-selection.ts). */
  readonly #selectsTop: boolean;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly config: ModelConfig,
    readonly blockSize: number,
    readonly device: Device,
    readonly deviceId: number,
    /** Tensor parallel: the segments joined by collectives; null runs `session` as the whole step. */
    readonly pipeline: SegmentPipeline | null = null,
    kvHeads: number = config.numKvHeads,
    compactHostPools: boolean = device !== 'cpu',
  ) {
    // At world size > 1 the first segment (the embedding) has no pool input: look through them all.
    const pool = (pipeline?.sessions ?? [session]).flatMap((s) => s.inputMetadata).find((m) => m.name === STEP_IO.kCache(0));
    this.dtype = pool?.isTensor && pool.type === 'float16' ? 'float16' : 'float32';
    this.kvLayout = session.inputNames.includes(STEP_IO.blockOffsets) ? 'device' : 'host';
    this.geometry = { numLayers: config.numLayers, blockSize, numKvHeads: kvHeads, headDim: config.headDim, dtype: this.dtype };
    this.kv = createKvStore({ layout: this.kvLayout, geometry: this.geometry, device, deviceId, compactHostPools });
    this.#everyLayerWindow = everyLayerSlidingWindow(config);
    this.#selectsTop = pipeline === null && session.inputNames.includes(STEP_IO.topK);
    this.#runGraph = pipeline ? (feeds) => pipeline.run(feeds) : (feeds, fetches) => (fetches ? session.run(feeds, fetches) : session.run(feeds));
  }

  /** The tensor-parallel process group, or null at world size 1. */
  get group(): ProcessGroup | null {
    return this.pipeline?.group ?? null;
  }

  static async create(onnxPath: string, config: ModelConfig, opts: RunnerOptions): Promise<ModelRunner> {
    const device = opts.device ?? 'cpu';
    const deviceId = opts.deviceId ?? 0;
    const missing = missingForDevice(device);
    if (missing !== null) throw new ExecutionProviderError(`execution provider "${device}" could not be used: ${missing}`);
    const options: ort.InferenceSession.SessionOptions = {
      ...sessionOptionsFor(device, deviceId, opts.threads),
      // Each session has its own arena, which keeps its peak (the Warmup prefill) for good: with
      // 2L + 2 segment sessions that multiplied a 50m model's warmup to > 12 GiB per rank (OOM).
      ...(opts.parallel ? { enableCpuMemArena: false } : {}),
      ...opts.sessionOptions,
    };
    let sessions: ort.InferenceSession[];
    try {
      sessions = [];
      for (const file of opts.parallel?.segmentPaths ?? [onnxPath]) sessions.push(await ort.InferenceSession.create(file, options));
    } catch (err) {
      if (device !== 'cpu') throw describeProviderFailure(device, err);
      throw new Error(`loading ${onnxPath}: ${(err as Error).message ?? String(err)}`);
    }
    const pipeline = opts.parallel ? new SegmentPipeline(sessions, opts.parallel.group, config.hiddenSize, config.vocabSize) : null;
    return new ModelRunner(sessions[0]!, config, opts.blockSize, device, deviceId, pipeline, opts.parallel?.kvHeads, opts.compactHostPools);
  }

  /** (Re)allocates the pools; every cached sequence is invalidated. Device pools are ready by the next step. */
  allocate(numBlocks: number): KvPools {
    return this.kv.allocate(numBlocks);
  }

  /**
   * Runs one step over the sequences: their new K/V land in the pools, logits come back — with
   * `topK`, only each row's k highest and their ids where the graph selects them (world size 1).
   */
  step(seqs: StepSequence[]): Promise<StepResult & { logits: Float32Array }>;
  step(seqs: StepSequence[], topK: number | null): Promise<StepResult>;
  async step(seqs: StepSequence[], topK: number | null = null): Promise<StepResult> {
    const kv = await this.kv.ready();
    if (kv === null) throw new NotWarmedUpError('KV cache not allocated: call Warmup first');
    const inputs = prepareStep(seqs, this.blockSize, (blocks, pos) => kv.slotOf(blocks, pos), this.#everyLayerWindow);
    const { batch: B, seq: S } = inputs;
    const feeds: Record<string, ort.Tensor> = {
      [STEP_IO.inputIds]: new ort.Tensor('int64', inputs.inputIds, [B, S]),
      [STEP_IO.positionIds]: new ort.Tensor('int64', inputs.positionIds, [B, S]),
      [STEP_IO.attentionBias]: new ort.Tensor('float32', inputs.attentionBias, [B, S, inputs.tableBlocks * this.blockSize + S]),
      [STEP_IO.logitRows]: new ort.Tensor('int64', inputs.logitRows, [inputs.logitRows.length]),
      [STEP_IO.blockTable]: new ort.Tensor('int64', inputs.blockTable, [B, inputs.tableBlocks]),
    };
    const selected = this.#selectsTop && topK !== null;
    // k = 0 when whole rows are fetched: onnxruntime runs every node whatever is fetched, and an
    // unused top-1 would cost ~10 µs per row.
    if (this.#selectsTop) feeds[STEP_IO.topK] = new ort.Tensor('int64', BigInt64Array.of(BigInt(selected ? topK : 0)), [1]);
    const started = process.hrtime.bigint();
    const out = await this.kv.run(inputs, feeds, this.#runGraph, selected ? TOP_OUTPUTS : ROW_OUTPUTS);
    const forwardNs = Number(process.hrtime.bigint() - started);
    return {
      logits: selected ? null : (out[STEP_IO.logits]!.data as Float32Array),
      top: selected ? { k: topK!, logits: out[STEP_IO.topLogits]!.data as Float32Array, ids: out[STEP_IO.topIds]!.data as BigInt64Array } : null,
      logitsLse: (out[STEP_IO.logitsLse]?.data as Float32Array | undefined) ?? null,
      vocabSize: this.config.vocabSize,
      logitOffsets: inputs.logitOffsets,
      forwardNs,
      computedTokens: seqs.reduce((n, q) => n + q.ids.length, 0),
    };
  }

  /** Computes each request's pending prompt suffix; logits of every new token where prompt logprobs are asked. */
  prefill(batch: Batch): Promise<StepResult> {
    const seqs = batch.requests.map((r) => ({ ids: r.pending, start: r.computed, blocks: r.blocks, allLogits: r.prefillLogprobs }));
    return this.step(seqs, topKServing(batch.requests, true, this.config.vocabSize));
  }

  /** Computes the pending token of each request, and its draft (every row's logits then, to verify it). */
  decode(batch: Batch): Promise<StepResult> {
    const seqs = batch.requests.map((r) => ({ ids: r.pending, start: r.computed, blocks: r.blocks, allLogits: r.draft.length > 0 }));
    return this.step(seqs, topKServing(batch.requests, false, this.config.vocabSize));
  }

  /**
   * Worst-case prefill of `tokens` dummy tokens in one sequence on a scratch pool (so peak activation
   * memory is reached before the pools are sized), then allocates `numBlocks` blocks.
   */
  async warmup(budgetTokens: number, numBlocks: number): Promise<KvPools> {
    // A GPU reserves a full-budget prefill's activations up front (so an impossible budget fails the start);
    // the CPU arena grows on demand, so there one short step is enough to initialise kernels and prepack
    // weights — a 4k-token prefill of a 1 B model would cost minutes of every start.
    const tokens = this.device === 'cpu' ? Math.min(budgetTokens, CPU_WARMUP_TOKENS) : budgetTokens;
    // Sequences stay within the RoPE table: a longer budget is split into several padded rows.
    const perSeq = Math.max(1, Math.min(tokens, this.config.maxPositionEmbeddings));
    const seqCount = Math.ceil(Math.max(1, tokens) / perSeq);
    const blocksPerSeq = Math.ceil(perSeq / this.blockSize);
    this.allocate(seqCount * blocksPerSeq);
    const seqs: StepSequence[] = Array.from({ length: seqCount }, (_, i) => ({
      ids: new Array<number>(Math.min(perSeq, tokens - i * perSeq)).fill(0),
      start: 0,
      blocks: Array.from({ length: blocksPerSeq }, (_, j) => i * blocksPerSeq + j),
      allLogits: false,
    }));
    await this.step(seqs);
    const pools = this.allocate(numBlocks);
    if (this.kv.checkAfterAllocate) {
      // One real step on the final pools, so a budget the device cannot allocate or bind (WebGPU caps
      // one storage binding) fails the start, not the first request. It writes a finite row into
      // slot 0, which no sequence reads before writing it itself.
      await this.step([{ ids: [0], start: 0, blocks: [0], allLogits: false }]);
    }
    return pools;
  }

  async release(): Promise<void> {
    await this.kv.release();
    if (this.pipeline) await this.pipeline.release();
    else await this.session.release();
  }
}
