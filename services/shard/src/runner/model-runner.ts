// @module Runs the step graph: feeds padded inputs and the KV pools (zero-copy), writes new K/V back, returns logits.
import * as ort from 'onnxruntime-node';
import type { ModelConfig } from '@tessera/model-files';
import type { ProcessGroup } from '../collective/group.ts';
import { STEP_IO } from '../graph/llama.ts';
import type { Batch } from './batch.ts';
import { KvCache, type KvGeometry } from './kv-cache.ts';
import { SegmentPipeline } from './segment-pipeline.ts';
import { prepareStep, type StepSequence } from './step-inputs.ts';

export interface RunnerOptions {
  blockSize: number;
  /** intra-op threads (default: ORT's choice = all cores). */
  threads?: number;
  /** Execution provider (default cpu). */
  device?: 'cpu' | 'cuda' | 'webgpu';
  deviceId?: number;
  /** Tensor parallel (world size > 1): this rank's segment graphs, its KV heads and its process group. */
  parallel?: { segmentPaths: string[]; kvHeads: number; group: ProcessGroup };
}

export interface StepResult {
  /** [rows, vocab] logits of the requested rows. */
  logits: Float32Array;
  vocabSize: number;
  /** Per row, log Σ exp(logits) when the graph computes it (world size 1); else null. */
  logitsLse: Float32Array | null;
  /** Per sequence, its first row in `logits`. */
  logitOffsets: number[];
  forwardNs: number;
  computedTokens: number;
}

export class ModelRunner {
  readonly geometry: KvGeometry;
  #kv: KvCache | null = null;
  #poolFeeds: Record<string, ort.Tensor> = {};

  private constructor(
    readonly session: ort.InferenceSession,
    readonly config: ModelConfig,
    readonly blockSize: number,
    /** Tensor parallel: the segments joined by collectives; null runs `session` as the whole step. */
    readonly pipeline: SegmentPipeline | null = null,
    kvHeads: number = config.numKvHeads,
  ) {
    this.geometry = { numLayers: config.numLayers, blockSize, numKvHeads: kvHeads, headDim: config.headDim };
  }

  /** The tensor-parallel process group, or null at world size 1. */
  get group(): ProcessGroup | null {
    return this.pipeline?.group ?? null;
  }

  static async create(onnxPath: string, config: ModelConfig, opts: RunnerOptions): Promise<ModelRunner> {
    const device = opts.device ?? 'cpu';
    const load = (file: string) =>
      ort.InferenceSession.create(file, {
        executionProviders: [device === 'cpu' ? 'cpu' : { name: device, deviceId: opts.deviceId ?? 0 }],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        interOpNumThreads: 1,
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
        // Each session has its own arena, which keeps its peak (the Warmup prefill) for good: with
        // 2L + 2 segment sessions that multiplied a 50m model's warmup to > 12 GiB per rank (OOM).
        ...(opts.parallel ? { enableCpuMemArena: false } : {}),
      });
    let sessions: ort.InferenceSession[];
    try {
      sessions = [];
      for (const file of opts.parallel?.segmentPaths ?? [onnxPath]) sessions.push(await load(file));
    } catch (err) {
      const why = (err as Error).message ?? String(err);
      throw new Error(device === 'cpu' ? `loading ${onnxPath}: ${why}` : `execution provider "${device}" could not be used: ${why}`);
    }
    if (opts.parallel === undefined) return new ModelRunner(sessions[0]!, config, opts.blockSize);
    const pipeline = new SegmentPipeline(sessions, opts.parallel.group, config.hiddenSize, config.vocabSize);
    return new ModelRunner(sessions[0]!, config, opts.blockSize, pipeline, opts.parallel.kvHeads);
  }

  get kv(): KvCache | null {
    return this.#kv;
  }

  /** (Re)allocates the pools; every cached sequence is invalidated. */
  allocate(numBlocks: number): KvCache {
    this.#kv = null;
    this.#poolFeeds = {};
    const kv = new KvCache(this.geometry, numBlocks);
    const dims = [this.geometry.numKvHeads, numBlocks, this.blockSize, this.config.headDim];
    for (let l = 0; l < this.config.numLayers; l++) {
      this.#poolFeeds[STEP_IO.kCache(l)] = new ort.Tensor('float32', kv.k[l]!, dims);
      this.#poolFeeds[STEP_IO.vCache(l)] = new ort.Tensor('float32', kv.v[l]!, dims);
    }
    this.#kv = kv;
    return kv;
  }

  /** Runs one step over the sequences: their new K/V land in the pools, logits come back. */
  async step(seqs: StepSequence[]): Promise<StepResult> {
    const kv = this.#kv;
    if (kv === null) throw Object.assign(new Error('KV cache not allocated: call Warmup first'), { grpcCode: 9 /* FAILED_PRECONDITION */ });
    const inputs = prepareStep(seqs, this.blockSize, (blocks, pos) => kv.slotOf(blocks, pos));
    const { batch: B, seq: S } = inputs;
    const feeds: Record<string, ort.Tensor> = {
      ...this.#poolFeeds,
      [STEP_IO.inputIds]: new ort.Tensor('int64', inputs.inputIds, [B, S]),
      [STEP_IO.positionIds]: new ort.Tensor('int64', inputs.positionIds, [B, S]),
      [STEP_IO.attentionBias]: new ort.Tensor('float32', inputs.attentionBias, [B, S, inputs.tableBlocks * this.blockSize + S]),
      [STEP_IO.blockTable]: new ort.Tensor('int64', inputs.blockTable, [B, inputs.tableBlocks]),
      [STEP_IO.logitRows]: new ort.Tensor('int64', inputs.logitRows, [inputs.logitRows.length]),
    };
    const started = process.hrtime.bigint();
    const out = this.pipeline ? await this.pipeline.run(feeds) : await this.session.run(feeds);
    const forwardNs = Number(process.hrtime.bigint() - started);
    for (let l = 0; l < this.config.numLayers; l++) {
      kv.writeRows(l, inputs.slots, out[STEP_IO.newK(l)]!.data as Float32Array, out[STEP_IO.newV(l)]!.data as Float32Array);
    }
    return {
      logits: out[STEP_IO.logits]!.data as Float32Array,
      logitsLse: (out[STEP_IO.logitsLse]?.data as Float32Array | undefined) ?? null,
      vocabSize: this.config.vocabSize,
      logitOffsets: inputs.logitOffsets,
      forwardNs,
      computedTokens: seqs.reduce((n, q) => n + q.ids.length, 0),
    };
  }

  /** Computes each request's pending prompt suffix; logits of every new token where prompt logprobs are asked. */
  prefill(batch: Batch): Promise<StepResult> {
    return this.step(batch.requests.map((r) => ({ ids: r.pending, start: r.computed, blocks: r.blocks, allLogits: r.prefillLogprobs })));
  }

  /** Computes the one pending token of each request. */
  decode(batch: Batch): Promise<StepResult> {
    return this.step(batch.requests.map((r) => ({ ids: r.pending, start: r.computed, blocks: r.blocks, allLogits: false })));
  }

  /**
   * Worst-case prefill of `tokens` dummy tokens in one sequence on a scratch pool (so peak activation
   * memory is reached before the pools are sized), then allocates `numBlocks` blocks.
   */
  async warmup(tokens: number, numBlocks: number): Promise<KvCache> {
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
    return this.allocate(numBlocks);
  }

  async release(): Promise<void> {
    this.#kv = null;
    this.#poolFeeds = {};
    if (this.pipeline) await this.pipeline.release();
    else await this.session.release();
  }
}
